"""The strategies of exploration draw what their names promise (pure logic: no target)."""

from __future__ import annotations

from hypothesis import find, given

from harness.exploration import strategies as S


def test_clock_moves_reach_every_scale_and_shrink_to_a_day():
    assert find(S.clock_moves(), lambda days: True) == 1
    for low, high in ((1, 6), (7, 59), (60, 364), (365, 1100)):
        assert low <= find(S.clock_moves(), lambda days, lo=low, hi=high: lo <= days <= hi) <= high


@given(S.clock_moves())
def test_clock_moves_stay_within_three_years(days):
    assert 1 <= days <= 1100
