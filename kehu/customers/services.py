"""Writes to the customer archive (CUS-1…3, CUS-5, CUS-7 ownership, SEC-2/3/6).

Every function: ``require`` first, validation before any write, one transaction,
an event (→ audit log) last. Pages, API and the command line all call these.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm
from kehu.access.scope import can, require
from kehu.access.selectors import user_get_active
from kehu.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from kehu.core.events import diff, emit
from kehu.core.sequences import next_values

from .choices import CLASSIFICATION_DIMENSIONS, DERIVED_DIMENSIONS, CustomerKind
from .dedupe import find_duplicates
from .dedupe_rules import normalize_company_name
from .errors import DuplicateFound
from .events import ContactChanged, CustomerChanged
from .extensions import merge_moves
from .models import Contact, Customer, CustomerCollaborator
from .rules import OrderFacts, contact_search_text, customer_search_text, derive_all, phone_key
from .selectors import customer_get_editable
from .validation import BIRTHDAY_FIELDS, CUSTOMER_FIELDS, clean_contact, clean_customer, clean_tags

CODE_SEQUENCE = "customer_code"
# Every customer field a user edits, except tags and owner (they have their own audit entries).
AUDITED_FIELDS = sorted(CUSTOMER_FIELDS - {"tags", "owner"})
SENSITIVE_FIELDS = {"mobile", "id_number"}


def _user(value: User | int | str, *, field: str, include_inactive: bool = False) -> User:
    """A user given as object or id, resolved only after the permission check (no id probing)."""
    if isinstance(value, User):
        if not value.is_active and not include_inactive:
            raise ValidationError(_("用户不存在或已停用"), field=field)
        return value
    return user_get_active(user_id=value, field=field, include_inactive=include_inactive)


def format_code(number: int) -> str:
    return f"KH{number:08d}"


def _snapshot(customer: Customer) -> dict[str, Any]:
    snap: dict[str, Any] = {}
    for f in AUDITED_FIELDS:
        value = getattr(customer, f)
        snap[f] = str(value) if value is not None and not isinstance(value, (str, bool, int)) else value
    return snap


def _mask_changes(changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The audit log records that a mobile/ID changed, not the numbers themselves (SEC-2)."""
    from kehu.core.identity import mask_id_number, mask_mobile

    out = dict(changes)
    for f in SENSITIVE_FIELDS & set(out):
        masker = mask_mobile if f == "mobile" else mask_id_number
        out[f] = [masker(v) if v else v for v in out[f]]
    return out


def _event(
    by: User | None,
    verb: str,
    customer: Customer,
    changes: dict | None = None,
    cls: type = CustomerChanged,
    subject: Any = None,
) -> Any:
    subject = subject or customer
    return cls(
        actor_id=by.pk if by else None,
        verb=verb,
        subject_type="customer" if subject is customer else type(subject).__name__.lower(),
        subject_id=subject.pk,
        subject_label=str(subject),
        customer_id=customer.pk,
        changes=changes or {},
    )


def _refresh_derived(customer: Customer) -> None:
    """Apply the CUS-2 derivation rules to every derived dimension not overridden by a user."""
    facts = OrderFacts(
        first_order_date=customer.first_order_date,
        last_order_date=customer.last_order_date,
        order_count=customer.order_count,
        revenue_12m=customer.revenue_12m,
        screened=customer.screened,
        has_open_opportunity=customer.has_open_opportunity,
    )
    for dim, derived in derive_all(facts, today=timezone.localdate()).items():
        if dim not in (customer.overrides or {}):
            setattr(customer, dim, derived.value)


def _refresh_search(customer: Customer) -> None:
    """The derived lookup columns: normalised name (查重), search text (CUS-6), phone key (SVC-3)."""
    customer.name_normalized = normalize_company_name(customer.name)[:120]
    customer.phone_key = phone_key(customer.phone)
    contacts = (
        Contact.objects.filter(customer_id=customer.pk, deleted_at__isnull=True)
        .order_by("id")
        .values_list("search_text", flat=True)
        if customer.pk
        else []
    )
    customer.search_text = customer_search_text(
        name=customer.name,
        code=customer.code,
        credit_code=customer.credit_code,
        mobile=customer.mobile,
        phone=customer.phone,
        id_number=customer.id_number,
        person=customer.kind == CustomerKind.INDIVIDUAL,
        contacts=contacts,
    )


def _refresh_search_text_only(customer: Customer) -> None:
    """After a contact changed: the customer's search text follows, without a new version — it is
    derived, not something a user edits, so a user's edit based on the old version is still valid."""
    _refresh_search(customer)
    Customer.objects.filter(pk=customer.pk).update(search_text=customer.search_text)


def _check_duplicates(*, by: User, cleaned: dict[str, Any], exclude_id: int | None, confirmed: bool) -> None:
    matches = find_duplicates(
        actor=by,
        name=cleaned.get("name", ""),
        credit_code=cleaned.get("credit_code", ""),
        mobile=cleaned.get("mobile", ""),
        id_number=cleaned.get("id_number", ""),
        exclude_id=exclude_id,
    )
    blocking = [m for m in matches if m.blocking]
    if blocking:
        raise DuplicateFound(matches, blocking=True)
    # CUS-5: every likely duplicate (same mobile/ID/normalised name, or a very similar name) is shown
    # before saving; only the credit code blocks outright.
    if matches and not confirmed:
        raise DuplicateFound(matches, blocking=False)


@transaction.atomic
def customer_create(*, data: dict[str, Any], by: User, confirm_duplicates: bool = False) -> Customer:
    """Create a customer owned by ``by`` (or the given owner); refuses exact duplicates (CUS-5)."""
    require(by, Perm.CUSTOMER_CREATE)
    cleaned = clean_customer(data)
    # clean_customer always returns an "owner" key on create; only an explicit one overrides the caller.
    given_owner = cleaned.pop("owner", None)
    owner = given_owner if "owner" in data else by
    if owner is not None and owner.pk != by.pk and not can(by, Perm.CUSTOMER_TRANSFER):
        raise PermissionDenied(_("您不能把客户指定给他人"), field="owner")
    if owner is None and not can(by, Perm.CUSTOMER_TRANSFER):
        raise PermissionDenied(_("您不能直接创建公海客户"), field="owner")
    tag_names = cleaned.pop("tags", None)
    _check_duplicates(by=by, cleaned=cleaned, exclude_id=None, confirmed=confirm_duplicates)
    now = timezone.now()
    customer = Customer(**cleaned, owner=owner, owner_since=now if owner else None, created_by=by)
    customer.code = format_code(next_values(CODE_SEQUENCE)[0])
    _refresh_derived(customer)
    _refresh_search(customer)
    customer.save()
    tags = clean_tags(tag_names)
    if tags:
        customer.tags.set(tags)
    emit(
        _event(
            by,
            "create",
            customer,
            _mask_changes(
                diff({}, {**_snapshot(customer), "owner": str(owner or ""), "tags": [t.name for t in tags]})
            ),
        )
    )
    return customer


@transaction.atomic
def customer_update(
    *, customer_id: int, version: int | None, data: dict[str, Any], by: User, confirm_duplicates: bool = False
) -> Customer:
    """Partial update with optimistic locking: a stale ``version`` raises Conflict (API 409)."""
    require(by, Perm.CUSTOMER_EDIT)
    customer = customer_get_editable(customer_id=customer_id, by=by)
    if "owner" in data:
        raise ValidationError(_("请通过“转移客户”更换负责人"), field="owner")
    if version is not None and version != customer.version:
        raise Conflict(
            _("该记录已被他人修改（当前版本与您编辑的版本 %(version)s 不一致），请刷新后重试"),
            field="version",
            code="stale_version",
            params={"version": version},
        )
    current = {"kind": customer.kind, "credit_code": customer.credit_code, "id_number": customer.id_number}
    current.update({k: getattr(customer, k) for k in BIRTHDAY_FIELDS})
    cleaned = clean_customer(data, current=current)
    tag_names = cleaned.pop("tags", None)
    identity = {
        k: cleaned.get(k, getattr(customer, k)) for k in ("name", "credit_code", "mobile", "id_number")
    }
    changed_identity = any(identity[k] != getattr(customer, k) for k in identity)
    if changed_identity:
        _check_duplicates(by=by, cleaned=identity, exclude_id=customer.pk, confirmed=confirm_duplicates)
    before = _snapshot(customer)
    for key, value in cleaned.items():
        setattr(customer, key, value)
    _refresh_derived(customer)
    _refresh_search(customer)
    fields = [*cleaned, *DERIVED_DIMENSIONS, "name_normalized", "search_text", "phone_key"]
    customer.save_versioned(expected_version=version, fields=list(dict.fromkeys(fields)))
    changes = diff(before, _snapshot(customer))
    if tag_names is not None:
        old_tags = sorted(customer.tags.values_list("name", flat=True))
        tags = clean_tags(tag_names)
        customer.tags.set(tags)
        if old_tags != sorted(t.name for t in tags):
            changes["tags"] = [old_tags, sorted(t.name for t in tags)]
    if changes:
        emit(_event(by, "update", customer, _mask_changes(changes)))
    return customer


@transaction.atomic
def customer_classify(
    *, customer_id: int, version: int | None, dimension: str, value: str | None, reason: str, by: User
) -> Customer:
    """Override a classification dimension with a reason (CUS-2); ``value=None`` returns to the derived value."""
    require(by, Perm.CUSTOMER_CLASSIFY)
    customer = customer_get_editable(customer_id=customer_id, by=by)
    choices = CLASSIFICATION_DIMENSIONS.get(dimension)
    if choices is None:
        raise ValidationError(_("分类维度“%(d)s”无效"), field="dimension", params={"d": dimension})
    if value is not None and value not in choices.values:
        raise ValidationError(_("分类取值“%(v)s”无效"), field="value", params={"v": value})
    reason = (reason or "").strip()
    if value is not None and not reason:
        raise ValidationError(_("人工调整分类必须填写原因"), field="reason")
    old_value = getattr(customer, dimension)
    overrides = dict(customer.overrides or {})
    if value is None:
        overrides.pop(dimension, None)
        customer.overrides = overrides
        _refresh_derived(customer)
        if dimension not in DERIVED_DIMENSIONS:
            setattr(customer, dimension, old_value)
    else:
        overrides[dimension] = {
            "value": value,
            "reason": reason,
            "by": by.label,
            "by_id": by.pk,
            "at": timezone.now().isoformat(),
        }
        customer.overrides = overrides
        setattr(customer, dimension, value)
    customer.save_versioned(expected_version=version, fields=[dimension, "overrides", *DERIVED_DIMENSIONS])
    emit(
        _event(
            by,
            "classify",
            customer,
            {dimension: [old_value, getattr(customer, dimension)], "reason": [None, reason or None]},
        )
    )
    return customer


@transaction.atomic
def customer_transfer(*, customer_id: int, to_user: User | int | str, reason: str, by: User) -> Customer:
    """Give the customer a new owner, recording the reason (CUS-7). ``to_user`` may be a user or an id."""
    require(by, Perm.CUSTOMER_TRANSFER)
    customer = customer_get_editable(customer_id=customer_id, by=by)
    to_user = _user(to_user, field="to_user")
    if not to_user.is_active:
        raise ValidationError(_("新负责人已停用"), field="to_user")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("转移客户必须填写原因"), field="reason")
    if customer.owner_id == to_user.pk:
        raise ValidationError(_("新负责人与当前负责人相同"), field="to_user")
    old_owner = customer.owner.label if customer.owner else None
    customer.owner = to_user
    customer.owner_since = timezone.now()
    customer.save_versioned(expected_version=None, fields=["owner", "owner_since"])
    emit(_event(by, "transfer", customer, {"owner": [old_owner, to_user.label], "reason": [None, reason]}))
    from .pool import _tell_new_owner

    _tell_new_owner(customer, to_user, by)
    return customer


@transaction.atomic
def collaborator_set(
    *, customer_id: int, user: User | int | str, can_edit: bool, by: User
) -> CustomerCollaborator:
    """Add (or change) a collaborator, read-only or read-write."""
    require(by, Perm.CUSTOMER_EDIT)
    customer = customer_get_editable(customer_id=customer_id, by=by)
    user = _user(user, field="user_id")
    if user.pk == customer.owner_id:
        raise ValidationError(_("负责人无需添加为协作人"), field="user")
    collab, created = CustomerCollaborator.objects.update_or_create(
        customer=customer, user=user, defaults={"can_edit": can_edit}
    )
    emit(
        _event(
            by,
            "collaborator_add" if created else "collaborator_update",
            customer,
            {"collaborator": [None, user.label], "can_edit": [None, can_edit]},
        )
    )
    return collab


@transaction.atomic
def collaborator_remove(*, customer_id: int, user: User | int | str, by: User) -> None:
    require(by, Perm.CUSTOMER_EDIT)
    customer = customer_get_editable(customer_id=customer_id, by=by)
    user = _user(user, field="user_id", include_inactive=True)
    deleted, _n = CustomerCollaborator.objects.filter(customer=customer, user=user).delete()
    if deleted:
        emit(_event(by, "collaborator_remove", customer, {"collaborator": [user.label, None]}))


@transaction.atomic
def customer_delete(*, customer_id: int, by: User) -> Customer:
    """Move to the recycle bin (SEC-6)."""
    require(by, Perm.CUSTOMER_DELETE)
    customer = customer_get_editable(customer_id=customer_id, by=by)
    customer.deleted_at = timezone.now()
    customer.deleted_by = by
    customer.save_versioned(expected_version=None, fields=["deleted_at", "deleted_by"])
    emit(_event(by, "delete", customer))
    return customer


def _recycled(*, customer_id: int, by: User) -> Customer:
    customer = Customer.objects.recycled_visible_to(by).filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(_("回收站中没有该客户"), field="id")
    return customer


@transaction.atomic
def customer_restore(*, customer_id: int, by: User) -> Customer:
    require(by, Perm.CUSTOMER_RESTORE)
    customer = _recycled(customer_id=customer_id, by=by)
    customer.deleted_at = None
    customer.deleted_by = None
    customer.save_versioned(expected_version=None, fields=["deleted_at", "deleted_by"])
    emit(_event(by, "restore", customer))
    return customer


@transaction.atomic
def customer_purge(*, customer_id: int, by: User) -> None:
    """Remove a recycled customer for good; its audit history stays (SEC-3)."""
    require(by, Perm.CUSTOMER_PURGE)
    customer = _recycled(customer_id=customer_id, by=by)
    emit(_event(by, "purge", customer))
    customer.delete()


@transaction.atomic
def customers_purge_expired(*, days: int | None = None, by: User | None = None) -> int:
    """Purge everything that has sat in the recycle bin longer than ``days`` (``kehu purge``)."""
    days = settings.KEHU_RECYCLE_BIN_DAYS if days is None else days
    cutoff = timezone.now() - timedelta(days=days)
    expired = list(Customer.objects.filter(deleted_at__lt=cutoff))
    emit(*[_event(by, "purge", c, {"reason": [None, f"recycle bin > {days} days"]}) for c in expired])
    Customer.objects.filter(pk__in=[c.pk for c in expired]).delete()
    return len(expired)


@transaction.atomic
def customer_merge(*, keep_id: int, drop_id: int, by: User) -> Customer:
    """Merge ``drop`` into ``keep`` (CUS-5, "without losing any history"): contacts, tags and collaborators
    move, and so do the records of the higher domains (orders, opportunities, interactions, tickets, …:
    each registers a ``MergeMove``); blank fields are filled; ``keep``'s last contact is the later of
    the two; ``drop`` is marked merged, and its audit history shows on ``keep``'s timeline."""
    require(by, Perm.CUSTOMER_MERGE)
    if keep_id == drop_id:
        raise ValidationError(_("不能把客户与自己合并"), field="drop_id")
    keep = customer_get_editable(customer_id=keep_id, by=by)
    drop = customer_get_editable(customer_id=drop_id, by=by)
    filled: dict[str, list[Any]] = {}
    if not keep.birthday_value.known and drop.birthday_value.known:
        # The birthday is one value (calendar and its fields): taken whole, never mixed.
        for f in (*BIRTHDAY_FIELDS, "birthday_next"):
            if getattr(keep, f) != getattr(drop, f):
                filled[f] = [str(getattr(keep, f)), str(getattr(drop, f))]
            setattr(keep, f, getattr(drop, f))
        filled.pop("birthday_next", None)  # derived; saved below with the rest
    for f in AUDITED_FIELDS:
        if f == "kind" or f in BIRTHDAY_FIELDS:
            continue
        if getattr(keep, f) in ("", None) and getattr(drop, f) not in ("", None):
            if f == "credit_code":
                # The credit code is unique among live customers; take it only after drop is retired.
                pass
            setattr(keep, f, getattr(drop, f))
            filled[f] = [None, str(getattr(drop, f))]
    moved_contacts = Contact.objects.filter(customer=drop).update(customer=keep, is_primary=False)
    keep.tags.add(*drop.tags.all())
    for collab in CustomerCollaborator.objects.filter(customer=drop):
        if collab.user_id != keep.owner_id:
            CustomerCollaborator.objects.get_or_create(
                customer=keep, user=collab.user, defaults={"can_edit": collab.can_edit}
            )
    if drop.owner_id and drop.owner_id != keep.owner_id:
        CustomerCollaborator.objects.get_or_create(customer=keep, user_id=drop.owner_id)
    moved: dict[str, int] = {}
    for step in merge_moves():
        moved.update(step.move(drop, keep, by))
    contact_fields = ("last_contact_at", "next_follow_up_on", "next_follow_up_action")
    if drop.last_contact_at and (keep.last_contact_at is None or drop.last_contact_at > keep.last_contact_at):
        # Derived from the interactions, which moved above: no version bump (customer_record_contact).
        Customer.objects.filter(pk=keep.pk).update(**{f: getattr(drop, f) for f in contact_fields})
    drop.merged_into = keep
    drop.save_versioned(expected_version=None, fields=["merged_into"])
    _refresh_search(keep)
    keep.save_versioned(
        expected_version=None,
        fields=[*filled, "birthday_next", "name_normalized", "search_text", "phone_key"],
    )
    emit(
        _event(
            by,
            "merge",
            keep,
            _mask_changes(
                {
                    **filled,
                    "merged_from": [None, f"{drop.code} {drop.name}"],
                    "contacts_moved": [None, moved_contacts],
                    **{f"{kind}_moved": [None, n] for kind, n in moved.items()},
                }
            ),
        ),
        _event(by, "merged_into", drop, {"merged_into": [None, f"{keep.code} {keep.name}"]}),
    )
    return keep


def customer_reveal(*, customer_id: int, by: User) -> dict[str, Any]:
    """Full mobile / ID numbers of a customer and its contacts; every reveal is audited (SEC-2)."""
    require(by, Perm.CUSTOMER_REVEAL)
    customer = Customer.objects.visible_to(by).filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(_("客户不存在或您无权查看"), field="id")
    contacts = {c.pk: c.mobile for c in customer.contacts.filter(deleted_at__isnull=True) if c.mobile}
    with transaction.atomic():
        emit(_event(by, "reveal", customer, {"fields": [None, ["mobile", "id_number", "contacts.mobile"]]}))
    return {"mobile": customer.mobile, "id_number": customer.id_number, "contacts": contacts}


def _contact_reports_to(customer: Customer, value: Any, contact: Contact | None) -> Contact | None:
    if value in (None, ""):
        return None
    target = (
        value
        if isinstance(value, Contact)
        else Contact.objects.filter(
            pk=int(value) if str(value).isdigit() else -1, customer=customer, deleted_at__isnull=True
        ).first()
    )
    if target is None or target.customer_id != customer.pk:
        raise ValidationError(_("汇报对象必须是同一客户的联系人"), field="reports_to")
    node: Contact | None = target
    seen = set()
    while node is not None and contact is not None:
        if node.pk == contact.pk:
            raise ValidationError(_("汇报关系不能形成环"), field="reports_to")
        if node.pk in seen:
            break
        seen.add(node.pk)
        node = node.reports_to
    return target


def _refresh_contact_search(contact: Contact) -> None:
    contact.phone_key = phone_key(contact.phone)  # SVC-3: the caller lookup
    contact.search_text = contact_search_text(
        name=contact.name,
        mobile=contact.mobile,
        phone=contact.phone,
        email=contact.email,
        wechat=contact.wechat,
    )


@transaction.atomic
def contact_create(*, customer_id: int, data: dict[str, Any], by: User) -> Contact:
    require(by, Perm.CUSTOMER_EDIT)
    customer = customer_get_editable(customer_id=customer_id, by=by)
    cleaned = clean_contact(data)
    cleaned["reports_to"] = _contact_reports_to(customer, cleaned.get("reports_to"), None)
    contact = Contact(customer=customer, **cleaned)
    has_primary = customer.contacts.filter(is_primary=True, deleted_at__isnull=True).exists()
    if not has_primary:
        contact.is_primary = True  # the first contact is the primary one (CUS-3)
    elif contact.is_primary:
        customer.contacts.filter(is_primary=True).update(is_primary=False)
    _refresh_contact_search(contact)
    contact.save()
    _refresh_search_text_only(customer)
    emit(
        _event(
            by,
            "create",
            customer,
            _mask_changes(
                diff(
                    {},
                    {
                        k: str(v) if v is not None else None
                        for k, v in cleaned.items()
                        if k != "birthday_next"
                    },
                )
            ),
            cls=ContactChanged,
            subject=contact,
        )
    )
    return contact


@transaction.atomic
def contact_update(*, contact_id: int, version: int | None, data: dict[str, Any], by: User) -> Contact:
    require(by, Perm.CUSTOMER_EDIT)
    contact = Contact.objects.visible_to(by).filter(pk=contact_id).select_related("customer").first()
    if contact is None:
        raise NotFound(_("联系人不存在或您无权查看"), field="id")
    customer = customer_get_editable(customer_id=contact.customer_id, by=by)
    cleaned = clean_contact(data, partial=True, current={k: getattr(contact, k) for k in BIRTHDAY_FIELDS})
    if "reports_to" in cleaned:
        cleaned["reports_to"] = _contact_reports_to(customer, cleaned["reports_to"], contact)
    before = {k: str(getattr(contact, k)) if getattr(contact, k) is not None else None for k in cleaned}
    for key, value in cleaned.items():
        setattr(contact, key, value)
    if cleaned.get("is_primary"):
        customer.contacts.filter(is_primary=True).exclude(pk=contact.pk).update(is_primary=False)
    _refresh_contact_search(contact)
    contact.save_versioned(expected_version=version, fields=[*cleaned, "search_text", "phone_key"])
    _refresh_search_text_only(customer)
    changes = diff(before, {k: str(v) if v is not None else None for k, v in cleaned.items()})
    changes.pop("birthday_next", None)  # derived from the birthday, not an edit of its own
    if changes:
        emit(_event(by, "update", customer, _mask_changes(changes), cls=ContactChanged, subject=contact))
    return contact


@transaction.atomic
def contact_delete(*, contact_id: int, by: User) -> None:
    require(by, Perm.CUSTOMER_EDIT)
    contact = Contact.objects.visible_to(by).filter(pk=contact_id).first()
    if contact is None:
        raise NotFound(_("联系人不存在或您无权查看"), field="id")
    customer = customer_get_editable(customer_id=contact.customer_id, by=by)
    contact.deleted_at = timezone.now()
    contact.deleted_by = by
    contact.is_primary = False
    contact.save_versioned(expected_version=None, fields=["deleted_at", "deleted_by", "is_primary"])
    _refresh_search_text_only(customer)
    emit(_event(by, "delete", customer, cls=ContactChanged, subject=contact))


@transaction.atomic
def option_create(
    *, kind: str, code: str, label: str, label_en: str = "", sort_order: int = 0, by: User
) -> Any:
    """Add an entry to an admin-editable list (industry, source)."""
    from .choices import OptionKind
    from .models import Option

    require(by, Perm.SETTINGS_EDIT)
    if kind not in OptionKind.values:
        raise ValidationError(_("选项类别“%(k)s”无效"), field="kind", params={"k": kind})
    code = (code or "").strip()
    label = (label or "").strip()
    if not code or not code.replace("_", "").replace("-", "").isalnum() or not code.isascii():
        raise ValidationError(_("代码只能包含英文字母、数字、下划线和连字符"), field="code")
    if not label:
        raise ValidationError(_("名称不能为空"), field="label")
    if Option.objects.filter(kind=kind, code=code).exists():
        raise ValidationError(_("代码“%(c)s”已存在"), field="code", params={"c": code})
    option = Option.objects.create(
        kind=kind, code=code, label=label[:60], label_en=(label_en or "")[:60], sort_order=sort_order
    )
    emit(
        CustomerChanged(
            actor_id=by.pk,
            verb="create",
            subject_type="option",
            subject_id=option.pk,
            subject_label=f"{kind}:{label}",
        )
    )
    return option


@transaction.atomic
def option_update(*, option_id: int, by: User, **fields: Any) -> Any:
    from .models import Option

    require(by, Perm.SETTINGS_EDIT)
    option = Option.objects.filter(pk=option_id).first()
    if option is None:
        raise NotFound(_("选项不存在"), field="id")
    before = {k: getattr(option, k) for k in fields}
    if "label" in fields and not (fields["label"] or "").strip():
        raise ValidationError(_("名称不能为空"), field="label")
    for key, value in fields.items():
        if key not in {"label", "label_en", "sort_order", "is_active"}:
            raise ValidationError(_("未知字段：%(f)s"), field=key, params={"f": key})
        setattr(option, key, value.strip() if isinstance(value, str) else value)
    option.save()
    emit(
        CustomerChanged(
            actor_id=by.pk,
            verb="update",
            subject_type="option",
            subject_id=option.pk,
            subject_label=f"{option.kind}:{option.label}",
            changes=diff(before, fields),
        )
    )
    return option


def customer_record_contact(
    *, customer_id: int, at: Any, next_on: Any, next_action: str, by: User, only_if_latest: bool = True
) -> bool:
    """Someone was in touch with the customer at ``at`` (ENG-1/2, CUS-7): the last-contact time — the
    public-pool countdown starts from it — and the next follow-up follow the latest interaction.

    Called by the engagement services (which also check that ``by`` sees the customer). Derived columns:
    no version bump, so an edit form opened before stays valid. With ``only_if_latest`` a backdated
    interaction changes nothing when a later contact is already recorded. True if the row changed.
    """
    from django.db.models import Q

    require(by, Perm.INTERACTION_CREATE)
    rows = Customer.objects.filter(pk=customer_id)
    if only_if_latest:
        rows = rows.filter(Q(last_contact_at__isnull=True) | Q(last_contact_at__lte=at))
    return bool(
        rows.update(
            last_contact_at=at, next_follow_up_on=next_on, next_follow_up_action=(next_action or "")[:200]
        )
    )


FACT_FIELDS = ("first_order_date", "last_order_date", "order_count", "revenue_12m", "has_open_opportunity")


def customer_record_facts(*, customer_id: int, facts: dict[str, Any], by: User | None = None) -> bool:
    """The sales chain reports what it knows about a customer's orders and pipeline (CUS-2): first and
    last order date, number of orders, revenue of the last 12 months, whether an opportunity is open.
    The derived dimensions (value tier, tenure, status, deal status) follow unless a user overrode them.

    Called by the orders and sales services after *their* permission checks, and by their nightly
    refresh (time alone turns a new customer old, a current one lost), hence no ``require`` here. Derived
    columns: no version bump, so an edit form opened before stays valid. A change of a derived
    dimension is recorded in the customer's history with the reason. True if anything changed.
    """
    unknown = set(facts) - set(FACT_FIELDS)
    if unknown:
        raise ValueError(f"unknown customer facts: {sorted(unknown)}")
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        return False
    before_facts = {name: getattr(customer, name) for name in FACT_FIELDS}
    before = {dim: getattr(customer, dim) for dim in DERIVED_DIMENSIONS}
    for name, value in facts.items():
        setattr(customer, name, value)
    _refresh_derived(customer)
    after_facts = {name: getattr(customer, name) for name in FACT_FIELDS}
    after = {dim: getattr(customer, dim) for dim in DERIVED_DIMENSIONS}
    if before_facts == after_facts and before == after:
        return False
    Customer.objects.filter(pk=customer_id).update(**after_facts, **after)
    changes = diff(before, after)
    if changes:
        emit(_event(by, "reclassify", customer, changes))
    return True


EXPORT_MAX_ROWS = 50_000  # beyond this an export is too big to build while the caller waits
EXPORT_JOB_MAX_ROWS = 1_000_000  # a background export (one sheet holds 1,048,576 rows)


def _export_query(
    *, by: User, scene: str, filters: dict[str, Any] | None, sort: str, max_rows: int
) -> tuple[Any, int]:
    from .selectors import customer_list_query, customer_rows

    require(by, Perm.CUSTOMER_EXPORT)
    query = customer_list_query(actor=by, scene=scene, filters=dict(filters or {}), sort=sort)
    rows = customer_rows(actor=by, query=query)
    count = rows.count()
    if count > max_rows:
        raise ValidationError(
            _("一次最多导出 %(max)s 条，当前筛选结果有 %(n)s 条，请缩小筛选范围"),
            field="filters",
            code="export_too_big",
            params={"max": f"{max_rows:,}", "n": f"{count:,}"},
        )
    return rows, count


def _audit_export(*, by: User, scene: str, filters: dict[str, Any] | None, sort: str, count: int) -> None:
    with transaction.atomic():
        emit(
            CustomerChanged(
                actor_id=by.pk,
                verb="export",
                subject_type="customer_list",
                subject_id=None,
                subject_label=f"{scene} · {count}",
                changes={"filters": [None, {k: str(v) for k, v in (filters or {}).items() if v not in (None, "")}],
                         "sort": [None, sort], "rows": [None, count]},
            )
        )  # fmt: skip


def _export_rows(rows: Any, progress: Callable[[int], None] | None = None) -> Iterator[list[Any]]:
    for n, customer in enumerate(rows.iterator(chunk_size=2000), 1):
        yield _export_row(customer)
        if progress and n % 1000 == 0:
            progress(n)


def customer_export(
    *, by: User, scene: str = "all", filters: dict[str, Any] | None = None, sort: str = "-updated_at",
    max_rows: int | None = None,
) -> tuple[bytes, int]:  # fmt: skip
    """The filtered customer list as .xlsx (CUS-8, SEC-4): only rows ``by`` may see, numbers masked as
    the list shows them, no cell that could run as a formula; the export is audited with its filters
    and row count. Returns (file bytes, rows). Larger lists go through ``customer_export_start``."""
    from kehu.core.spreadsheet import xlsx_bytes

    require(by, Perm.CUSTOMER_EXPORT)
    limit = EXPORT_MAX_ROWS if max_rows is None else max_rows
    rows, count = _export_query(by=by, scene=scene, filters=filters, sort=sort, max_rows=limit)
    data = xlsx_bytes(title=str(_("客户")), headers=[str(h) for h in EXPORT_HEADERS], rows=_export_rows(rows))
    _audit_export(by=by, scene=scene, filters=filters, sort=sort, count=count)
    return data, count


def customer_export_start(
    *, by: User, scene: str = "all", filters: dict[str, Any] | None = None, sort: str = "-updated_at"
) -> Any:
    """Export a large filtered list in the background (a job with progress and a download at the end)."""
    from kehu.jobs.services import job_start

    require(by, Perm.CUSTOMER_EXPORT)
    _rows, count = _export_query(by=by, scene=scene, filters=filters, sort=sort, max_rows=EXPORT_JOB_MAX_ROWS)
    clean = {k: str(v) for k, v in (filters or {}).items() if v not in (None, "")}
    return job_start(
        kind="customers.export", params={"scene": scene, "filters": clean, "sort": sort},
        title=_("导出客户（%(n)s 条）") % {"n": f"{count:,}"}, by=by,
    )  # fmt: skip


def customer_export_to_file(
    *, by: User, path: Any, scene: str, filters: dict[str, Any] | None, sort: str,
    progress: Callable[[int, int], None] | None = None,
) -> int:  # fmt: skip
    """The background half of ``customer_export_start``: the same rows, masks and audit, into ``path``.
    Writing the file again (a retried job) gives the same file and one more audit entry."""
    from kehu.core.spreadsheet import xlsx_write

    require(by, Perm.CUSTOMER_EXPORT)
    rows, count = _export_query(by=by, scene=scene, filters=filters, sort=sort, max_rows=EXPORT_JOB_MAX_ROWS)
    report = (lambda n: progress(n, count)) if progress else None
    xlsx_write(
        path, title=str(_("客户")), headers=[str(h) for h in EXPORT_HEADERS], rows=_export_rows(rows, report)
    )
    if progress:
        progress(count, count)
    _audit_export(by=by, scene=scene, filters=filters, sort=sort, count=count)
    return count


EXPORT_HEADERS = (
    _("客户编号"),
    _("客户名称"),
    _("客户类型"),
    _("手机号"),
    _("电话"),
    _("邮箱"),
    _("行业"),
    _("客户来源"),
    _("价值等级"),
    _("客户状态"),
    _("成交状态"),
    _("负责人"),
    _("省份"),
    _("城市"),
    _("标签"),
    _("最近联系时间"),
    _("下次跟进日期"),
    _("创建时间"),
)


def _export_row(c: Customer) -> list[Any]:
    from kehu.core.identity import mask_mobile

    return [
        c.code,
        c.name,
        c.get_kind_display(),
        mask_mobile(c.mobile),
        c.phone,
        c.email,
        c.industry.display if c.industry_id and c.industry else "",
        c.source.display if c.source_id and c.source else "",
        c.value_tier_label,
        c.status_label,
        c.get_deal_status_display(),
        c.owner.label if c.owner_id and c.owner else str(_("公海")),
        c.province,
        c.city,
        "、".join(t.name for t in c.tags.all()),
        c.last_contact_at,
        c.next_follow_up_on,
        c.created_at,
    ]
