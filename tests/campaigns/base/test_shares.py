"""Shares that add up: largest-remainder rounding of percentages to one decimal."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from campaigns.base.shares import percent_shares, shares_in_tenths


def test_three_thirds_show_one_hundred_percent_between_them():
    assert percent_shares([1, 1, 1]) == [33.4, 33.3, 33.3]


def test_the_tenth_missing_goes_to_the_share_that_lost_most_to_rounding():
    # 2/7 = 28.571..., 4/7 = 57.142..., 1/7 = 14.285...: rounded down 28.5 + 57.1 + 14.2 = 99.8
    assert percent_shares([2, 4, 1]) == [28.6, 57.1, 14.3]


def test_no_messages_have_no_shares():
    assert percent_shares([0, 0]) == [0.0, 0.0] and percent_shares([]) == []


@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=40).filter(lambda c: sum(c) > 0))
def test_shares_always_add_up_to_exactly_one_hundred_and_stay_within_a_tenth(counts):
    shares = percent_shares(counts)
    # what a page shows: each share written with one decimal, added up as written
    assert sum(Decimal(str(share)) for share in shares) == Decimal("100.0")
    total = sum(counts)
    for count, share in zip(counts, shares, strict=True):
        assert abs(Decimal(str(share)) - Decimal(100 * count) / total) < Decimal("0.1")
        assert share == 0.0 if count == 0 else share >= 0.0


@given(
    st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=20).filter(lambda c: sum(c) > 0),
    st.integers(min_value=0, max_value=1000),
)
def test_a_part_of_the_whole_is_shared_out_exactly(counts, whole):
    assert sum(shares_in_tenths(counts, whole=whole)) == whole
