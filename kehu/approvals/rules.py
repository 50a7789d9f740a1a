"""Pure rules of the approval engine (issue 4, 审批): which flow applies, who is the supervisor, when a
step is done. No ORM here; the services feed these plain values."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from .choices import StepKind


@dataclass(frozen=True)
class FlowCandidate:
    """An active flow of the document type: its department (None: company-wide) and threshold."""

    id: int
    department_id: int | None
    min_amount: Decimal | None


def pick_flow(
    candidates: Iterable[FlowCandidate], chain: Sequence[int], amount: Decimal | None
) -> int | None:
    """The flow that applies to a document of the department whose ancestry is ``chain`` (its own id
    first, the root last): the nearest department in the chain that has flows of its own decides,
    else the company-wide flows. Among that level's flows, the one with the highest ``min_amount``
    the document's amount reaches (no threshold = from zero); None when none is reached — then the
    document needs no approval. A document without an amount reaches only flows without a threshold."""
    by_level: dict[int | None, list[FlowCandidate]] = {}
    for flow in candidates:
        by_level.setdefault(flow.department_id, []).append(flow)
    level: list[FlowCandidate] = []
    for department_id in [*chain, None]:
        if by_level.get(department_id):
            level = by_level[department_id]
            break
    reached = [f for f in level if f.min_amount is None or (amount is not None and amount >= f.min_amount)]
    if not reached:
        return None
    best = max(reached, key=lambda f: (f.min_amount if f.min_amount is not None else Decimal("-1"), -f.id))
    return best.id


def supervisor_of(
    owner_id: int, managers: Sequence[int | None], direct_supervisor_id: int | None
) -> int | None:
    """The owner's supervisor (负责人的上级): the manager of the owner's department (``managers`` lists
    the managers from the owner's department up to the root); when the owner manages it — or it has no
    manager — the next department up that has someone else as manager. Without any, the owner's
    direct supervisor (直属上级). None when nobody is above the owner."""
    for manager_id in managers:
        if manager_id is not None and manager_id != owner_id:
            return manager_id
    if direct_supervisor_id is not None and direct_supervisor_id != owner_id:
        return direct_supervisor_id
    return None


def step_done(kind: str, approver_ids: Iterable[int], approved_ids: Iterable[int]) -> bool:
    """Whether a step is decided by the approvals so far: 任一人 and the supervisor step by one
    approval, 所有人 once every named approver approved."""
    approvers, approved = set(approver_ids), set(approved_ids)
    if not approved & approvers:
        return False
    if kind == StepKind.ALL_OF:
        return approvers <= approved
    return True


def clean_comment(text: str | None) -> str:
    return (text or "").strip()


def step_users_required(kind: str) -> bool:
    """Named-user steps need at least one user; the supervisor step is resolved from the owner."""
    return kind in (StepKind.ANY_OF, StepKind.ALL_OF)
