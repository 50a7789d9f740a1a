"""Importing interactions (跟进记录) from spreadsheets (ENG-1, CUS-8), a chunk of rows at a time.

A row names its customer (客户编号, 统一社会信用代码 or name — a customer the importer can see) and,
optionally, one of its contacts by name; every row goes through ``clean_interaction``, the rule the
form and the API use. An interaction is the same as an existing one when customer, time (to the
minute), channel and content are equal: such rows are always skipped — an interaction is a fact that
happened, there is nothing to update. Written interactions move the customer's last contact and
next follow-up exactly as ``interaction_create`` does (``customer_record_contact``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm
from kehu.access.scope import require
from kehu.core.bulk import insert_rows
from kehu.core.errors import KehuError
from kehu.core.events import DomainEvent, emit_many
from kehu.core.tabular import Column, date_text, formula_problem, header_key
from kehu.customers.choices import OptionKind
from kehu.customers.importing import (
    RowResult,
    WriteCounts,
    choice_lookup,
    choice_values,
    customer_ref_columns,
    option_lookup,
    resolve_customers,
)
from kehu.customers.models import Contact
from kehu.customers.services import customer_record_contact

from .choices import Direction
from .models import Interaction
from .services import _event, _snapshot
from .validation import clean_interaction


def _minute(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


class InteractionImporter:
    """Interactions of customers ``by`` can see; ``by`` needs ``data.import`` and ``interaction.create``."""

    kind = "interactions"

    def __init__(self, *, by: User) -> None:
        require(by, Perm.DATA_IMPORT)
        require(by, Perm.INTERACTION_CREATE)
        self.by = by
        self.channels, channel_values = option_lookup(OptionKind.CHANNEL)
        self.directions = choice_lookup(Direction)
        self.columns = interaction_columns(channel_values)
        self.labels = {c.key: c.zh for c in self.columns}
        self.seen: dict[tuple[Any, ...], int] = {}

    def _clean(
        self, values: dict[str, str], customer: Any, contacts: dict[tuple[int, str], Any]
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            k: v for k, v in values.items() if k not in ("customer", "customer_code", "customer_credit_code")
        }
        data.setdefault("channel", "")
        data.setdefault("summary", "")
        data.setdefault("occurred_at", "")
        if data.get("channel"):
            data["channel"] = self.channels.get(header_key(data["channel"]), data["channel"])
        if data.get("direction"):
            data["direction"] = self.directions.get(header_key(data["direction"]), data["direction"])
        for key in ("occurred_at", "next_follow_up_on"):
            if data.get(key):
                data[key] = date_text(data[key])
        if data.get("contact"):
            found = contacts.get((customer.pk, header_key(data["contact"])))
            # Not a contact of this customer: the rule's own error ("联系人必须是该客户的联系人").
            data["contact"] = found.pk if found is not None else -1
        return clean_interaction(data, customer=customer)

    def check(self, rows: Sequence[tuple[int, dict[str, str]]], *, lock: bool = False) -> list[RowResult]:
        customers = resolve_customers(
            [v for _n, v in rows], visible_to=self.by, numbers=[n for n, _v in rows]
        )
        ids = {c.pk for c in customers.values() if not isinstance(c, KehuError)}
        contacts: dict[tuple[int, str], Any] = {}
        for contact in Contact.objects.filter(customer_id__in=ids, deleted_at__isnull=True).order_by(
            "-is_primary", "id"
        ):
            contacts.setdefault((contact.customer_id, header_key(contact.name)), contact)
        results: list[RowResult] = []
        for number, values in rows:
            result = RowResult(row=number, values=values)
            results.append(result)
            for column in self.columns:
                problem = formula_problem(column, values.get(column.key, ""))
                if problem is not None:
                    result.errors.append(problem)
            customer = customers.get(number)
            if isinstance(customer, KehuError):
                result.errors.append(customer)
            if result.errors:
                continue
            try:
                result.cleaned = self._clean(values, customer, contacts)
            except KehuError as exc:
                result.errors.append(exc)
                continue
            result.cleaned["customer"] = customer
        keys = {}
        for result in results:
            if result.errors:
                continue
            c = result.cleaned
            keys[result.row] = (c["customer"].pk, _minute(c["occurred_at"]), c["channel"].pk, c["summary"])
        existing: set[tuple[Any, ...]] = set()
        if keys:
            moments = [r.cleaned["occurred_at"] for r in results if r.row in keys]
            for customer_id, at, channel_id, summary in Interaction.objects.filter(
                customer_id__in={k[0] for k in keys.values()},
                occurred_at__gte=min(moments).replace(second=0, microsecond=0),
                occurred_at__lte=max(moments).replace(second=59, microsecond=999999),
                deleted_at__isnull=True,
            ).values_list("customer_id", "occurred_at", "channel_id", "summary"):
                existing.add((customer_id, _minute(at), channel_id, summary))
        for result in results:
            key = keys.get(result.row)
            if key is None:
                continue
            if key in self.seen:
                result.action, result.duplicate_kind = "skip", "file"
                result.duplicate = (_("与第 %(n)s 行是同一条跟进记录"), {"n": self.seen[key]})
                continue
            self.seen[key] = result.row
            if key in existing:
                customer = result.cleaned["customer"]
                result.action, result.duplicate_kind = "unchanged", "existing"
                result.duplicate = f"{customer.code} {customer.name} · {key[1]}"
        return results

    def write(self, results: Sequence[RowResult], *, on_duplicate: str, batch_id: int) -> WriteCounts:
        counts = WriteCounts()
        new = [r for r in results if r.action == "create"]
        now = timezone.now()
        interactions = []
        for r in new:
            data = dict(r.cleaned)
            interaction = Interaction(created_by=self.by, **data)
            interaction.created_at = interaction.updated_at = now
            interactions.append(interaction)
        insert_rows(Interaction, interactions)
        latest: dict[int, Interaction] = {}
        events: list[DomainEvent] = []
        for interaction in interactions:
            current = latest.get(interaction.customer_id)
            if current is None or interaction.occurred_at >= current.occurred_at:
                latest[interaction.customer_id] = interaction
            changes = {
                **{k: [None, v] for k, v in _snapshot(interaction).items() if v},
                "import_batch": [None, batch_id],
            }
            events.append(_event(self.by, "import", interaction, changes))
        for customer_id, interaction in latest.items():
            # The latest imported contact becomes the customer's last contact unless a later one is on record.
            customer_record_contact(
                customer_id=customer_id, at=interaction.occurred_at, next_on=interaction.next_follow_up_on,
                next_action=interaction.next_step, by=self.by,
            )  # fmt: skip
        emit_many(events)
        counts.created = len(new)
        counts.unchanged = sum(1 for r in results if r.action == "unchanged")
        counts.skipped = sum(1 for r in results if r.action == "skip")
        return counts


def interaction_columns(channels: Sequence[tuple[str, str]]) -> list[Column]:
    refs = customer_ref_columns()
    defaults = dict(channels)
    return [
        *refs,
        Column("contact", "联系人", "Contact", example="李明", note=_("该客户的联系人姓名，可留空")),
        Column("channel", "沟通渠道", "Channel", required=True, text=False, values=channels,
               example=defaults.get("phone", channels[0][1] if channels else ""), note=_("填写代码或名称")),
        Column("direction", "方向", "Direction", text=False, values=choice_values(Direction), note=_("留空为我方主动")),
        Column("occurred_at", "沟通时间", "Time", required=True, text=False, example="2026-03-02 14:30",
               note=_("YYYY-MM-DD HH:MM（北京时间），不能晚于现在")),
        Column("summary", "沟通内容", "Summary", required=True, example="电话沟通报价，客户希望月底前收到样品"),
        Column("outcome", "结果", "Outcome"),
        Column("next_step", "下一步", "Next step", example="寄送样品"),
        Column("next_follow_up_on", "下次跟进日期", "Next follow-up", text=False, example="2026-03-20",
               note=_("YYYY-MM-DD，不能早于沟通日期")),
    ]  # fmt: skip
