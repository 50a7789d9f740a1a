"""What the keys of an audit event's changes read as in the log and on the customer timeline
("负责人: 张华东 → 陈华南", not "owner: …").

A key is a field of the event's subject: its model is found by the subject type (the model's class name
in snake case, ``mail_thread`` → ``MailThread``) through Django's app registry, and the field's verbose
name is the label — so nothing is imported upward. Keys that are not fields (what a merge moved, …) are
worded here, like the verbs (``verbs.py``). Anything else is shown as it is stored."""

from __future__ import annotations

import functools
import re
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _

CHANGE_LABELS: dict[str, Any] = {
    # customer_merge (CUS-5, ADR 0018): where the records of the merged customer went
    "merged_from": _("合并自"),
    "merged_into": _("合并到"),
    "contacts_moved": _("转入的联系人"),
    "contracts_moved": _("转入的合同"),
    "orders_moved": _("转入的订单"),
    "shipments_moved": _("转入的发货单"),
    "invoices_moved": _("转入的发票"),
    "instalments_moved": _("转入的回款计划"),
    "payments_moved": _("转入的回款记录"),
    "documents_moved": _("转入的单据"),
    "opportunities_moved": _("转入的商机"),
    "quotes_moved": _("转入的报价单"),
    "leads_moved": _("转入的已转化线索"),
    "interactions_moved": _("转入的跟进记录"),
    "tasks_moved": _("转入的待办"),
    "mail_threads_moved": _("转入的邮件会话"),
    "tickets_moved": _("转入的工单"),
}


@functools.cache
def _models() -> dict[str, Any]:
    """Every installed model by its class name in snake case (the first of a name wins)."""
    out: dict[str, Any] = {}
    for model in apps.get_models():
        out.setdefault(re.sub(r"(?<!^)(?=[A-Z])", "_", model.__name__).lower(), model)
    return out


def change_label(key: str, subject_type: str = "") -> str:
    """The words for the change ``key`` of an event on a ``subject_type``."""
    if key in CHANGE_LABELS:
        return str(CHANGE_LABELS[key])
    model = _models().get(subject_type)
    if model is not None:
        for name in (key, key.removesuffix("_id")):
            try:
                field = model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            label = getattr(field, "verbose_name", None)  # a reverse relation has none
            if label:
                return str(label)
    return key
