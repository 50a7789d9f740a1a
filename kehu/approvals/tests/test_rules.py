"""The pure rules of the approval engine: which flow applies, who the supervisor is, when a step is done."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from kehu.approvals.rules import FlowCandidate, pick_flow, step_done, supervisor_of

D = Decimal
COMPANY = FlowCandidate(id=1, department_id=None, min_amount=None)
COMPANY_BIG = FlowCandidate(id=2, department_id=None, min_amount=D("100000"))
SALES = FlowCandidate(id=3, department_id=10, min_amount=None)
EAST_BIG = FlowCandidate(id=4, department_id=11, min_amount=D("50000"))


def test_a_document_without_department_flows_goes_through_the_company_flow() -> None:
    assert pick_flow([COMPANY], [12, 10, 1], D("10")) == 1


def test_a_department_flow_applies_to_its_sub_departments_unless_they_have_their_own() -> None:
    # 12 is a sub-department of 10 (销售部) without flows of its own.
    assert pick_flow([COMPANY, SALES], [12, 10, 1], D("10")) == 3
    # 11 (华东) has its own flow, from 50,000 on: below that nothing applies — its own flows decide.
    assert pick_flow([COMPANY, SALES, EAST_BIG], [11, 10, 1], D("10")) is None
    assert pick_flow([COMPANY, SALES, EAST_BIG], [11, 10, 1], D("50000")) == 4


def test_the_highest_threshold_reached_wins() -> None:
    flows = [COMPANY, COMPANY_BIG]
    assert pick_flow(flows, [], D("99999.99")) == 1
    assert pick_flow(flows, [], D("100000")) == 2
    # A document without an amount reaches only the flow without threshold.
    assert pick_flow(flows, [], None) == 1


def test_no_flow_no_approval() -> None:
    assert pick_flow([], [11, 10, 1], D("1")) is None


def test_the_supervisor_is_the_department_manager_or_the_next_one_up() -> None:
    assert supervisor_of(7, [3, 2, 1], None) == 3
    # The owner manages their own department: the parent's manager.
    assert supervisor_of(3, [3, 2, 1], None) == 2
    # A department without a manager is skipped.
    assert supervisor_of(7, [None, 2], None) == 2
    # No manager above at all: the direct supervisor; nobody: None.
    assert supervisor_of(7, [None, 7], 5) == 5
    assert supervisor_of(7, [7], None) is None


def test_step_completion_by_kind() -> None:
    assert step_done("any_of", [1, 2, 3], [2])
    assert step_done("supervisor", [4], [4])
    assert not step_done("all_of", [1, 2], [1])
    assert step_done("all_of", [1, 2], [2, 1])
    assert not step_done("any_of", [1, 2], [9])  # an outsider's approval counts for nothing


@given(
    approvers=st.sets(st.integers(1, 20), min_size=1, max_size=6),
    approved=st.sets(st.integers(1, 20), max_size=8),
)
def test_an_all_of_step_is_done_exactly_when_everyone_approved(
    approvers: set[int], approved: set[int]
) -> None:
    assert step_done("all_of", approvers, approved) == (approvers <= approved)
    assert step_done("any_of", approvers, approved) == bool(approvers & approved)
