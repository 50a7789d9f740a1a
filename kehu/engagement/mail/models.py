"""E-mail with customers (ENG-5): mailboxes, threads, messages and their files."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.access.models import Department
from kehu.core.models import VersionedModel
from kehu.customers.models import Contact, Customer

from ..choices import Direction, MailResponse
from ..models import Interaction, attachment_storage


class Mailbox(VersionedModel):
    """A mailbox Kehu reads (IMAP polling with ``kehu fetchmail``, or the HTTP inbound endpoint with
    its token) and replies from. Its owner answers for mail no customer's owner answers for."""

    name = models.CharField(_("名称"), max_length=60, unique=True)
    address = models.EmailField(_("邮箱地址"))
    imap_host = models.CharField(_("IMAP 服务器"), max_length=200, blank=True)
    imap_port = models.PositiveIntegerField(_("IMAP 端口"), default=993)
    imap_ssl = models.BooleanField(_("使用 SSL"), default=True)
    imap_username = models.CharField(_("IMAP 用户名"), max_length=200, blank=True)
    # Kept as entered: IMAP needs it in clear to log in. Never shown back by a page or the API.
    imap_password = models.CharField(_("IMAP 密码"), max_length=200, blank=True)
    imap_folder = models.CharField(_("文件夹"), max_length=200, default="INBOX")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("负责人"),
    )  # fmt: skip
    team = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("团队")
    )
    is_active = models.BooleanField(_("启用"), default=True)
    # sha256 of the HTTP inbound token; the token itself is shown once when made.
    token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    last_fetched_at = models.DateTimeField(_("上次收信"), null=True, blank=True)
    last_error = models.TextField(_("上次错误"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("邮箱")
        verbose_name_plural = _("邮箱")

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"

    @property
    def polls(self) -> bool:
        return bool(self.is_active and self.imap_host and self.imap_username)


class MailThreadQuerySet(models.QuerySet):
    def visible_to(self, actor) -> MailThreadQuerySet:
        """A thread is visible when its customer is; an unmatched one to those over the mailbox's owner,
        the mailbox's team and mail managers (SEC-1)."""
        return self.filter(mail_visible_q(actor, prefix=""))


def mail_visible_q(actor, *, prefix: str) -> Q:
    from kehu.access.perms import Perm
    from kehu.access.scope import can, owner_scope_q

    if not getattr(actor, "is_authenticated", False):
        return Q(pk__in=[])
    customer = Q(**{f"{prefix}customer__in": Customer.objects.visible_to(actor)})
    unmatched = owner_scope_q(actor, owner_field=f"{prefix}mailbox__owner")
    if actor.department_id:
        unmatched |= Q(**{f"{prefix}mailbox__team_id": actor.department_id})
    if can(actor, Perm.MAIL_MANAGE):
        unmatched = Q()
    return customer | (Q(**{f"{prefix}customer__isnull": True}) & unmatched)


class MailThread(models.Model):
    """One conversation: messages joined by In-Reply-To/References, else by subject with the same
    counterpart. Its customer (and contact) come from the sender's address, or from a person who
    assigned an unmatched thread."""

    mailbox = models.ForeignKey(
        Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="threads"
    )
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="mail_threads",
        verbose_name=_("客户"),
    )  # fmt: skip
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="mail_threads",
        verbose_name=_("联系人"),
    )  # fmt: skip
    subject = models.CharField(_("主题"), max_length=300, blank=True)
    subject_key = models.CharField(max_length=300, blank=True, db_index=True)
    counterpart = models.CharField(_("对方邮箱"), max_length=254, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_message_at = models.DateTimeField()

    objects = MailThreadQuerySet.as_manager()

    class Meta:
        ordering = ["-last_message_at", "-id"]
        indexes = [models.Index(fields=["customer", "last_message_at"], name="mail_thread_customer")]
        verbose_name = _("邮件会话")
        verbose_name_plural = _("邮件会话")

    def __str__(self) -> str:
        return self.subject or f"#{self.pk}"


class MailMessageQuerySet(models.QuerySet):
    def visible_to(self, actor) -> MailMessageQuerySet:
        """Messages are visible exactly when their thread is (SEC-1)."""
        return self.filter(mail_visible_q(actor, prefix="thread__"))


class MailMessage(models.Model):
    """One e-mail, received or sent. Inbound ones carry their response state (ENG-5): pending until
    the first reply from us in the thread (``first_response_at``), or marked 无需回复 with a reason."""

    thread = models.ForeignKey(MailThread, on_delete=models.CASCADE, related_name="messages")
    mailbox = models.ForeignKey(Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    direction = models.CharField(_("方向"), max_length=10, choices=Direction.choices)
    message_id = models.CharField(max_length=300)
    in_reply_to = models.CharField(max_length=300, blank=True)
    references = models.TextField(blank=True)
    subject = models.CharField(_("主题"), max_length=300, blank=True)
    from_name = models.CharField(_("发件人"), max_length=200, blank=True)
    from_address = models.CharField(_("发件地址"), max_length=254, blank=True, db_index=True)
    to_addresses = models.TextField(_("收件人"), blank=True)
    cc_addresses = models.TextField(_("抄送"), blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)  # the Date header
    received_at = models.DateTimeField(_("到达时间"))  # when it reached us (IMAP INTERNALDATE) / we sent it
    body = models.TextField(_("正文"), blank=True)
    html_only = models.BooleanField(default=False)
    size = models.PositiveIntegerField(default=0)
    imap_uidvalidity = models.BigIntegerField(null=True, blank=True)
    imap_uid = models.BigIntegerField(null=True, blank=True)
    attachment_notes = models.TextField(blank=True)  # files not kept, and why
    response = models.CharField(_("回复状态"), max_length=12, choices=MailResponse.choices, blank=True)
    first_response_at = models.DateTimeField(_("首次回复时间"), null=True, blank=True)
    first_response = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="answers"
    )
    no_reply_reason = models.CharField(_("无需回复原因"), max_length=200, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("发送人"),
    )  # fmt: skip
    interaction = models.ForeignKey(
        Interaction, null=True, blank=True, on_delete=models.SET_NULL, related_name="mail_messages"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MailMessageQuerySet.as_manager()

    class Meta:
        ordering = ["received_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["message_id"], name="mail_message_id_once"),
            models.UniqueConstraint(
                fields=["mailbox", "imap_uidvalidity", "imap_uid"],
                condition=Q(imap_uid__isnull=False),
                name="mail_message_uid_once",
            ),
        ]
        indexes = [
            models.Index(fields=["thread", "received_at"], name="mail_message_thread"),
            models.Index(fields=["response", "received_at"], name="mail_message_response"),
        ]
        verbose_name = _("邮件")
        verbose_name_plural = _("邮件")

    def __str__(self) -> str:
        return f"{self.from_address} {self.subject[:40]}"

    @property
    def is_inbound(self) -> bool:
        return self.direction == Direction.INBOUND


class MailAttachment(models.Model):
    """A file that came with (or went out with) an e-mail; kept like interaction attachments: outside
    the web root, under a generated name, served only to those who see the message."""

    message = models.ForeignKey(MailMessage, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("文件"), storage=attachment_storage, upload_to="mail/%Y/%m/", max_length=200)
    name = models.CharField(_("文件名"), max_length=120)
    content_type = models.CharField(_("类型"), max_length=120)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]
        verbose_name = _("邮件附件")
        verbose_name_plural = _("邮件附件")

    def __str__(self) -> str:
        return self.name
