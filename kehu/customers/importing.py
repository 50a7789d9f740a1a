"""Importing customers and contacts from spreadsheets (CUS-8), a chunk of rows at a time.

Each importer checks a chunk of rows — every row through the same ``clean_customer`` /
``clean_contact`` the forms and the API use, then the 查重 keys of ``dedupe`` (credit code, ID number,
normalised name, mobile) against the archive with one query per key per chunk, and against the
rows before it in the same file — and writes a checked chunk with ``bulk_create`` and one audit
event per written record, emitted together. The batch model, the files and the pages live in
``kehu.imports``; the rules about customers live here, next to the services they share.

Decisions (documented in docs/how-to/import.md):

- A duplicate is a row whose credit code, ID number, normalised company name or mobile equals an
  existing live customer's (or an earlier row's). Similar-but-different names are not matched in
  bulk; the form's duplicate check reports those one customer at a time.
- "update" changes only the columns the file has, and only where the cell is not blank: a blank
  cell never erases what is stored. Equal values change nothing (no new version, no audit event),
  so importing the same file twice writes nothing the second time.
- The owner column is for new customers only and must name someone in the importer's data scope;
  an existing customer changes owner through a transfer, never through an import.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, TextChoices
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm
from kehu.access.scope import can, owner_ids_in_scope, require
from kehu.core.bulk import insert_values, update_rows
from kehu.core.errors import KehuError, ValidationError
from kehu.core.events import DomainEvent, emit_many
from kehu.core.sequences import next_values
from kehu.core.tabular import Column, date_text, formula_problem, header_key

from .choices import DERIVED_DIMENSIONS, CustomerKind, Gender, NeedStatus, OptionKind, Relation, Size
from .dedupe_rules import normalize_company_name
from .events import ContactChanged, CustomerChanged
from .models import LIVE, Contact, Customer, Option
from .rules import contact_search_text, customer_search_text, phone_key
from .services import CODE_SEQUENCE, _mask_changes, _refresh_derived, format_code
from .validation import BIRTHDAY_FIELDS, clean_contact, clean_customer

# --- shared pieces ------------------------------------------------------------------------------------


@dataclass
class RowResult:
    """What one row of the file is, or would do: ``create``, ``update``, ``unchanged`` (a duplicate with
    nothing new), ``skip`` (a duplicate left alone) or ``error``."""

    row: int
    values: dict[str, str] = field(default_factory=dict)  # the cells as read
    action: str = "create"
    errors: list[KehuError] = field(default_factory=list)
    # Who/what it duplicates, as far as the importer may know: text, or (lazy message, params) so that
    # it can be shown in either language (see ``duplicate_text``).
    duplicate: Any = ""
    duplicate_kind: str = ""  # "existing" or "file"
    cleaned: dict[str, Any] = field(default_factory=dict)
    target: Any = None  # the existing record a duplicate matched
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass
class WriteCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0


def choice_lookup(choices: type[TextChoices]) -> dict[str, str]:
    """Code, Chinese label and English label of each choice, as the header-style key → code."""
    out: dict[str, str] = {}
    for code, label in choices.choices:
        out[header_key(code)] = code
        for language in ("zh-hans", "en"):
            with translation.override(language):
                out[header_key(str(label))] = code
    return out


def choice_values(choices: type[TextChoices]) -> list[tuple[str, str]]:
    return [(code, str(label)) for code, label in choices.choices if code]


def option_lookup(kind: str) -> tuple[dict[str, Option], list[tuple[str, str]]]:
    """Active options of ``kind`` by code, Chinese label and English label."""
    out: dict[str, Option] = {}
    values = []
    for option in Option.objects.filter(kind=kind, is_active=True):
        for name in (option.code, option.label, option.label_en):
            if name:
                out[header_key(name)] = option
        values.append((option.code, option.label))
    return out, values


BOOLEAN = {
    **{header_key(v): "1" for v in ("是", "yes", "true", "y", "1", "对", "√")},
    **{header_key(v): "0" for v in ("否", "no", "false", "n", "0", "")},
}


def _map(values: dict[str, str], key: str, lookup: dict[str, Any], label: str) -> None:
    """Replace a cell's label by its code; an unknown value is refused with the allowed ones named."""
    raw = values.get(key, "")
    if raw == "":
        return
    found = lookup.get(header_key(raw))
    if found is None:
        raise ValidationError(
            _("%(label)s的取值“%(value)s”无效"), field=key, params={"label": label, "value": raw}
        )
    values[key] = found


def _first_error(check: Callable[[], Any]) -> KehuError | None:
    try:
        check()
    except KehuError as exc:
        return exc
    return None


def duplicate_text(duplicate: Any) -> str:
    """A ``RowResult.duplicate`` in the active language."""
    if isinstance(duplicate, tuple):
        message, params = duplicate
        return str(message) % {k: duplicate_text(v) for k, v in params.items()}
    return str(duplicate)


def _label(customer: Customer, visible: bool) -> Any:
    if visible:
        return f"{customer.code} {customer.name}"
    owner = customer.owner.label if customer.owner_id and customer.owner else _("公海")
    return (_("他人的客户（负责人：%(o)s）"), {"o": owner})


def _collect_errors(
    run: Callable[[dict[str, Any]], Any], values: dict[str, Any], keys: Iterable[str]
) -> list:
    """After a row failed, every field's own error (the row lists all its problems, not only the first)."""
    errors = []
    for key in keys:
        one = {key: values[key]}
        problem = _first_error(functools.partial(run, one))
        if problem is not None:
            errors.append(problem)
    return errors


# --- customers -----------------------------------------------------------------------------------------

CUSTOMER_KEYS = ("credit_code", "id_number", "name_normalized", "mobile")
_ATTNAMES = {"industry": "industry_id", "source": "source_id"}  # cleaned values that are options


class CustomerImporter:
    """Customers from a spreadsheet (CUS-8). ``by`` needs ``data.import`` and ``customer.create``;
    updating duplicates needs ``customer.edit`` and touches only customers ``by`` may edit."""

    kind = "customers"

    def __init__(self, *, by: User) -> None:
        require(by, Perm.DATA_IMPORT)
        require(by, Perm.CUSTOMER_CREATE)
        self.by = by
        self.industries, industry_values = option_lookup(OptionKind.INDUSTRY)
        self.sources, source_values = option_lookup(OptionKind.SOURCE)
        self.lookups = {
            "kind": choice_lookup(CustomerKind),
            "gender": choice_lookup(Gender),
            "size": choice_lookup(Size),
            "relation": choice_lookup(Relation),
            "need_status": choice_lookup(NeedStatus),
            "screened": BOOLEAN,
        }
        self.columns = customer_columns(industry_values, source_values)
        self.labels = {c.key: c.zh for c in self.columns}
        self.scope = owner_ids_in_scope(by)
        self.users = _users_by_name()
        self.seen: dict[tuple[str, str], int] = {}  # (key, value) -> first row of the file

    def owner_for(self, text: str) -> User:
        user = self.users.get(header_key(text))
        if user is None:
            raise ValidationError(_("负责人“%(v)s”不存在或已停用"), field="owner", params={"v": text})
        outside = self.scope is not None and user.pk not in self.scope
        if user.pk != self.by.pk and (not can(self.by, Perm.CUSTOMER_TRANSFER) or outside):
            raise ValidationError(
                _("负责人“%(v)s”不在您的数据范围内，只能填写自己或数据范围内的同事"),
                field="owner",
                params={"v": text},
            )
        return user

    def _clean(self, values: dict[str, str], *, partial: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = dict(values)
        data.pop("owner", None)
        for key, lookup in self.lookups.items():
            if key in data:
                _map(data, key, lookup, self.labels[key])
        for key, options in (("industry", self.industries), ("source", self.sources)):
            if data.get(key):
                option = options.get(header_key(data[key]))
                if option is None:
                    raise ValidationError(
                        _("%(label)s“%(value)s”不存在"),
                        field=key,
                        params={"label": self.labels[key], "value": data[key]},
                    )
                data[key] = option
        if data.get("birthday"):
            data["birthday"] = date_text(data["birthday"])
        return clean_customer(data, current={} if partial else None)

    def _row(self, number: int, values: dict[str, str]) -> RowResult:
        result = RowResult(row=number, values=values)
        for column in self.columns:
            formula = formula_problem(column, values.get(column.key, ""))
            if formula is not None:
                result.errors.append(formula)
        if result.errors:
            return result
        try:
            cleaned = self._clean(values)
        except KehuError as first:
            # Every field's own error, so the user fixes the row once (cross-field rules such as "a
            # company has no ID number" see the row's kind).
            kind = {"kind": values["kind"]} if values.get("kind") else {}
            kind_error = _first_error(functools.partial(self._clean, kind, partial=True)) if kind else None
            errors: list[KehuError] = [kind_error] if kind_error else []
            for key in values:
                if key in ("owner", "kind"):
                    continue
                one = {key: values[key], **({} if kind_error else kind)}
                problem = _first_error(functools.partial(self._clean, one, partial=True))
                if problem is not None:
                    errors.append(problem)
            result.errors = errors or [first]
        else:
            cleaned.pop("tags", None)
            cleaned.pop("owner", None)
            result.cleaned = cleaned
        if values.get("owner"):
            try:
                owner = self.owner_for(values["owner"])
                result.cleaned["owner"] = owner
            except KehuError as exc:
                result.errors.append(exc)
        return result

    def check(self, rows: Sequence[tuple[int, dict[str, str]]], *, lock: bool = False) -> list[RowResult]:
        """Validate ``rows`` and find their duplicates, in the archive and earlier in the file."""
        results = [self._row(number, values) for number, values in rows]
        keys_of: dict[int, list[tuple[str, str]]] = {}
        wanted: dict[str, set[str]] = defaultdict(set)
        for result in results:
            if result.errors:
                continue
            c = result.cleaned
            c["name_normalized"] = normalize_company_name(c["name"])[:120]
            keys = [(k, c[k]) for k in CUSTOMER_KEYS if c.get(k)]
            keys_of[result.row] = keys
            earlier = next((self.seen[k] for k in keys if k in self.seen), None)
            if earlier is not None:
                result.action = "skip"
                result.duplicate_kind = "file"
                result.duplicate = (_("与第 %(n)s 行是同一客户"), {"n": earlier})
                continue
            for k in keys:
                self.seen[k] = result.row
                wanted[k[0]].add(k[1])
        matches = self._existing(wanted, lock=lock)
        editable: set[int] = set()
        visible: set[int] = set()
        if matches:
            ids = [c.pk for c in matches.values()]
            editable = set(
                Customer.objects.editable_by(self.by).filter(pk__in=ids).values_list("pk", flat=True)
            )
            visible = set(
                Customer.objects.visible_to(self.by).filter(pk__in=ids).values_list("pk", flat=True)
            )
        for result in results:
            if result.errors or result.action == "skip":
                continue
            found = {matches[k].pk: matches[k] for k in keys_of[result.row] if k in matches}
            if not found:
                continue
            if len(found) > 1:
                result.errors.append(
                    ValidationError(
                        _("与多个已有客户重复（%(list)s），请先合并这些客户或修改本行"),
                        field="name",
                        code="ambiguous_duplicate",
                        params={
                            "list": "、".join(
                                duplicate_text(_label(c, c.pk in visible)) for c in found.values()
                            )
                        },
                    )
                )
                continue
            target = next(iter(found.values()))
            result.target = target
            result.duplicate_kind = "existing"
            result.duplicate = _label(target, target.pk in visible)
            result.changes = (
                self._changes(target, result.cleaned, result.values) if target.pk in editable else {}
            )
            result.action = "update" if result.changes else "unchanged"
            if target.pk not in editable:
                result.action = "skip"
        return results

    def _existing(self, wanted: dict[str, set[str]], *, lock: bool) -> dict[tuple[str, str], Customer]:
        if not wanted:
            return {}
        q = Q()
        for key, values in wanted.items():
            q |= Q(**{f"{key}__in": sorted(values)})
        rows = Customer.objects.filter(LIVE).filter(q).select_related("owner")
        if lock:
            rows = rows.select_for_update(of=("self",))
        out: dict[tuple[str, str], Customer] = {}
        for customer in rows.order_by("id"):
            for key in CUSTOMER_KEYS:
                value = getattr(customer, key)
                if value and value in wanted.get(key, ()):
                    out.setdefault((key, value), customer)
        return out

    def _changes(self, target: Customer, cleaned: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
        """Field → new value for the row's non-blank cells that differ from the stored customer; the
        kind and the owner never change through an import."""
        changes = {}
        for key, value in cleaned.items():
            if key in ("kind", "owner", "name_normalized") or not values.get(key):
                continue
            if key in ("industry", "source"):
                # Compare ids: reading target.industry would load the option, one query per row.
                differs = getattr(target, f"{key}_id") != (value.pk if value is not None else None)
            else:
                differs = getattr(target, key) != value
            if differs:
                changes[key] = value
        return _with_birthday(changes, cleaned)

    def write(self, results: Sequence[RowResult], *, on_duplicate: str, batch_id: int) -> WriteCounts:
        """Write a checked, error-free chunk (the caller holds the transaction): new customers in bulk,
        duplicates updated when ``on_duplicate == "update"``, one audit event per written customer."""
        counts = WriteCounts()
        now = timezone.now()
        new = [r for r in results if r.action == "create"]
        events: list[DomainEvent] = []
        if new:
            numbers = iter(next_values(CODE_SEQUENCE, len(new)))
            rows = []
            derived: dict[bool, dict[str, Any]] = {}
            for r in new:
                row: dict[str, Any] = {_ATTNAMES.get(k, k): (v.pk if v is not None else None) if k in _ATTNAMES else v
                       for k, v in r.cleaned.items() if k != "owner"}  # fmt: skip
                owner = r.cleaned.get("owner") or self.by
                row.update(owner_id=owner.pk, owner_since=now, created_by_id=self.by.pk, created_at=now, updated_at=now,
                           code=format_code(next(numbers)))  # fmt: skip
                # A new customer has no orders and no overrides: its derived classification (CUS-2)
                # depends on "screened" alone, so the rules run once per value, not once per row.
                screened = bool(row.get("screened"))
                if screened not in derived:
                    probe = Customer(screened=screened)
                    _refresh_derived(probe)
                    derived[screened] = {d: getattr(probe, d) for d in DERIVED_DIMENSIONS}
                row.update(derived[screened])
                row["phone_key"] = phone_key(row.get("phone", ""))
                row["search_text"] = customer_search_text(
                    name=row["name"], code=row["code"], credit_code=row.get("credit_code", ""),
                    mobile=row.get("mobile", ""), phone=row.get("phone", ""), id_number=row.get("id_number", ""),
                    person=row.get("kind") == CustomerKind.INDIVIDUAL,
                )  # fmt: skip
                rows.append(row)
            for r, row, pk in zip(new, rows, insert_values(Customer, rows), strict=True):
                events.append(CustomerChanged(
                    actor_id=self.by.pk, verb="import", subject_type="customer", subject_id=pk,
                    subject_label=f"{row['code']} {row['name']}", customer_id=pk,
                    changes={"import_batch": [None, batch_id], "row": [None, r.row]},
                ))  # fmt: skip
            counts.created = len(new)
        updates = [r for r in results if r.action == "update"]
        if updates and on_duplicate == "update":
            require(self.by, Perm.CUSTOMER_EDIT)
            contact_texts = _contact_texts([r.target.pk for r in updates])
            fields: set[str] = set()
            for r in updates:
                customer = r.target
                before = {k: getattr(customer, k) for k in r.changes}
                for key, value in r.changes.items():
                    setattr(customer, key, value)
                if "screened" in r.changes:
                    _refresh_derived(customer)
                    fields.update(("value_tier", "loyalty", "status", "deal_status"))
                customer.name_normalized = normalize_company_name(customer.name)[:120]
                customer.phone_key = phone_key(customer.phone)
                customer.search_text = _customer_text(customer, contact_texts.get(customer.pk, ()))
                customer.version += 1
                customer.updated_at = now
                fields.update(r.changes)
                changes = {k: [_plain(before[k]), _plain(v)] for k, v in r.changes.items()}
                changes["import_batch"] = [None, batch_id]
                events.append(_event(self.by, "update", customer, _mask_changes(changes)))
            fields.update(("name_normalized", "search_text", "phone_key", "version", "updated_at"))
            update_rows(Customer, [r.target for r in updates], sorted(fields))
            counts.updated = len(updates)
        else:
            counts.skipped += len(updates)
        counts.unchanged = sum(1 for r in results if r.action == "unchanged")
        counts.skipped += sum(1 for r in results if r.action == "skip")
        emit_many(events)
        return counts


def _with_birthday(changes: dict[str, Any], cleaned: dict[str, Any]) -> dict[str, Any]:
    """A changed birthday takes its calendar fields and the derived next celebration with it."""
    if "birthday" in changes:
        changes.update({k: cleaned[k] for k in (*BIRTHDAY_FIELDS, "birthday_next") if k in cleaned})
    return changes


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, (str, bool, int)) else str(value)


def _event(
    by: User, verb: str, customer: Customer, changes: dict[str, Any], *, subject: Any = None
) -> DomainEvent:
    if subject is None:
        return CustomerChanged(
            actor_id=by.pk, verb=verb, subject_type="customer", subject_id=customer.pk,
            subject_label=f"{customer.code} {customer.name}", customer_id=customer.pk, changes=changes,
        )  # fmt: skip
    return ContactChanged(
        actor_id=by.pk, verb=verb, subject_type="contact", subject_id=subject.pk, subject_label=str(subject),
        customer_id=customer.pk, changes=changes,
    )  # fmt: skip


def _customer_text(customer: Customer, contacts: Iterable[str]) -> str:
    return customer_search_text(
        name=customer.name,
        code=customer.code,
        credit_code=customer.credit_code,
        mobile=customer.mobile,
        phone=customer.phone,
        id_number=customer.id_number,
        person=customer.kind == CustomerKind.INDIVIDUAL,
        contacts=contacts,
    )


def _contact_texts(customer_ids: Sequence[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    for customer_id, text in (
        Contact.objects.filter(customer_id__in=customer_ids, deleted_at__isnull=True)
        .order_by("id")
        .values_list("customer_id", "search_text")
    ):
        out[customer_id].append(text)
    return out


def _users_by_name() -> dict[str, User]:
    """Active users by username and by display name (a display name two people share is left out)."""
    users = list(User.objects.filter(is_active=True))
    out: dict[str, User] = {}
    shared: set[str] = set()
    for user in users:
        if user.display_name:
            key = header_key(user.display_name)
            if key in out:
                shared.add(key)
            out[key] = user
    for key in shared:
        out.pop(key, None)
    for user in users:
        out[header_key(user.username)] = user
    return out


def customer_columns(
    industries: Sequence[tuple[str, str]], sources: Sequence[tuple[str, str]]
) -> list[Column]:
    date_note = _("日期格式 YYYY-MM-DD，如 1990-05-20（也接受 1990/5/20）")
    return [
        Column("name", "客户名称", "Name", required=True, example="上海示例科技有限公司",
               note=_("企业全称或个人姓名；查重时忽略公司后缀、括号和全半角")),
        Column("kind", "客户类型", "Kind", text=False, example="企业客户", values=choice_values(CustomerKind),
               note=_("留空为企业客户")),
        Column("credit_code", "统一社会信用代码", "Credit code", text=False, example="91310000MA1FL8TQ36",
               note=_("18 位，校验位须正确；仅企业客户；相同代码视为同一客户")),
        Column("id_number", "身份证号", "ID number", text=False, note=_("仅个人客户；相同号码视为同一客户")),
        Column("mobile", "手机号", "Mobile", text=False, example="13800138000",
               note=_("11 位大陆手机号，可带 +86；相同手机号视为同一客户")),
        Column("phone", "电话", "Phone", text=False, example="021-62345678", note=_("固定电话，可带区号和分机")),
        Column("email", "邮箱", "Email", text=False, example="info@example.com"),
        Column("website", "网址", "Website", text=False),
        Column("wechat", "微信", "WeChat"),
        Column("gender", "性别", "Gender", text=False, values=choice_values(Gender), note=_("个人客户填写")),
        Column("birthday", "生日", "Birthday", text=False, note=date_note),
        Column("industry", "行业", "Industry", text=False, example=industries[0][1] if industries else "",
               values=industries, note=_("填写代码或名称")),
        Column("size", "规模", "Size", text=False, values=choice_values(Size)),
        Column("relation", "客户关系", "Relation", text=False, values=choice_values(Relation),
               note=_("留空为消费者客户")),
        Column("need_status", "需求状态", "Need status", text=False, values=choice_values(NeedStatus),
               note=_("留空为潜在客户（未来需求）")),
        Column("source", "客户来源", "Source", text=False, values=sources, note=_("填写代码或名称")),
        Column("source_detail", "来源说明", "Source detail"),
        Column("screened", "已通过初步筛选", "Screened", text=False, values=[("是", "是"), ("否", "否")],
               note=_("是/否；通过筛选的潜在客户成为目标客户（客户状态、价值等级等由系统根据成交情况推导，不能导入）")),
        Column("province", "省份", "Province", example="上海"),
        Column("city", "城市", "City", example="上海"),
        Column("district", "区县", "District"),
        Column("address", "详细地址", "Address"),
        Column("needs", "需求", "Needs"),
        Column("preferences", "偏好", "Preferences"),
        Column("notes", "备注", "Notes"),
        Column("owner", "负责人", "Owner", text=False,
               note=_("用户名或姓名；留空为导入人；只能填写自己或数据范围内的同事；只用于新客户")),
    ]  # fmt: skip


# --- contacts ------------------------------------------------------------------------------------------

CUSTOMER_REF_KEYS = ("customer_code", "customer_credit_code", "customer")


class ContactImporter:
    """Contacts of existing customers (CUS-3, CUS-8). A row names its customer by 客户编号, 统一社会信用代码
    or name; the customer must be one ``by`` may edit. A contact is the same as an existing one of
    that customer when its mobile (or, without one, its email, or else its name) is the same."""

    kind = "contacts"

    def __init__(self, *, by: User) -> None:
        require(by, Perm.DATA_IMPORT)
        require(by, Perm.CUSTOMER_EDIT)
        self.by = by
        self.columns = contact_columns()
        self.labels = {c.key: c.zh for c in self.columns}
        self.lookups = {"gender": choice_lookup(Gender), "is_primary": BOOLEAN}
        self.seen: dict[tuple[int, str], int] = {}

    def _clean(self, values: dict[str, str]) -> dict[str, Any]:
        data: dict[str, Any] = {k: v for k, v in values.items() if k not in CUSTOMER_REF_KEYS}
        for key, lookup in self.lookups.items():
            if key in data:
                _map(data, key, lookup, self.labels[key])
        if data.get("birthday"):
            data["birthday"] = date_text(data["birthday"])
        return clean_contact(data, partial=True)

    def check(self, rows: Sequence[tuple[int, dict[str, str]]], *, lock: bool = False) -> list[RowResult]:
        results: list[RowResult] = []
        customers = resolve_customers(
            [v for _n, v in rows], editable_by=self.by, numbers=[n for n, _v in rows]
        )
        for number, values in rows:
            result = RowResult(row=number, values=values)
            results.append(result)
            for column in self.columns:
                problem = formula_problem(column, values.get(column.key, ""))
                if problem is not None:
                    result.errors.append(problem)
            if result.errors:
                continue
            customer = customers.get(number)
            if isinstance(customer, KehuError):
                result.errors.append(customer)
            data = {k: v for k, v in values.items() if k not in CUSTOMER_REF_KEYS}
            data.setdefault("name", "")
            try:
                result.cleaned = self._clean(data)
            except KehuError:
                result.errors += _collect_errors(self._clean, data, list(data))
            if not result.errors:
                result.target = customer
        ids = {r.target.pk for r in results if not r.errors}
        existing: dict[tuple[int, str], Contact] = {}
        if ids:
            contacts = Contact.objects.filter(customer_id__in=ids, deleted_at__isnull=True).order_by("id")
            if lock:
                contacts = contacts.select_for_update()
            for contact in contacts:
                existing.setdefault(
                    (contact.customer_id, _contact_key(contact.mobile, contact.email, contact.name)), contact
                )
        for result in results:
            if result.errors:
                continue
            customer = result.target
            c = result.cleaned
            key = (customer.pk, _contact_key(c.get("mobile", ""), c.get("email", ""), c["name"]))
            if key in self.seen:
                result.action, result.duplicate_kind = "skip", "file"
                result.duplicate = (_("与第 %(n)s 行是同一联系人"), {"n": self.seen[key]})
                continue
            self.seen[key] = result.row
            match = existing.get(key)
            result.cleaned["customer"] = customer
            if match is None:
                continue
            result.duplicate_kind = "existing"
            result.duplicate = f"{customer.code} {customer.name} · {match.name}"
            result.target = match
            result.changes = _with_birthday({
                k: v for k, v in c.items()
                if result.values.get(k) and k not in ("customer", "reports_to") and getattr(match, k) != v
            }, c)  # fmt: skip
            result.action = "update" if result.changes else "unchanged"
        return results

    def write(self, results: Sequence[RowResult], *, on_duplicate: str, batch_id: int) -> WriteCounts:
        counts = WriteCounts()
        now = timezone.now()
        events: list[DomainEvent] = []
        new = [r for r in results if r.action == "create"]
        touched: set[int] = set()
        appended: dict[int, list[str]] = defaultdict(list)
        if new:
            customer_ids = {r.cleaned["customer"].pk for r in new}
            has_primary = set(
                Contact.objects.filter(
                    customer_id__in=customer_ids, is_primary=True, deleted_at__isnull=True
                ).values_list("customer_id", flat=True)
            )
            rows = []
            demote: set[int] = set()
            for r in new:
                customer = r.cleaned["customer"]
                row = {k: v for k, v in r.cleaned.items() if k not in ("customer", "reports_to")}
                row.update(customer_id=customer.pk, created_at=now, updated_at=now)
                if customer.pk not in has_primary:
                    row["is_primary"] = True  # the first contact is the primary one (CUS-3)
                    has_primary.add(customer.pk)
                elif row.get("is_primary"):
                    demote.add(customer.pk)
                row["phone_key"] = phone_key(row.get("phone", ""))
                row["search_text"] = contact_search_text(
                    name=row["name"], mobile=row.get("mobile", ""), phone=row.get("phone", ""),
                    email=row.get("email", ""), wechat=row.get("wechat", ""),
                )  # fmt: skip
                rows.append(row)
            if demote:
                # A row marked primary takes over from the customer's current primary contact.
                Contact.objects.filter(customer_id__in=demote, is_primary=True).update(is_primary=False)
                seen_primary: set[int] = set()
                for row in reversed(rows):
                    if row["customer_id"] in demote and row.get("is_primary"):
                        if row["customer_id"] in seen_primary:
                            row["is_primary"] = False
                        seen_primary.add(row["customer_id"])
            for r, row, pk in zip(new, rows, insert_values(Contact, rows), strict=True):
                appended[row["customer_id"]].append(row["search_text"])
                events.append(ContactChanged(
                    actor_id=self.by.pk, verb="import", subject_type="contact", subject_id=pk,
                    subject_label=row["name"], customer_id=row["customer_id"],
                    changes={"import_batch": [None, batch_id], "row": [None, r.row]},
                ))  # fmt: skip
            counts.created = len(new)
        updates = [r for r in results if r.action == "update"]
        if updates and on_duplicate == "update":
            fields: set[str] = set()
            for r in updates:
                contact = r.target
                before = {k: getattr(contact, k) for k in r.changes}
                for key, value in r.changes.items():
                    setattr(contact, key, value)
                contact.phone_key = phone_key(contact.phone)
                contact.search_text = contact_search_text(
                    name=contact.name, mobile=contact.mobile, phone=contact.phone, email=contact.email,
                    wechat=contact.wechat,
                )  # fmt: skip
                contact.version += 1
                contact.updated_at = now
                fields.update(r.changes)
                touched.add(contact.customer_id)
                changes = {k: [_plain(before[k]), _plain(v)] for k, v in r.changes.items()}
                changes["import_batch"] = [None, batch_id]
                events.append(
                    _event(self.by, "update", r.cleaned["customer"], _mask_changes(changes), subject=contact)
                )
            if any(r.changes.get("is_primary") for r in updates):
                promoted = {r.target.customer_id: r.target.pk for r in updates if r.changes.get("is_primary")}
                for customer_id, pk in promoted.items():
                    Contact.objects.filter(customer_id=customer_id, is_primary=True).exclude(pk=pk).update(
                        is_primary=False
                    )
            fields.update(("search_text", "phone_key", "version", "updated_at"))
            update_rows(Contact, [r.target for r in updates], sorted(fields))
            counts.updated = len(updates)
        else:
            counts.skipped += len(updates)
        counts.unchanged = sum(1 for r in results if r.action == "unchanged")
        counts.skipped += sum(1 for r in results if r.action == "skip")
        _refresh_customer_texts(appended=appended, rebuilt=touched - set(appended))
        emit_many(events)
        return counts


def _contact_key(mobile: str, email: str, name: str) -> str:
    if mobile:
        return f"m:{mobile}"
    if email:
        return f"e:{email.lower()}"
    return f"n:{header_key(name)}"


def _refresh_customer_texts(*, appended: dict[int, list[str]], rebuilt: set[int]) -> None:
    """The customers' search text follows their contacts (as ``contact_create`` keeps it): new contacts
    have the highest ids, so their keys go at the end of the stored text; a customer whose contacts
    changed is rebuilt. Derived text: no new version, like ``_refresh_search_text_only``."""
    changed: list[Customer] = []
    if appended:
        for customer in Customer.objects.filter(pk__in=list(appended)).only("id", "search_text"):
            customer.search_text = " ".join([customer.search_text, *appended[customer.pk]]).strip()
            changed.append(customer)
    if rebuilt:
        texts = _contact_texts(sorted(rebuilt))
        for customer in Customer.objects.filter(pk__in=sorted(rebuilt)):
            customer.search_text = _customer_text(customer, texts.get(customer.pk, ()))
            changed.append(customer)
    if changed:
        update_rows(Customer, changed, ["search_text"])


def resolve_customers(rows: Sequence[dict[str, str]], *, editable_by: User | None = None,
                      visible_to: User | None = None, numbers: Sequence[int] | None = None) -> dict[int, Any]:  # fmt: skip
    """The customer each row names (by 客户编号, else 统一社会信用代码, else name) among the customers the
    actor may edit (or see): row number → customer, or the error naming the ``customer`` field.
    One query per chunk."""
    actor = editable_by or visible_to
    assert actor is not None
    base = (
        Customer.objects.editable_by(actor) if editable_by is not None else Customer.objects.visible_to(actor)
    )
    codes, credits, names = set(), set(), set()
    for values in rows:
        if values.get("customer_code"):
            codes.add(values["customer_code"].strip().upper())
        elif values.get("customer_credit_code"):
            credits.add(values["customer_credit_code"].strip().upper())
        elif values.get("customer"):
            names.add(normalize_company_name(values["customer"])[:120])
    found: list[Customer] = []
    if codes or credits or names:
        wanted = (
            Q(code__in=sorted(codes))
            | Q(credit_code__in=sorted(credits))
            | Q(name_normalized__in=sorted(names))
        )
        found = list(
            base.filter(wanted).only("id", "code", "name", "credit_code", "name_normalized", "owner_id")
        )
    by_code = {c.code: c for c in found}
    by_credit = {c.credit_code: c for c in found if c.credit_code}
    by_name: dict[str, list[Customer]] = defaultdict(list)
    for c in found:
        by_name[c.name_normalized].append(c)
    out: dict[int, Any] = {}
    missing = (
        _("客户“%(v)s”不存在或您无权编辑") if editable_by is not None else _("客户“%(v)s”不存在或您无权查看")
    )
    for index, values in enumerate(rows):
        number = numbers[index] if numbers is not None else index
        if values.get("customer_code"):
            ref, customer = values["customer_code"], by_code.get(values["customer_code"].strip().upper())
        elif values.get("customer_credit_code"):
            ref, customer = (
                values["customer_credit_code"],
                by_credit.get(values["customer_credit_code"].strip().upper()),
            )
        elif values.get("customer"):
            ref = values["customer"]
            candidates = by_name.get(normalize_company_name(ref)[:120], [])
            if len(candidates) > 1:
                out[number] = ValidationError(
                    _("有多个名为“%(v)s”的客户，请填写客户编号"), field="customer", code="ambiguous_customer",
                    params={"v": ref},
                )  # fmt: skip
                continue
            customer = candidates[0] if candidates else None
        else:
            out[number] = ValidationError(
                _("请填写客户编号、统一社会信用代码或客户名称"), field="customer", code="customer_required"
            )
            continue
        out[number] = (
            customer
            if customer is not None
            else ValidationError(missing, field="customer", code="customer_not_found", params={"v": ref})
        )
    return out


def customer_ref_columns() -> list[Column]:
    return [
        Column("customer_code", "客户编号", "Customer code", text=False, example="KH00000001",
               note=_("按客户编号、统一社会信用代码或客户名称（三选一，按此顺序）找到客户")),
        Column("customer_credit_code", "客户统一社会信用代码", "Customer credit code", text=False),
        Column("customer", "客户", "Customer", example="上海示例科技有限公司", aliases=("客户名称", "customer name"),
               note=_("客户名称，忽略公司后缀、括号和全半角；重名时请填写客户编号")),
    ]  # fmt: skip


def contact_columns() -> list[Column]:
    refs = customer_ref_columns()
    return [
        *refs,
        Column("name", "姓名", "Name", required=True, example="李明"),
        Column("gender", "性别", "Gender", text=False, values=choice_values(Gender)),
        Column("position", "职务", "Position", example="采购经理"),
        Column("department", "部门", "Department", example="采购部"),
        Column("mobile", "手机号", "Mobile", text=False, example="13900139000",
               note=_("同一客户下手机号相同（无手机号时邮箱相同，再无则姓名相同）视为同一联系人")),
        Column("phone", "电话", "Phone", text=False),
        Column("email", "邮箱", "Email", text=False, example="liming@example.com"),
        Column("wechat", "微信", "WeChat"),
        Column("birthday", "生日", "Birthday", text=False, note=_("日期格式 YYYY-MM-DD")),
        Column("is_primary", "主要联系人", "Primary", text=False, values=[("是", "是"), ("否", "否")],
               note=_("是/否；客户的第一个联系人自动成为主要联系人")),
        Column("notes", "备注", "Notes"),
    ]  # fmt: skip
