"""Importing leads from spreadsheets (SAL-1, CUS-8), a chunk of rows at a time — leads from trade shows,
purchased lists, a website's export.

Every row goes through ``clean_lead``, the rule the form, the API and the capture form use, and is
scored by the fraudulent-inquiry check (SAL-2) like any other lead. The owner column takes a username;
blank means the importer, ``线索池``/``pool`` the lead pool (another user needs ``lead.manage``).
A row is the same lead as an open one with the same mobile or e-mail (or an earlier row of the file):
such rows are skipped — a lead is an inquiry that happened, there is nothing to update.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm
from kehu.access.scope import can, require
from kehu.core.errors import KehuError, PermissionDenied, ValidationError
from kehu.core.tabular import Column, formula_problem, header_key
from kehu.customers.choices import OptionKind
from kehu.customers.importing import RowResult, WriteCounts, choice_lookup, choice_values, option_lookup

from .choices import OPEN_STATUSES, Delivery, LeadChannel
from .models import Lead
from .services import _write_lead
from .validation import clean_lead

POOL_WORDS = {header_key(w) for w in ("线索池", "pool", "lead pool", "公海")}


class LeadImporter:
    """Leads entered by ``by``, who needs ``data.import`` and ``lead.edit``."""

    kind = "leads"

    def __init__(self, *, by: User) -> None:
        require(by, Perm.DATA_IMPORT)
        require(by, Perm.LEAD_EDIT)
        self.by = by
        self.sources, source_values = option_lookup(OptionKind.SOURCE)
        self.deliveries = choice_lookup(Delivery)
        self.columns = lead_columns(source_values)
        self.seen: dict[str, int] = {}
        self.users: dict[str, User | None] = {}

    def _owner(self, value: str) -> User | None:
        key = header_key(value)
        if not key:
            return self.by
        if key in POOL_WORDS:
            return None
        if key not in self.users:
            self.users[key] = User.objects.filter(username__iexact=value.strip(), is_active=True).first()
        user = self.users[key]
        if user is None:
            raise ValidationError(_("用户“%(v)s”不存在或已停用"), field="owner", params={"v": value})
        if user.pk != self.by.pk and not can(self.by, Perm.LEAD_MANAGE):
            raise PermissionDenied(_("您不能把线索分配给他人"), field="owner")
        return user

    def _clean(self, values: dict[str, str]) -> dict[str, Any]:
        data: dict[str, Any] = {k: v for k, v in values.items() if k != "owner"}
        if data.get("source"):
            option = self.sources.get(header_key(data["source"]))
            data["source"] = option if option is not None else data["source"]
        if data.get("delivery"):
            data["delivery"] = self.deliveries.get(header_key(data["delivery"]), data["delivery"])
        data.setdefault("contact_name", "")
        cleaned = clean_lead(data)
        cleaned["owner"] = self._owner(values.get("owner", ""))
        return cleaned

    def check(self, rows: Sequence[tuple[int, dict[str, str]]], *, lock: bool = False) -> list[RowResult]:
        results: list[RowResult] = []
        for number, values in rows:
            result = RowResult(row=number, values=values)
            results.append(result)
            for column in self.columns:
                problem = formula_problem(column, values.get(column.key, ""))
                if problem is not None:
                    result.errors.append(problem)
            if result.errors:
                continue
            try:
                result.cleaned = self._clean(values)
            except KehuError as exc:
                result.errors.append(exc)
        keys: dict[int, list[str]] = {}
        for result in results:
            if result.errors:
                continue
            c = result.cleaned
            keys[result.row] = [
                k for k in (f"m:{c.get('mobile', '')}", f"e:{c.get('email', '')}") if len(k) > 2
            ]
        mobiles = {k[2:] for ks in keys.values() for k in ks if k.startswith("m:")}
        emails = {k[2:] for ks in keys.values() for k in ks if k.startswith("e:")}
        existing: dict[str, Lead] = {}
        if mobiles or emails:
            for lead in Lead.objects.filter(
                Q(mobile__in=mobiles) | Q(email__in=emails), status__in=OPEN_STATUSES
            ):
                existing.setdefault(f"m:{lead.mobile}", lead)
                existing.setdefault(f"e:{lead.email}", lead)
        for result in results:
            row_keys = keys.get(result.row)
            if row_keys is None:
                continue
            earlier = next((self.seen[k] for k in row_keys if k in self.seen), None)
            if earlier is not None:
                result.action, result.duplicate_kind = "skip", "file"
                result.duplicate = (_("与第 %(n)s 行是同一条线索"), {"n": earlier})
                continue
            for k in row_keys:
                self.seen[k] = result.row
            match = next((existing[k] for k in row_keys if k in existing), None)
            if match is not None:
                result.action, result.duplicate_kind, result.target = "unchanged", "existing", match
                result.duplicate = f"{match.code} {match.display_name}"
        return results

    def write(self, results: Sequence[RowResult], *, on_duplicate: str, batch_id: int) -> WriteCounts:
        counts = WriteCounts()
        for r in results:
            if r.action != "create":
                continue
            cleaned = dict(r.cleaned)
            owner = cleaned.pop("owner")
            _write_lead(cleaned=cleaned, channel=LeadChannel.IMPORT, owner=owner, by=self.by)
            counts.created += 1
        counts.unchanged = sum(1 for r in results if r.action == "unchanged")
        counts.skipped = sum(1 for r in results if r.action == "skip")
        return counts


def lead_columns(sources: Sequence[tuple[str, str]]) -> list[Column]:
    return [
        Column("company_name", "公司名称", "Company", example="苏州恒瑞精密机械有限公司", note=_("个人询盘可留空")),
        Column("contact_name", "联系人", "Contact", required=True, example="周建国"),
        Column("mobile", "手机号", "Mobile", text=False, example="13912345678"),
        Column("phone", "电话", "Phone", text=False, example="0512-66881234"),
        Column("email", "邮箱", "Email", example="zhoujg@hengrui-jx.com"),
        Column("wechat", "微信", "WeChat"),
        Column("website", "公司网址", "Website", example="www.hengrui-jx.com"),
        Column("province", "省份", "Province", example="江苏"),
        Column("city", "城市", "City", example="苏州"),
        Column("source", "线索来源", "Source", text=False, values=sources, example="展会", note=_("填写代码或名称")),
        Column("delivery", "交付方式", "Delivery", text=False, values=choice_values(Delivery)),
        Column("samples_requested", "索要样品数", "Samples", text=False, example="0"),
        Column("content", "询盘内容", "Inquiry", example="需要数控机床配件，请报价"),
        Column("owner", "负责人", "Owner", note=_("用户名；留空为导入人，填“线索池”放入线索池")),
    ]  # fmt: skip
