"""Percentages that add up: each part's share of a whole, rounded to one decimal so that the parts of a whole show
exactly 100.0% between them.

Rounding each share on its own does not: three thirds are 33.3 + 33.3 + 33.3 = 99.9%. The largest-remainder method
rounds every share down to a tenth, then gives the tenths still missing, one each, to the parts that lost the most
by rounding down (ties to the first part listed). Each share stays within a tenth of the exact one.
"""

from collections.abc import Sequence

# Shares are counted in tenths of a percent: one decimal, as every page shows them.
TENTHS = 1000


def shares_in_tenths(counts: Sequence[int], *, whole: int = TENTHS) -> list[int]:
    """Each count's share of their sum in tenths of a percent (or of `whole` tenths); they add up to `whole` exactly
    when the counts add up to more than 0, and are all 0 otherwise."""
    total = sum(counts)
    if total <= 0:
        return [0] * len(counts)
    floors = [count * whole // total for count in counts]
    remainders = [count * whole % total for count in counts]
    missing = whole - sum(floors)
    # The parts that lost the most to rounding down get a tenth each; on a tie the one listed first.
    for index in sorted(range(len(counts)), key=lambda i: -remainders[i])[:missing]:
        floors[index] += 1
    return floors


def percent_shares(counts: Sequence[int]) -> list[float]:
    """Each count's share of their sum in percent with one decimal, adding up to exactly 100.0 (0.0 each when the sum
    is 0)."""
    return [tenths / 10 for tenths in shares_in_tenths(counts)]
