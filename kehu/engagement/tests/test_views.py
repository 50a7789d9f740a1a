"""The interaction pages as the cast meets them: the 跟进记录 tab of the 360° page, the record and
correct forms (with files), the list with its filters, downloads. Refusals change nothing."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from kehu.customers.models import Customer
from kehu.customers.tests.factories import make_contact, make_customer
from kehu.engagement.models import Interaction

from .factories import make_interaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(cast: SimpleNamespace) -> Customer:
    return make_customer(cast.rep_east, name="东方精工机械有限公司")


def body(response: Any) -> str:
    return response.content.decode()


def form(**fields: Any) -> dict[str, Any]:
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    return {"channel": "phone", "direction": "outbound", "occurred_at": now, "summary": "", **fields}


def test_the_360_page_has_a_follow_up_tab_with_the_interactions_and_the_plan(
    cast: SimpleNamespace, acme: Customer, signed_in: Any
) -> None:
    make_interaction(
        acme,
        cast.rep_east,
        summary="王总确认扩产",
        next_step="上门拜访",
        next_follow_up_on=timezone.localdate(),
    )
    page = body(
        signed_in(cast.rep_east).get(reverse("customers:detail", args=[acme.pk]), {"tab": "interactions"})
    )
    assert 'data-testid="tab-interactions"' in page and "跟进记录 (1)" in page
    assert "王总确认扩产" in page and 'data-testid="next-follow-up"' in page and "紧急" in page
    assert 'data-testid="add-interaction"' in page
    # The timeline tab draws the interaction too.
    assert "通过电话沟通" in page


def test_an_empty_tab_says_what_to_do(cast: SimpleNamespace, acme: Customer, signed_in: Any) -> None:
    page = body(signed_in(cast.rep_east).get(reverse("customers:detail", args=[acme.pk])))
    assert "还没有跟进记录" in page
    assert 'data-testid="add-interaction"' not in body(
        signed_in(cast.marketing).get(reverse("customers:detail", args=[acme.pk]))
    )


def test_rep_east_records_a_visit_with_a_scanned_file_and_lands_on_the_tab(
    cast: SimpleNamespace, acme: Customer, signed_in: Any
) -> None:
    wang = make_contact(acme, cast.rep_east, name="王建国")
    client = signed_in(cast.rep_east)
    url = reverse("engagement:create", args=[acme.pk])
    assert "王建国" in body(client.get(url))
    scan = SimpleUploadedFile("现场照片.jpg", b"\xff\xd8\xff\xe0 jpeg bytes", content_type="image/jpeg")
    response = client.post(
        url,
        form(
            channel="visit",
            contact=str(wang.pk),
            summary="参观车间，确认产能",
            next_follow_up_on="",
            files=scan,
        ),
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"/customers/{acme.pk}/?tab=interactions")
    interaction = Interaction.objects.get()
    assert (interaction.channel.code, interaction.contact, interaction.summary) == (
        "visit",
        wang,
        "参观车间，确认产能",
    )
    attachment = interaction.attachments.get()
    download = client.get(reverse("engagement:attachment_download", args=[attachment.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"\xff\xd8\xff")
    assert (
        signed_in(cast.rep_west)
        .get(reverse("engagement:attachment_download", args=[attachment.pk]))
        .status_code
        == 404
    )


def test_a_bad_form_shows_the_error_at_its_field_and_saves_nothing(
    cast: SimpleNamespace, acme: Customer, signed_in: Any
) -> None:
    client = signed_in(cast.rep_east)
    url = reverse("engagement:create", args=[acme.pk])
    response = client.post(url, form(summary=""))
    assert response.status_code == 200 and 'data-error-for="summary"' in body(response)
    future = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(url, form(summary="明天的电话", occurred_at=future))
    assert 'data-error-for="occurred_at"' in body(response)
    fake = SimpleUploadedFile("报价.pdf", b"MZ\x90\x00", content_type="application/pdf")
    response = client.post(url, form(summary="带附件", files=fake))
    assert 'data-error-for="files"' in body(response) or "报价.pdf" in body(response)
    assert Interaction.objects.count() == 0


def test_a_stale_edit_shows_what_is_stored_now_and_keeps_the_typed_text(
    cast: SimpleNamespace, acme: Customer, signed_in: Any
) -> None:
    from kehu.engagement import services

    call = make_interaction(acme, cast.rep_east, summary="初稿")
    client = signed_in(cast.rep_east)
    url = reverse("engagement:edit", args=[call.pk])
    assert "初稿" in body(client.get(url))
    services.interaction_update(
        interaction_id=call.pk, version=call.version, data={"summary": "经理改过"}, by=cast.manager_east
    )
    posted = form(summary="我的修改", version=str(call.version))
    response = client.post(url, posted)
    page = body(response)
    assert response.status_code == 200 and 'data-testid="conflict"' in page
    assert "经理改过" in page and "我的修改" in page
    assert f'name="version" value="{call.version + 1}"' in page
    assert Interaction.objects.get(pk=call.pk).summary == "经理改过"
    # Saving again, now on the current version, goes through.
    assert client.post(url, {**posted, "version": str(call.version + 1)}).status_code == 302
    assert Interaction.objects.get(pk=call.pk).summary == "我的修改"


def test_rep_east2_may_not_edit_or_delete_rep_easts_interaction(
    cast: SimpleNamespace, acme: Customer, signed_in: Any
) -> None:
    from kehu.customers import services as customer_services

    customer_services.collaborator_set(
        customer_id=acme.pk, user=cast.rep_east2, can_edit=True, by=cast.rep_east
    )
    call = make_interaction(acme, cast.rep_east, summary="王磊的记录")
    client = signed_in(cast.rep_east2)
    page = body(client.get(reverse("customers:detail", args=[acme.pk])))
    assert "王磊的记录" in page and reverse("engagement:edit", args=[call.pk]) not in page
    response = client.post(reverse("engagement:delete", args=[call.pk]))
    assert response.status_code == 302
    assert Interaction.objects.get(pk=call.pk).deleted_at is None


def test_the_list_page_filters_and_says_when_nothing_matches(
    cast: SimpleNamespace, acme: Customer, signed_in: Any
) -> None:
    make_interaction(acme, cast.rep_east, channel="visit", summary="上门拜访")
    make_interaction(acme, cast.manager_east, channel="meeting", summary="评审会")
    client = signed_in(cast.manager_east)
    page = body(client.get(reverse("engagement:list")))
    assert "上门拜访" in page and "评审会" in page and "共 2 条" in page
    only_mine = body(client.get(reverse("engagement:list"), {"mine": "1"}))
    assert "评审会" in only_mine and "上门拜访" not in only_mine
    visits = body(client.get(reverse("engagement:list"), {"channel": "visit"}))
    assert "上门拜访" in visits and "评审会" not in visits
    none = body(client.get(reverse("engagement:list"), {"q": "不存在的内容"}))
    assert 'data-testid="empty"' in none and "没有符合条件的跟进记录" in none
    bad = body(client.get(reverse("engagement:list"), {"date_from": "昨天"}))
    assert 'data-testid="list-error"' in bad


def test_the_customer_list_shows_the_next_follow_up_and_filters_by_urgency(
    cast: SimpleNamespace, acme: Customer, signed_in: Any
) -> None:
    make_interaction(acme, cast.rep_east, next_follow_up_on=timezone.localdate() - timedelta(days=0))
    make_customer(cast.rep_east, name="没有计划的客户有限公司")
    client = signed_in(cast.rep_east)
    page = body(client.get(reverse("customers:list"), {"urgency": "urgent"}))
    assert "东方精工机械有限公司" in page and "没有计划的客户有限公司" not in page
    assert 'data-testid="urgency"' in page and 'data-testid="urgency-filter"' in page


def test_the_english_page_speaks_english(cast: SimpleNamespace, acme: Customer, signed_in: Any) -> None:
    make_interaction(acme, cast.rep_east)
    client = signed_in(cast.rep_east)
    client.post(reverse("set_language"), {"language": "en", "next": reverse("engagement:list")})
    page = body(client.get(reverse("engagement:list")))
    assert "Interactions" in page and "Phone" in page and "Outbound" in page
