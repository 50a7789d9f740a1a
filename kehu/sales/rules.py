"""Pure rules of the pipeline (SAL-3) and the buying centre (SAL-4): no database here.

Services and selectors feed these plain values; tests check them directly (hypothesis where it fits)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kehu.core.errors import ValidationError

from .choices import OPPORTUNITY_TRANSITIONS, BuyingRole, Stance

MAX_OPEN_STAGES = 20
CENT = Decimal("0.01")


# --- stage groups ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StagePlan:
    """One open stage as a stage-group form or API sends it, in board order."""

    name: str
    probability: int
    past_proposal: bool = False
    name_en: str = ""
    id: int | None = None


def validate_stage_plan(stages: Sequence[StagePlan]) -> None:
    """The open stages of a group (SAL-3): at least one, at most ``MAX_OPEN_STAGES``, each named once,
    win rates 0–100 that never fall from one stage to the next (a cumulative win rate: the further a deal
    is, the likelier it closes), and once a stage is past the proposal every later one is too."""
    if not stages:
        raise ValidationError(_("至少需要一个进行中的阶段"), field="stages")
    if len(stages) > MAX_OPEN_STAGES:
        raise ValidationError(_("进行中的阶段最多 %(n)s 个"), field="stages", params={"n": MAX_OPEN_STAGES})
    seen: set[str] = set()
    previous = 0
    past = False
    for position, stage in enumerate(stages, 1):
        name = stage.name.strip()
        if not name:
            raise ValidationError(_("第 %(n)s 个阶段缺少名称"), field="stages", params={"n": position})
        if name in seen:
            raise ValidationError(_("阶段名称“%(name)s”重复"), field="stages", params={"name": name})
        seen.add(name)
        if not 0 <= stage.probability <= 100:
            raise ValidationError(
                _("阶段“%(name)s”的赢率必须在 0 到 100 之间"), field="probability", params={"name": name}
            )
        if stage.probability < previous:
            raise ValidationError(
                _("阶段“%(name)s”的赢率（%(p)s%%）低于前一阶段（%(prev)s%%）：累计赢率不能下降"),
                field="probability",
                params={"name": name, "p": stage.probability, "prev": previous},
            )
        previous = stage.probability
        if past and not stage.past_proposal:
            raise ValidationError(
                _("阶段“%(name)s”在已提交方案的阶段之后，也必须标记为已提交方案"),
                field="past_proposal",
                params={"name": name},
            )
        past = past or stage.past_proposal


def can_move(status_from: str, status_to: str) -> bool:
    """Whether the state table of ``choices.OPPORTUNITY_TRANSITIONS`` allows the move."""
    return status_to in OPPORTUNITY_TRANSITIONS.get(status_from, ())


# --- money ----------------------------------------------------------------------------------------


def parse_decimal(value: Any, *, field: str, default: str = "0") -> Decimal:
    """A non-negative finite decimal from a form or API value; anything else names ``field``."""
    try:
        number = Decimal(str(value if value not in (None, "") else default))
    except (InvalidOperation, ValueError):
        raise ValidationError(_("数值格式不正确"), field=field) from None
    if not number.is_finite() or number < 0:
        raise ValidationError(_("不能为负数"), field=field)
    return number


def line_amount(quantity: Decimal, unit_price: Decimal, discount: Decimal) -> Decimal:
    """A product line's amount: quantity × unit price less the discount (a percentage 0–100)."""
    if not 0 <= discount <= 100:
        raise ValidationError(_("折扣必须在 0 到 100 之间"), field="discount")
    return (quantity * unit_price * (100 - discount) / 100).quantize(CENT)


def weighted(amount: Decimal, probability: int) -> Decimal:
    """The weighted pipeline value: amount × the stage's cumulative win rate."""
    return (amount * probability / 100).quantize(CENT)


def rank_between(above: int | None, below: int | None, *, step: int = 1024) -> int | None:
    """The board rank for a card dropped between two cards (``above`` has the lower rank). ``None`` when
    there is no integer between them: the caller first makes room below."""
    if above is None and below is None:
        return 0
    if above is None:
        assert below is not None
        return below - step
    if below is None:
        return above + step
    if below - above < 2:
        return None
    return (above + below) // 2


# --- buying centre (SAL-4) ------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """A buying-centre member as the rules see it."""

    name: str
    roles: tuple[str, ...]
    stance: str
    influence: int = 3


@dataclass(frozen=True)
class Warning:
    code: str
    message: Promise | str

    def text(self) -> str:
        return str(self.message)


NO_SUPPORTING_DECIDER = "no_supporting_decider"
SINGLE_SUPPORTER = "single_supporter"


def buying_centre_warnings(
    members: Iterable[Member], *, past_proposal: bool, is_open: bool = True
) -> list[Warning]:
    """What is wrong with the buying centre of an open opportunity (SAL-4).

    - Past the proposal stage, at least one decider (决策者) must be a supporter: a proposal nobody who
      decides stands behind is lost on the day of the decision.
    - One supporter is one point of failure ("一个强有力的支持者胜过10个普通的支持者" — and losing the only
      one loses the deal): when the buying centre has exactly one supporter, widen the support.
    A closed opportunity has no warnings."""
    if not is_open:
        return []
    members = list(members)
    supporters = [m for m in members if m.stance == Stance.SUPPORTER]
    warnings: list[Warning] = []
    if past_proposal and not any(BuyingRole.DECIDER in m.roles for m in supporters):
        warnings.append(Warning(NO_SUPPORTING_DECIDER, _("已进入方案阶段，但决策者中没有支持者")))
    if len(supporters) == 1:
        warnings.append(
            Warning(
                SINGLE_SUPPORTER,
                _("只依赖一位支持者（%(name)s）：失去他/她就会失去这个商机，请争取更多支持")
                % {"name": supporters[0].name},
            )
        )
    return warnings


def clean_roles(roles: Iterable[str]) -> list[str]:
    """Known buying-centre roles, each once, in the vocabulary's order; at least one."""
    wanted = {str(r) for r in roles if str(r)}
    unknown = sorted(wanted - set(BuyingRole.values))
    if unknown:
        raise ValidationError(_("未知角色：%(r)s"), field="roles", params={"r": ", ".join(unknown)})
    if not wanted:
        raise ValidationError(_("请至少选择一个角色"), field="roles")
    return [r for r in BuyingRole.values if r in wanted]


def clean_influence(value: Any) -> int:
    try:
        influence = int(value)
    except (TypeError, ValueError):
        raise ValidationError(_("影响力必须是 1 到 5 的整数"), field="influence") from None
    if not 1 <= influence <= 5:
        raise ValidationError(_("影响力必须是 1 到 5 的整数"), field="influence")
    return influence
