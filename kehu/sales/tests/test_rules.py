"""Pure rules of the pipeline (SAL-3) and the buying centre (SAL-4)."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kehu.core.errors import ValidationError
from kehu.sales import rules
from kehu.sales.rules import Member, StagePlan


def _codes(members: list[Member], past: bool = True, is_open: bool = True) -> list[str]:
    return [w.code for w in rules.buying_centre_warnings(members, past_proposal=past, is_open=is_open)]


DECIDER_FOR = Member("李总", ("decider",), "supporter", 5)
BUYER_FOR = Member("王采购", ("buyer",), "supporter", 3)
DECIDER_AGAINST = Member("赵总", ("decider", "buyer"), "opponent", 5)
USER_NEUTRAL = Member("工程师", ("user",), "neutral", 2)


def test_past_the_proposal_a_supporting_decider_is_needed() -> None:
    assert _codes([BUYER_FOR, USER_NEUTRAL, Member("x", ("influencer",), "supporter")]) == [
        "no_supporting_decider"
    ]
    assert _codes([DECIDER_AGAINST, BUYER_FOR, USER_NEUTRAL, Member("y", ("user",), "supporter")]) == [
        "no_supporting_decider"
    ]
    assert _codes([]) == ["no_supporting_decider"]


def test_before_the_proposal_no_decider_is_required() -> None:
    assert _codes([DECIDER_AGAINST, USER_NEUTRAL], past=False) == []


def test_a_single_supporter_is_a_single_point_of_failure() -> None:
    codes = _codes([DECIDER_FOR, DECIDER_AGAINST, USER_NEUTRAL])
    assert codes == ["single_supporter"]
    message = rules.buying_centre_warnings([DECIDER_FOR], past_proposal=False)[0].text()
    assert "李总" in message
    assert _codes([DECIDER_FOR, BUYER_FOR]) == []


def test_a_closed_opportunity_has_no_warnings() -> None:
    assert _codes([BUYER_FOR], is_open=False) == []


members = st.lists(
    st.builds(
        Member,
        name=st.text(min_size=1, max_size=4),
        roles=st.lists(
            st.sampled_from(["user", "influencer", "decider", "buyer", "gatekeeper"]), min_size=1, max_size=3
        ).map(tuple),
        stance=st.sampled_from(["supporter", "neutral", "opponent"]),
        influence=st.integers(1, 5),
    ),
    max_size=8,
)


@given(members, st.booleans())
def test_the_warnings_follow_their_definitions(group: list[Member], past: bool) -> None:
    codes = _codes(group, past)
    supporters = [m for m in group if m.stance == "supporter"]
    assert ("single_supporter" in codes) == (len(supporters) == 1)
    assert ("no_supporting_decider" in codes) == (past and not any("decider" in m.roles for m in supporters))


@given(members)
def test_adding_a_supporting_decider_clears_the_decider_warning(group: list[Member]) -> None:
    assert "no_supporting_decider" not in _codes([*group, DECIDER_FOR])


def test_a_stage_plan_must_not_lose_probability() -> None:
    rules.validate_stage_plan([StagePlan("a", 10), StagePlan("b", 10), StagePlan("c", 80, True)])
    with pytest.raises(ValidationError) as exc:
        rules.validate_stage_plan([StagePlan("a", 50), StagePlan("b", 40)])
    assert exc.value.field == "probability"
    for bad, field in (
        ([StagePlan("a", -1)], "probability"),
        ([StagePlan("a", 101)], "probability"),
        ([], "stages"),
        ([StagePlan(" ", 5)], "stages"),
        ([StagePlan("a", 5), StagePlan("a", 6)], "stages"),
        ([StagePlan("a", 5, True), StagePlan("b", 6, False)], "past_proposal"),
        ([StagePlan(f"s{i}", i) for i in range(21)], "stages"),
    ):
        with pytest.raises(ValidationError) as exc:
            rules.validate_stage_plan(bad)
        assert exc.value.field == field


@given(st.lists(st.integers(0, 100), min_size=1, max_size=20))
def test_a_plan_is_valid_exactly_when_its_rates_never_fall(rates: list[int]) -> None:
    plan = [StagePlan(f"s{i}", p) for i, p in enumerate(rates)]
    ok = all(b >= a for a, b in pairwise(rates))
    try:
        rules.validate_stage_plan(plan)
    except ValidationError:
        assert not ok
    else:
        assert ok


def test_line_amount_and_weighted() -> None:
    assert rules.line_amount(Decimal("3"), Decimal("1200"), Decimal("10")) == Decimal("3240.00")
    assert rules.weighted(Decimal("80000"), 75) == Decimal("60000.00")
    with pytest.raises(ValidationError):
        rules.line_amount(Decimal("1"), Decimal("1"), Decimal("101"))


@given(st.integers(-10_000, 10_000), st.integers(2, 10_000))
def test_a_rank_between_two_cards_lies_strictly_between(above: int, gap: int) -> None:
    rank = rules.rank_between(above, above + gap)
    assert rank is not None and above < rank < above + gap
    assert rules.rank_between(above, above + 1) is None
    assert rules.rank_between(None, above) < above  # type: ignore[operator]
    assert rules.rank_between(above, None) > above  # type: ignore[operator]


def test_roles_and_influence_are_checked() -> None:
    assert rules.clean_roles(["buyer", "decider", "buyer"]) == ["decider", "buyer"]
    with pytest.raises(ValidationError):
        rules.clean_roles([])
    with pytest.raises(ValidationError):
        rules.clean_roles(["boss"])
    with pytest.raises(ValidationError):
        rules.clean_influence(0)
    assert rules.clean_influence("5") == 5
