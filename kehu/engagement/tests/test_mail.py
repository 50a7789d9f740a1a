"""E-mail with customers (ENG-5) as the cast lives it: mail from a contact lands on rep_east's customer,
threads hold together, rep_east answers through a real SMTP server, and the 24-hour rule is counted per
person — rep_east sees his own, manager_east his team's, rep_west none of it."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from kehu.audit.models import AuditEvent
from kehu.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from kehu.customers.models import Customer
from kehu.customers.tests.factories import make_contact, make_customer
from kehu.engagement.mail import mailboxes, selectors, services
from kehu.engagement.models import Interaction, MailAttachment, Mailbox, MailMessage, MailThread
from kehu.engagement.worklist import work_list
from kehu.integrations.mail import parse_message

pytestmark = pytest.mark.django_db

_n = iter(range(1, 100_000))


def eml(
    *,
    sender: str = "buyer@acme.cn",
    name: str = "采购 王工",
    subject: str = "询价：空压机",
    body: str = "请报价 200 台。",
    message_id: str | None = None,
    in_reply_to: str = "",
    references: str = "",
    to: str = "sales@kehu.test",
    charset: str = "utf-8",
    attachments: tuple[tuple[str, bytes, str], ...] = (),
    headers: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"{name} <{sender}>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(timezone.now())
    msg["Message-ID"] = message_id or f"<m{next(_n)}@acme.cn>"
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body, charset=charset)
    for filename, data, content_type in attachments:
        maintype, subtype = content_type.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


@pytest.fixture
def world(cast: SimpleNamespace) -> SimpleNamespace:
    """rep_east's customer 艾克米 with contact 王工 (buyer@acme.cn); rep_west's customer with its own
    address; a team mailbox owned by manager_east for the east department."""
    acme = make_customer(cast.rep_east, name="艾克米机械有限公司")
    wang = make_contact(acme, cast.rep_east, name="王工", email="Buyer@Acme.cn")
    west = make_customer(cast.rep_west, name="华南贸易有限公司", email="info@south.cn")
    box = mailboxes.mailbox_create(
        data={
            "name": "销售邮箱",
            "address": "sales@kehu.test",
            "owner": cast.manager_east.pk,
            "team": cast.east.pk,
        },
        by=cast.admin,
    )
    return SimpleNamespace(acme=acme, wang=wang, west=west, box=box)


def receive(world: SimpleNamespace, raw: bytes, *, hours_ago: float = 0) -> MailMessage:
    received = services.mail_receive(
        raw=raw, mailbox=world.box, received_at=timezone.now() - timedelta(hours=hours_ago)
    )
    return received.message


# --- matching and threading -----------------------------------------------------------------------


def test_mail_from_a_contacts_address_lands_on_its_customer_and_contact(world: SimpleNamespace) -> None:
    message = receive(world, eml(sender="BUYER@acme.cn"))
    assert message.thread.customer == world.acme
    assert message.thread.contact == world.wang
    assert message.direction == "inbound" and message.response == "pending"
    event = AuditEvent.objects.get(verb="receive", subject_type="mail_message")
    assert event.customer_id == world.acme.pk and event.actor_id is None


def test_mail_from_a_customers_own_address_lands_on_the_customer(world: SimpleNamespace) -> None:
    message = receive(world, eml(sender="info@south.cn"))
    assert message.thread.customer == world.west and message.thread.contact is None


def test_an_unknown_sender_is_unmatched_until_someone_assigns_it(cast: Any, world: SimpleNamespace) -> None:
    message = receive(world, eml(sender="stranger@nowhere.cn", subject="合作意向"))
    assert message.thread.customer is None
    unmatched = selectors.message_list(actor=cast.rep_east, scene="unmatched")
    assert [m.pk for m in unmatched.items] == [message.pk]  # rep_east is in the mailbox's team
    assert selectors.message_list(actor=cast.rep_west, scene="unmatched").count == 0

    with pytest.raises(NotFound):  # rep_west cannot even see the thread
        services.mail_thread_assign(thread_id=message.thread_id, customer_id=world.west.pk, by=cast.rep_west)
    with pytest.raises(NotFound):  # nor give it to a customer rep_east cannot see
        services.mail_thread_assign(thread_id=message.thread_id, customer_id=world.west.pk, by=cast.rep_east)
    assert MailThread.objects.get(pk=message.thread_id).customer_id is None

    services.mail_thread_assign(
        thread_id=message.thread_id, customer_id=world.acme.pk, contact_id=world.wang.pk, by=cast.rep_east
    )
    thread = MailThread.objects.get(pk=message.thread_id)
    assert (thread.customer, thread.contact) == (world.acme, world.wang)
    assert AuditEvent.objects.filter(verb="assign", customer_id=world.acme.pk).exists()
    with pytest.raises(Conflict):
        services.mail_thread_assign(thread_id=thread.pk, customer_id=world.acme.pk, by=cast.rep_east)
    # Later mail from the same address and subject joins the assigned thread.
    follow_up = receive(world, eml(sender="stranger@nowhere.cn", subject="Re: 合作意向"))
    assert follow_up.thread_id == thread.pk


def test_an_address_two_customers_share_is_left_for_a_person(cast: Any, world: SimpleNamespace) -> None:
    other = make_customer(cast.rep_east, name="艾克米销售有限公司")
    make_contact(other, cast.rep_east, name="王工二", email="buyer@acme.cn")
    message = receive(world, eml(sender="buyer@acme.cn"))
    assert message.thread.customer is None


def test_threads_follow_in_reply_to_references_and_subject(world: SimpleNamespace) -> None:
    first = receive(world, eml(subject="报价单", message_id="<t1@acme.cn>"))
    by_header = receive(world, eml(subject="完全不同的主题", in_reply_to="<t1@acme.cn>"))
    by_references = receive(world, eml(subject="又一个主题", references="<unknown@x> <t1@acme.cn>"))
    by_subject = receive(world, eml(subject="回复：RE: 报价单"))
    other = receive(world, eml(subject="发票"))
    assert {by_header.thread_id, by_references.thread_id, by_subject.thread_id} == {first.thread_id}
    assert other.thread_id != first.thread_id


def test_receiving_the_same_message_twice_stores_it_once(world: SimpleNamespace) -> None:
    raw = eml(message_id="<same@acme.cn>")
    first = services.mail_receive(raw=raw, mailbox=world.box)
    again = services.mail_receive(raw=raw, mailbox=world.box)
    assert first.created and not again.created
    assert again.message.pk == first.message.pk
    no_id = b"From: a@acme.cn\r\nSubject: x\r\n\r\nno message id\r\n"
    assert services.mail_receive(raw=no_id, mailbox=world.box).created
    assert not services.mail_receive(raw=no_id, mailbox=world.box).created
    assert MailMessage.objects.count() == 2


def test_files_are_kept_like_interaction_files_and_refused_ones_are_noted(world: SimpleNamespace) -> None:
    message = receive(
        world,
        eml(
            attachments=(
                ("报价单.pdf", b"%PDF-1.4 quote", "application/pdf"),
                ("run.exe", b"MZ\x90\x00", "application/octet-stream"),
            )
        ),
    )
    kept = MailAttachment.objects.get(message=message)
    assert (kept.name, kept.content_type, kept.size) == ("报价单.pdf", "application/pdf", 14)
    with kept.file.open("rb") as f:
        assert f.read() == b"%PDF-1.4 quote"
    assert "run.exe" in message.attachment_notes


def test_bad_input_is_refused_naming_the_field_and_writes_nothing(world: SimpleNamespace) -> None:
    for raw in (b"", b"Subject: no sender\r\n\r\nbody"):
        with pytest.raises(ValidationError) as caught:
            services.mail_receive(raw=raw, mailbox=world.box)
        assert caught.value.field == "message"
    assert MailMessage.objects.count() == 0 and MailThread.objects.count() == 0


def test_mail_we_sent_from_elsewhere_counts_as_our_reply(world: SimpleNamespace) -> None:
    question = receive(world, eml(message_id="<q@acme.cn>"), hours_ago=3)
    ours = receive(
        world, eml(sender="sales@kehu.test", name="销售", to="buyer@acme.cn", in_reply_to="<q@acme.cn>")
    )
    assert ours.direction == "outbound"
    question.refresh_from_db()
    assert question.response == "replied" and question.first_response_id == ours.pk


def test_auto_replies_need_no_answer(world: SimpleNamespace) -> None:
    message = receive(world, eml(headers={"Auto-Submitted": "auto-replied"}))
    assert message.response == "not_needed" and message.no_reply_reason


def test_a_new_mailboxs_history_does_not_count_against_the_rule(
    cast: Any, world: SimpleNamespace, settings: Any
) -> None:
    settings.KEHU_MAIL_HISTORY_DAYS = 7
    old = receive(world, eml(subject="上个月的邮件"), hours_ago=24 * 8)
    recent = receive(world, eml(subject="六天前的邮件"), hours_ago=24 * 6)
    assert (old.response, old.no_reply_reason) == ("not_needed", "接入前的历史邮件")
    assert recent.response == "pending"
    assert {m.subject for m in selectors.message_list(actor=cast.rep_east, scene="missed").items} == {
        "六天前的邮件"
    }


# --- replying through a real SMTP server ----------------------------------------------------------


def test_rep_east_replies_and_the_smtp_server_receives_it_threaded(
    cast: Any, world: SimpleNamespace, smtp_server: Any
) -> None:
    question = receive(
        world,
        eml(subject="询价：空压机", message_id="<ask@acme.cn>", references="<older@acme.cn>"),
        hours_ago=2,
    )
    reply = services.mail_reply(message_id=question.pk, text="王工您好，报价单见附件说明。", by=cast.rep_east)

    [(rcpt, raw)] = smtp_server.wait_for(1)
    assert rcpt == ["buyer@acme.cn"]
    sent = parse_message(raw)
    assert sent.in_reply_to == "<ask@acme.cn>"
    assert sent.references == ["<older@acme.cn>", "<ask@acme.cn>"]
    assert sent.subject == "Re: 询价：空压机"
    assert sent.message_id == reply.message_id
    assert sent.sender is not None and sent.sender.address == "sales@kehu.test"
    assert "报价单见附件说明" in sent.text

    question.refresh_from_db()
    assert question.response == "replied" and question.first_response_id == reply.pk
    assert selectors.sla_of(question).state == "in_time"
    assert 2 * 3600 - 60 <= selectors.sla_of(question).response_seconds <= 2 * 3600 + 60
    interaction = Interaction.objects.get(pk=reply.interaction_id)
    assert interaction.channel.code == "email" and interaction.direction == "outbound"
    assert interaction.contact == world.wang
    world.acme.refresh_from_db()
    assert world.acme.last_contact_at == interaction.occurred_at
    # The thread now reads question, then our reply.
    _thread, messages = selectors.thread_get(actor=cast.rep_east, thread_id=question.thread_id)
    assert [m.direction for m in messages] == ["inbound", "outbound"]


def test_a_reply_the_smtp_server_cannot_take_writes_nothing(
    cast: Any, world: SimpleNamespace, settings: Any
) -> None:
    from kehu.integrations.tests.servers import free_port

    question = receive(world, eml())
    settings.KEHU_MAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 5
    before = (MailMessage.objects.count(), Interaction.objects.count(), AuditEvent.objects.count())
    with pytest.raises(services.MailSendFailed):
        services.mail_reply(message_id=question.pk, text="您好", by=cast.rep_east)
    assert (MailMessage.objects.count(), Interaction.objects.count(), AuditEvent.objects.count()) == before
    question.refresh_from_db()
    assert question.response == "pending"


def test_refused_replies_send_nothing_and_write_nothing(
    cast: Any, world: SimpleNamespace, smtp_server: Any
) -> None:
    question = receive(world, eml())
    stranger = receive(world, eml(sender="who@nowhere.cn", subject="你好"))
    before = (MailMessage.objects.count(), Interaction.objects.count(), AuditEvent.objects.count())
    with pytest.raises(NotFound):  # rep_west does not see rep_east's customer
        services.mail_reply(message_id=question.pk, text="hi", by=cast.rep_west)
    with pytest.raises(PermissionDenied):  # the auditor may look, not write
        services.mail_reply(message_id=question.pk, text="hi", by=cast.auditor)
    with pytest.raises(ValidationError) as empty:
        services.mail_reply(message_id=question.pk, text="  ", by=cast.rep_east)
    assert empty.value.field == "text"
    with pytest.raises(ValidationError) as unmatched:
        services.mail_reply(message_id=stranger.pk, text="您好", by=cast.admin)
    assert unmatched.value.field == "customer"
    with pytest.raises(ValidationError) as bad_cc:
        services.mail_reply(message_id=question.pk, text="您好", cc=["not-an-address"], by=cast.rep_east)
    assert bad_cc.value.field == "cc"
    assert (MailMessage.objects.count(), Interaction.objects.count(), AuditEvent.objects.count()) == before
    assert smtp_server.messages() == []


def test_no_reply_needed_takes_a_reason_and_leaves_the_rule(cast: Any, world: SimpleNamespace) -> None:
    thanks = receive(world, eml(subject="谢谢"), hours_ago=30)
    with pytest.raises(ValidationError) as missing:
        services.mail_mark_no_reply(message_id=thanks.pk, reason=" ", by=cast.rep_east)
    assert missing.value.field == "reason"
    with pytest.raises(NotFound):
        services.mail_mark_no_reply(message_id=thanks.pk, reason="致谢", by=cast.rep_west)
    assert MailMessage.objects.get(pk=thanks.pk).response == "pending"
    services.mail_mark_no_reply(message_id=thanks.pk, reason="客户致谢，无需答复", by=cast.rep_east)
    thanks.refresh_from_db()
    assert (thanks.response, thanks.handled_by) == ("not_needed", cast.rep_east)
    assert selectors.message_list(actor=cast.rep_east, scene="missed").count == 0
    with pytest.raises(Conflict):
        services.mail_mark_no_reply(message_id=thanks.pk, reason="again", by=cast.rep_east)


# --- the 24-hour rule per person ------------------------------------------------------------------


@pytest.fixture
def backlog(cast: Any, world: SimpleNamespace) -> SimpleNamespace:
    """rep_east's customer: one fresh, one at risk (21 h), one missed (30 h), one answered late; rep_east2's
    customer: one missed; unmatched mail: one missed (the mailbox owner manager_east answers for it)."""
    fresh = receive(world, eml(subject="新询价"), hours_ago=1)
    risky = receive(world, eml(subject="样品"), hours_ago=21)
    missed = receive(world, eml(subject="投诉"), hours_ago=30)
    late = receive(world, eml(subject="发票"), hours_ago=50)
    reply = receive(world, eml(sender="sales@kehu.test", to="buyer@acme.cn", in_reply_to=late.message_id))
    MailMessage.objects.filter(pk=late.pk).update(first_response_at=late.received_at + timedelta(hours=26))
    MailMessage.objects.filter(pk=reply.pk).update(received_at=late.received_at + timedelta(hours=26))
    other = make_customer(cast.rep_east2, name="东二客户有限公司")
    make_contact(other, cast.rep_east2, name="刘总", email="liu@east2.cn")
    east2 = receive(world, eml(sender="liu@east2.cn", subject="合同"), hours_ago=40)
    nobody = receive(world, eml(sender="who@nowhere.cn", subject="咨询"), hours_ago=48)
    return SimpleNamespace(fresh=fresh, risky=risky, missed=missed, late=late, east2=east2, nobody=nobody)


def subjects(page: Any) -> set[str]:
    return {m.subject for m in page.items}


def test_rep_east_sees_his_own_mail_at_risk_and_missed(cast: Any, backlog: SimpleNamespace) -> None:
    assert subjects(selectors.message_list(actor=cast.rep_east, scene="pending")) == {
        "新询价",
        "样品",
        "投诉",
    }
    assert subjects(selectors.message_list(actor=cast.rep_east, scene="at_risk")) == {"样品"}
    assert subjects(selectors.message_list(actor=cast.rep_east, scene="missed")) == {"投诉", "发票"}
    [mine] = selectors.response_counts(actor=cast.rep_east)
    assert (mine.user_id, mine.pending, mine.at_risk, mine.missed) == (cast.rep_east.pk, 3, 1, 2)
    assert selectors.mail_attention(actor=cast.rep_east) == selectors.Attention(
        pending=3, at_risk=1, missed=1
    )


def test_manager_east_sees_his_teams_counts_per_person(cast: Any, backlog: SimpleNamespace) -> None:
    missed = selectors.message_list(actor=cast.manager_east, scene="missed")
    assert subjects(missed) == {"投诉", "发票", "合同", "咨询"}
    counts = {
        c.user_id: (c.pending, c.at_risk, c.missed)
        for c in selectors.response_counts(actor=cast.manager_east)
    }
    assert counts == {
        cast.rep_east.pk: (3, 1, 2),
        cast.rep_east2.pk: (1, 0, 1),
        cast.manager_east.pk: (1, 0, 1),
    }
    only_rep_east2 = selectors.message_list(
        actor=cast.manager_east, scene="missed", filters={"responsible": cast.rep_east2.pk}
    )
    assert subjects(only_rep_east2) == {"合同"}


def test_rep_west_sees_none_of_the_east_mail(cast: Any, backlog: SimpleNamespace) -> None:
    for scene in selectors.SCENES:
        assert selectors.message_list(actor=cast.rep_west, scene=scene).count == 0
    assert selectors.response_counts(actor=cast.rep_west) == []


def test_the_at_risk_threshold_is_a_setting(cast: Any, backlog: SimpleNamespace, settings: Any) -> None:
    settings.KEHU_MAIL_AT_RISK_HOURS = 0
    assert subjects(selectors.message_list(actor=cast.rep_east, scene="at_risk")) == {"新询价", "样品"}


def test_the_work_list_has_a_mail_section_for_the_responsible_person(
    cast: Any, backlog: SimpleNamespace
) -> None:
    section = {s.kind: s for s in work_list(actor=cast.rep_east)}["mail_pending"]
    assert section.count == 3
    assert [i.title for i in section.items] == ["投诉", "样品", "新询价"]  # oldest first
    from kehu.engagement.services import work_item_handle

    work_item_handle(kind="mail_pending", object_id=backlog.missed.pk, by=cast.rep_east)
    assert {s.kind: s for s in work_list(actor=cast.rep_east)}["mail_pending"].count == 2


def test_the_customer_tab_badge_counts_unanswered_mail(
    cast: Any, world: SimpleNamespace, backlog: SimpleNamespace
) -> None:
    assert selectors.customer_mail_count(cast.rep_east, world.acme) == 3
    assert selectors.customer_mail_count(cast.rep_west, world.acme) == 0
    entries = selectors.timeline_entries(cast.rep_east, [world.acme.pk], 50)
    assert {e.data["subject_label"] for e in entries} >= {"新询价", "样品", "投诉", "发票"}


# --- mailboxes ------------------------------------------------------------------------------------


def test_only_mail_managers_configure_mailboxes_and_the_password_stays_put(
    cast: Any, world: SimpleNamespace, nothing_changes: Any
) -> None:
    with nothing_changes(Mailbox, AuditEvent), pytest.raises(PermissionDenied):
        mailboxes.mailbox_create(data={"name": "x", "address": "x@kehu.test"}, by=cast.manager_east)
    with nothing_changes(Mailbox, AuditEvent), pytest.raises(ValidationError) as bad:
        mailboxes.mailbox_create(data={"name": "坏邮箱", "address": "not an address"}, by=cast.admin)
    assert bad.value.field == "address"
    box = mailboxes.mailbox_create(
        data={"name": "客服邮箱", "address": "Service@Kehu.test", "imap_host": "imap.kehu.test", "imap_username": "service",
              "imap_password": "s3cret"},
        by=cast.admin,
    )  # fmt: skip
    assert box.address == "service@kehu.test" and box.imap_password == "s3cret"
    event = AuditEvent.objects.filter(subject_type="mailbox", verb="create").latest("id")
    assert "s3cret" not in str(event.changes)
    mailboxes.mailbox_update(
        mailbox_id=box.pk, version=box.version, data={"imap_password": "", "imap_port": 1993}, by=cast.admin
    )
    box.refresh_from_db()
    assert (box.imap_password, box.imap_port) == ("s3cret", 1993)  # empty = keep
    with pytest.raises(Conflict):
        mailboxes.mailbox_update(mailbox_id=box.pk, version=1, data={"name": "改名"}, by=cast.admin)
    token = mailboxes.mailbox_token_rotate(mailbox_id=box.pk, by=cast.admin)
    assert mailboxes.mailbox_for_token(token) == box
    assert mailboxes.mailbox_for_token(token + "x") is None
    assert (
        mailboxes.mailbox_for_token(mailboxes.mailbox_token_rotate(mailbox_id=box.pk, by=cast.admin)) == box
    )
    assert mailboxes.mailbox_for_token(token) is None  # the old one stopped working
    assert not Customer.objects.filter(email="service@kehu.test").exists()
