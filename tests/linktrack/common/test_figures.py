"""Figures in the org's digit grouping: 12,34,567 (Indian) or 1,234,567 (international), through the `figure`
template filter that every report page and the summary email use."""

import pytest
from django.template import Context, Template
from hypothesis import given
from hypothesis import strategies as st

from campaigns.models import Org
from linktrack.common.figures import figure_text, group_digits


@pytest.mark.parametrize(
    ("number", "indian", "international"),
    [
        (0, "0", "0"),
        (999, "999", "999"),
        (1000, "1,000", "1,000"),
        (100000, "1,00,000", "100,000"),
        (1234567, "12,34,567", "1,234,567"),
        (10000000, "1,00,00,000", "10,000,000"),
        (-1234567, "-12,34,567", "-1,234,567"),
    ],
)
def test_numbers_are_grouped_as_people_in_india_read_them_or_internationally(number, indian, international):
    assert group_digits(number, indian=True) == indian
    assert group_digits(number, indian=False) == international


@given(st.integers(min_value=-(10**30), max_value=10**30), st.booleans())
def test_grouping_then_removing_the_commas_gives_the_number_back(number, indian):
    assert int(group_digits(number, indian=indian).replace(",", "")) == number


@given(st.integers(min_value=0, max_value=10**30))
def test_indian_groups_are_three_digits_last_and_pairs_before_them(number):
    *head, last = group_digits(number, indian=True).split(",")
    assert len(last) <= 3
    if head:
        assert len(last) == 3 and 1 <= len(head[0]) <= 2 and all(len(pair) == 2 for pair in head[1:])


def test_decimals_keep_their_decimals_and_words_stay_words():
    assert figure_text(123456.5, indian=True) == "1,23,456.5"
    assert figure_text("84.0", indian=False) == "84.0"
    assert figure_text("–", indian=True) == "–"
    assert figure_text(None, indian=True) == ""


def test_the_figure_filter_follows_the_orgs_setting():
    page = Template("{% load figures %}{{ n|figure:org }}")
    indian, international = Org(name="Acme", indian_number_grouping=True), Org(name="Zed", indian_number_grouping=False)

    assert page.render(Context({"n": 1234567, "org": indian})) == "12,34,567"
    assert page.render(Context({"n": 1234567, "org": international})) == "1,234,567"


@pytest.mark.django_db
def test_orgs_in_india_have_the_indian_grouping_by_default():
    assert Org.objects.create(name="Acme").indian_number_grouping is True
