"""Writes of engagement: interactions and their files (ENG-1), P&A tasks (ENG-3).

Every service starts with ``require`` and ends with an audit event; the customer's last contact and
next follow-up follow its latest interaction (``customers.services.customer_record_contact``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm
from kehu.access.scope import can, require
from kehu.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from kehu.core.events import diff, emit
from kehu.core.files import store_with_row
from kehu.customers.extensions import reassign
from kehu.customers.selectors import customer_get
from kehu.customers.services import customer_record_contact

from .choices import TASK_TRANSITIONS
from .events import InteractionChanged, TaskChanged
from .mail.models import MailThread
from .models import Interaction, InteractionAttachment, Task, WorkItemHandled
from .rules import attachment_content_type, safe_filename
from .validation import clean_interaction, clean_task
from .worklist import HANDLEABLE


def _event(by: User, verb: str, interaction: Interaction, changes: dict[str, Any] | None = None) -> Any:
    return InteractionChanged(
        actor_id=by.pk,
        verb=verb,
        subject_type="interaction",
        subject_id=interaction.pk,
        subject_label=f"{interaction.channel.display} {timezone.localtime(interaction.occurred_at):%Y-%m-%d %H:%M}",
        customer_id=interaction.customer_id,
        changes=changes or {},
    )


def _snapshot(interaction: Interaction) -> dict[str, Any]:
    return {
        "channel": interaction.channel.code,
        "direction": interaction.direction,
        "occurred_at": timezone.localtime(interaction.occurred_at).strftime("%Y-%m-%d %H:%M"),
        "contact": interaction.contact.name if interaction.contact_id and interaction.contact else None,
        "summary": interaction.summary,
        "outcome": interaction.outcome,
        "next_step": interaction.next_step,
        "next_follow_up_on": interaction.next_follow_up_on.isoformat()
        if interaction.next_follow_up_on
        else None,
    }


def _sync_customer(customer_id: int, *, by: User) -> None:
    """After an edit or a delete: the customer's next follow-up is the latest live interaction's."""
    latest = (
        Interaction.objects.filter(customer_id=customer_id, deleted_at__isnull=True)
        .order_by("-occurred_at", "-id")
        .first()
    )
    if latest is not None:
        customer_record_contact(
            customer_id=customer_id,
            at=latest.occurred_at,
            next_on=latest.next_follow_up_on,
            next_action=latest.next_step,
            by=by,
            only_if_latest=False,
        )


def _editable(*, interaction_id: int, by: User) -> Interaction:
    """The interaction if ``by`` may change it: its author, or someone with ``interaction.manage``."""
    interaction = (
        Interaction.objects.visible_to(by)
        .select_related("channel", "contact")
        .filter(pk=interaction_id)
        .first()
    )
    if interaction is None:
        raise NotFound(_("跟进记录不存在或您无权查看"), field="id")
    if interaction.created_by_id != by.pk and not can(by, Perm.INTERACTION_MANAGE):
        raise PermissionDenied(_("只能修改自己记录的跟进；修改他人的记录需要“%(perm)s”权限"),
                               code="not_author", params={"perm": Perm.INTERACTION_MANAGE.label})  # fmt: skip
    return interaction


@transaction.atomic
def interaction_create(
    *, customer_id: int, data: dict[str, Any], by: User, files: Sequence[tuple[str, bytes]] = ()
) -> Interaction:
    """Record a contact with a customer the actor can see (ENG-1); it becomes the customer's last
    contact (restarting the public-pool countdown) and sets its next follow-up, unless a later
    contact is already on record. ``files`` (name, bytes) are attached in the same transaction: a
    refused file leaves nothing written."""
    require(by, Perm.INTERACTION_CREATE)
    customer = customer_get(actor=by, customer_id=customer_id)
    cleaned = clean_interaction(data, customer=customer)
    for name, content in files:
        _checked_file(name, content)  # every file is checked before anything is written
    interaction = Interaction.objects.create(customer=customer, created_by=by, **cleaned)
    customer_record_contact(
        customer_id=customer.pk,
        at=interaction.occurred_at,
        next_on=interaction.next_follow_up_on,
        next_action=interaction.next_step,
        by=by,
    )
    emit(_event(by, "create", interaction, diff({}, _snapshot(interaction))))
    for name, content in files:
        attachment_add(interaction_id=interaction.pk, name=name, data=content, by=by)
    return interaction


@transaction.atomic
def interaction_update(
    *, interaction_id: int, version: int | None, data: dict[str, Any], by: User
) -> Interaction:
    """Correct an interaction (its author, or ``interaction.manage``); a stale ``version`` is refused."""
    require(by, Perm.INTERACTION_CREATE)
    interaction = _editable(interaction_id=interaction_id, by=by)
    cleaned = clean_interaction(data, customer=interaction.customer, partial=True, current=interaction)
    before = _snapshot(interaction)
    for key, value in cleaned.items():
        setattr(interaction, key, value)
    interaction.save_versioned(expected_version=version, fields=list(cleaned))
    _sync_customer(interaction.customer_id, by=by)
    changes = diff(before, _snapshot(interaction))
    if changes:
        emit(_event(by, "update", interaction, changes))
    return interaction


@transaction.atomic
def interaction_delete(*, interaction_id: int, by: User) -> None:
    require(by, Perm.INTERACTION_CREATE)
    interaction = _editable(interaction_id=interaction_id, by=by)
    interaction.deleted_at = timezone.now()
    interaction.deleted_by = by
    interaction.save_versioned(expected_version=None, fields=["deleted_at", "deleted_by"])
    _sync_customer(interaction.customer_id, by=by)
    emit(_event(by, "delete", interaction))


def _max_bytes() -> int:
    return int(settings.KEHU_ATTACHMENT_MAX_MB) * 1024 * 1024


def _checked_file(name: str, data: bytes) -> tuple[str, str]:
    """(safe file name, content type) of an upload, or a ValidationError naming ``file``."""
    filename = safe_filename(name or "")
    if not data:
        raise ValidationError(_("请选择要上传的文件"), field="file")
    if len(data) > _max_bytes():
        raise ValidationError(
            _("文件不能超过 %(n)s MB：%(name)s"),
            field="file",
            params={"n": settings.KEHU_ATTACHMENT_MAX_MB, "name": filename},
        )
    content_type = attachment_content_type(filename, data)
    if content_type is None:
        raise ValidationError(
            _("不支持的文件类型，或文件内容与扩展名不符：%(name)s（可上传 PDF、图片、Office 文档、文本）"),
            field="file",
            params={"name": filename},
        )
    return filename, content_type


@transaction.atomic
def attachment_add(*, interaction_id: int, name: str, data: bytes, by: User) -> InteractionAttachment:
    """Attach a file to an interaction: allowed types only, checked by content; at most
    ``KEHU_ATTACHMENT_MAX_MB``; stored outside the web root under a generated name."""
    require(by, Perm.INTERACTION_CREATE)
    interaction = _editable(interaction_id=interaction_id, by=by)
    filename, content_type = _checked_file(name, data)
    attachment = InteractionAttachment(
        interaction=interaction, name=filename, content_type=content_type, size=len(data), uploaded_by=by
    )
    store_with_row(attachment, data)
    emit(_event(by, "attachment_add", interaction, {"attachment": [None, filename]}))
    return attachment


@transaction.atomic
def attachment_remove(*, attachment_id: int, by: User) -> None:
    require(by, Perm.INTERACTION_CREATE)
    attachment = InteractionAttachment.objects.filter(pk=attachment_id).select_related("interaction").first()
    if attachment is None:
        raise NotFound(_("附件不存在或您无权查看"), field="id")
    interaction = _editable(interaction_id=attachment.interaction_id, by=by)
    stored, storage, filename = str(attachment.file.name), attachment.file.storage, attachment.name
    attachment.delete()
    transaction.on_commit(lambda: storage.delete(stored))
    emit(_event(by, "attachment_remove", interaction, {"attachment": [filename, None]}))


# --- P&A tasks (ENG-3) ------------------------------------------------------------------------------


def _task_event(by: User, verb: str, task: Task, changes: dict[str, Any] | None = None) -> Any:
    return TaskChanged(
        actor_id=by.pk,
        verb=verb,
        subject_type="task",
        subject_id=task.pk,
        subject_label=task.title[:200],
        customer_id=task.customer_id,
        changes=changes or {},
    )


def _task_snapshot(task: Task) -> dict[str, Any]:
    return {
        "title": task.title,
        "description": task.description,
        "customer": task.customer.name if task.customer_id and task.customer else None,
        "owner": task.owner.label if task.owner_id else None,
        "due_on": task.due_on.isoformat() if task.due_on else None,
        "status": task.status,
        "result": task.result,
    }


def _task_for(*, task_id: int, by: User) -> Task:
    """The task if ``by`` may act on it: its owner, its creator, or someone with ``interaction.manage``
    who sees it (a manager over the owner)."""
    task = Task.objects.visible_to(by).select_related("owner", "customer").filter(pk=task_id).first()
    if task is None:
        raise NotFound(_("任务不存在或您无权查看"), field="id")
    if by.pk not in (task.owner_id, task.created_by_id) and not can(by, Perm.INTERACTION_MANAGE):
        raise PermissionDenied(_("只有任务的负责人、创建人或主管可以修改它"), code="not_task_owner")
    return task


@transaction.atomic
def task_create(*, data: dict[str, Any], by: User) -> Task:
    """Promise something by a date (ENG-3): for oneself, or for a colleague in one's data scope."""
    require(by, Perm.INTERACTION_CREATE)
    cleaned = clean_task(data, actor=by, creating=True)
    task = Task.objects.create(created_by=by, **cleaned)
    emit(_task_event(by, "create", task, diff({}, _task_snapshot(task))))
    _tell_task_owner(task, by)
    return task


def _tell_task_owner(task: Task, by: User) -> None:
    """A task someone else gave me shows under my bell (and in my mail)."""
    from django.urls import reverse

    from kehu.notifications.services import notify_handover

    notify_handover(
        recipient=task.owner, by=by, kind="task_assigned", key=f"task:{task.pk}:v{task.version}",
        title=_("%(who)s 给您安排了任务“%(title)s”（%(due)s 前）")
        % {"who": by.label, "title": task.title, "due": task.due_on.isoformat() if task.due_on else "—"},
        url=reverse("engagement:tasks"),
    )  # fmt: skip


@transaction.atomic
def task_update(*, task_id: int, version: int | None, data: dict[str, Any], by: User) -> Task:
    require(by, Perm.INTERACTION_CREATE)
    task = _task_for(task_id=task_id, by=by)
    cleaned = clean_task(data, actor=by, partial=True)
    before = _task_snapshot(task)
    for key, value in cleaned.items():
        setattr(task, key, value)
    task.save_versioned(expected_version=version, fields=list(cleaned))
    changes = diff(before, _task_snapshot(task))
    if changes:
        emit(_task_event(by, "update", task, changes))
    if "owner" in changes:
        _tell_task_owner(task, by)
    return task


def _task_transition(*, verb: str, task_id: int, version: int | None, by: User, result: str = "") -> Task:
    task = _task_for(task_id=task_id, by=by)
    sources, target = TASK_TRANSITIONS[verb]
    if task.status not in sources:
        raise Conflict(
            _("任务当前为“%(s)s”，不能执行该操作"), field="status", code="invalid_transition",
            params={"s": task.get_status_display()},
        )  # fmt: skip
    before = _task_snapshot(task)
    task.status = target
    fields = ["status"]
    if verb == "complete":
        if not (result or "").strip():
            raise ValidationError(_("请填写执行结果"), field="result")
        task.result, task.done_at = result.strip()[:4000], timezone.now()
        fields += ["result", "done_at"]
    elif verb == "cancel":
        if not (result or "").strip():
            raise ValidationError(_("请说明取消原因"), field="result")
        task.result = result.strip()[:4000]
        fields.append("result")
    else:
        task.done_at = None
        fields.append("done_at")
    task.save_versioned(expected_version=version, fields=fields)
    emit(_task_event(by, verb, task, diff(before, _task_snapshot(task))))
    return task


@transaction.atomic
def task_complete(*, task_id: int, version: int | None, result: str, by: User) -> Task:
    """Done, and how (the result is required: 落实)."""
    require(by, Perm.INTERACTION_CREATE)
    return _task_transition(verb="complete", task_id=task_id, version=version, by=by, result=result)


@transaction.atomic
def task_cancel(*, task_id: int, version: int | None, reason: str, by: User) -> Task:
    require(by, Perm.INTERACTION_CREATE)
    return _task_transition(verb="cancel", task_id=task_id, version=version, by=by, result=reason)


@transaction.atomic
def task_reopen(*, task_id: int, version: int | None, by: User) -> Task:
    require(by, Perm.INTERACTION_CREATE)
    return _task_transition(verb="reopen", task_id=task_id, version=version, by=by)


@transaction.atomic
def task_delete(*, task_id: int, by: User) -> None:
    require(by, Perm.INTERACTION_CREATE)
    task = _task_for(task_id=task_id, by=by)
    task.deleted_at, task.deleted_by = timezone.now(), by
    task.save_versioned(expected_version=None, fields=["deleted_at", "deleted_by"])
    emit(_task_event(by, "delete", task))


# --- the 待办 work list -----------------------------------------------------------------------------


@transaction.atomic
def work_item_handle(*, kind: str, object_id: int, by: User) -> None:
    """Mark a 待办 item handled (已处理) for today; it returns tomorrow if it is still due."""
    require(by, Perm.CUSTOMER_VIEW)
    if kind not in HANDLEABLE:
        raise ValidationError(_("待办类型“%(k)s”无效"), field="kind", params={"k": kind})
    if not isinstance(object_id, int) or object_id < 1:
        raise ValidationError(_("待办对象必须是数字ID"), field="object_id")
    _row, created = WorkItemHandled.objects.get_or_create(
        user=by, kind=kind, object_id=object_id, on=timezone.localdate()
    )
    if created:
        emit(
            InteractionChanged(
                actor_id=by.pk,
                verb="work_item_handled",
                subject_type=kind,
                subject_id=object_id,
                subject_label=str(object_id),
            )
        )


def customer_records_move(drop: Any, keep: Any, by: User) -> dict[str, int]:
    """Merging ``drop`` into ``keep`` (CUS-5, registered in apps.py): ``drop``'s interactions, tasks and
    mail threads are ``keep``'s from now on (its last contact is taken over by the merge itself). The
    merge service checked the permission."""
    moved = {
        "interactions": reassign(Interaction, "customer", drop, keep),
        "tasks": reassign(Task, "customer", drop, keep),
        "mail_threads": reassign(MailThread, "customer", drop, keep),
    }
    return {kind: n for kind, n in moved.items() if n}
