"""Importing customers, contacts and interactions (CUS-8): dry run, duplicates, commit, idempotence."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.utils import translation
from openpyxl import load_workbook

from kehu.audit.models import AuditEvent
from kehu.core.errors import PermissionDenied, ValidationError
from kehu.customers import services as customer_services
from kehu.customers.models import Contact, Customer
from kehu.engagement.models import Interaction
from kehu.imports import services
from kehu.imports.models import ImportBatch, ImportProblem

from .files import csv_bytes, xlsx

pytestmark = pytest.mark.django_db

CREDIT = "91310000MA1FL8TQ36"  # a valid 统一社会信用代码 (GB 32100 check character)


def _state() -> tuple[Any, ...]:
    return (
        list(Customer.objects.order_by("pk").values_list("name", "mobile", "owner_id", "version")),
        list(Contact.objects.order_by("pk").values_list("name", "mobile", "version")),
        Interaction.objects.count(),
        AuditEvent.objects.count(),
    )


def _problems(batch: ImportBatch, kind: str | None = None) -> list[tuple[int, str, str]]:
    rows = batch.problems.all() if kind is None else batch.problems.filter(kind=kind)
    return [(p.row, p.field, p.message) for p in rows]


def test_template_round_trip_imports_its_example_row(manager_east: Any) -> None:
    with translation.override("zh-hans"):
        data, name = services.import_template(kind="customers", fmt="xlsx", by=manager_east)
    assert name.endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert headers[0] == "客户名称*" and "统一社会信用代码" in headers and "负责人" in headers
    notes = workbook.worksheets[1]
    text = " ".join(str(c.value) for row in notes.iter_rows() for c in row if c.value)
    assert "YYYY-MM-DD" in text and "企业客户" in text and "制造业" in text

    batch = services.import_run_file(kind="customers", name=name, data=data, by=manager_east, dry_run=False)

    assert (batch.total_rows, batch.created, batch.error_rows) == (1, 1, 0)
    customer = Customer.objects.get(name="上海示例科技有限公司")
    assert customer.credit_code == CREDIT and customer.owner == manager_east
    assert customer.industry is not None and customer.industry.label == "制造业"


def test_csv_template_is_utf8_with_bom(manager_east: Any) -> None:
    data, name = services.import_template(kind="contacts", fmt="csv", by=manager_east)
    assert data.startswith("\ufeff".encode()) and name.endswith(".csv")
    assert "姓名*" in data.decode("utf-8-sig").splitlines()[0]


def test_headers_match_by_chinese_or_english_name_in_any_case(manager_east: Any) -> None:
    data = xlsx(["name", "MOBILE", "行业", "Credit Code"], [["英文表头公司", "13800138001", "it", CREDIT]])
    batch = services.import_run_file(
        kind="customers", name="en.xlsx", data=data, by=manager_east, dry_run=False
    )
    customer = Customer.objects.get(name="英文表头公司")
    assert (batch.created, customer.mobile, customer.industry.code) == (1, "13800138001", "it")


def test_an_unknown_column_is_refused_naming_it_and_nothing_is_stored(manager_east: Any) -> None:
    before = (_state(), ImportBatch.objects.count())
    with pytest.raises(ValidationError) as refused:
        services.import_upload(kind="customers", name="x.xlsx", data=xlsx(["客户名称", "传真号"], [["甲公司", "1"]]),
                               by=manager_east)  # fmt: skip
    assert refused.value.field == "file" and "传真号" in refused.value.text("zh-hans")
    assert "Unrecognised" in refused.value.text("en") or "传真号" in refused.value.text("en")
    assert (_state(), ImportBatch.objects.count()) == before


def test_dry_run_names_row_and_field_of_every_error_and_writes_nothing(manager_east: Any) -> None:
    data = xlsx(
        ["客户名称", "手机号", "邮箱", "统一社会信用代码", "生日", "客户类型"],
        [
            ["好公司", "13800138002", "", "", "", ""],
            ["", "12345", "not-an-email", "", "", ""],  # row 3: three errors
            ["坏代码公司", "", "", "91310000MA1FL8TQ37", "", ""],  # row 4: check character
            ["个人", "", "", "", "2099-01-01", "个人客户"],  # row 5: birthday in the future
            ['=HYPERLINK("x")', "", "", "", "", ""],  # row 6: formula
        ],
    )
    before = _state()

    batch = services.import_upload(kind="customers", name="errors.xlsx", data=data, by=manager_east)

    assert _state() == before
    assert (batch.total_rows, batch.new_rows, batch.error_rows) == (5, 1, 4)
    errors = {(row, field) for row, field, _m in _problems(batch, "error")}
    assert errors == {
        (3, "name"),
        (3, "mobile"),
        (3, "email"),
        (4, "credit_code"),
        (5, "birthday"),
        (6, "name"),
    }
    mobile = batch.problems.get(row=3, field="mobile")
    assert (
        mobile.column == "手机号"
        and mobile.message
        and mobile.message_en
        and mobile.message != mobile.message_en
    )


def test_duplicates_against_the_archive_and_within_the_file(manager_east: Any, rep_west: Any) -> None:
    mine = customer_services.customer_create(
        data={"name": "华为技术有限公司", "mobile": "13800138003"}, by=manager_east
    )
    theirs = customer_services.customer_create(data={"name": "西部公司", "credit_code": CREDIT}, by=rep_west)
    data = csv_bytes(
        ["客户名称", "手机号", "统一社会信用代码", "城市"],
        [
            ["华为技术（深圳）有限公司", "", "", "深圳"],  # row 2: same normalised name as mine → update
            ["另一家", "", CREDIT, ""],  # row 3: same credit code as rep_west's → not mine: skip
            ["新公司", "13900139000", "", ""],  # row 4: new
            ["新公司有限公司", "", "", ""],  # row 5: same as row 4 within the file
        ],
    )
    batch = services.import_upload(kind="customers", name="dups.csv", data=data, by=manager_east)

    assert (batch.new_rows, batch.duplicate_rows, batch.error_rows) == (1, 3, 0)
    dups = {p.row: p for p in batch.problems.filter(kind="duplicate")}
    assert dups[2].action == "update" and mine.code in dups[2].message and "city" in dups[2].message
    assert dups[3].action == "skip" and "西部公司" not in dups[3].message and "陈华南" in dups[3].message
    assert dups[5].action == "skip" and "4" in dups[5].message and dups[5].code == "file"
    assert dups[5].message_en == "Duplicate within the file: the same customer as row 4"
    assert "owner: 陈华南" in dups[3].message_en and "负责人" in dups[3].message

    done = services.import_commit(batch_id=batch.pk, on_duplicate="update", by=manager_east)

    assert (done.created, done.updated, done.skipped) == (1, 1, 2)
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.city == "深圳" and mine.version == 2 and theirs.name == "西部公司"
    assert Customer.objects.filter(name__startswith="新公司").count() == 1


def test_skip_leaves_duplicates_as_they_are(manager_east: Any) -> None:
    mine = customer_services.customer_create(data={"name": "跳过公司", "city": "杭州"}, by=manager_east)
    data = xlsx(["客户名称", "城市"], [["跳过公司", "宁波"]])
    batch = services.import_run_file(
        kind="customers", name="s.xlsx", data=data, by=manager_east, dry_run=False
    )
    mine.refresh_from_db()
    assert (batch.created, batch.updated, batch.skipped, mine.city, mine.version) == (0, 0, 1, "杭州", 1)


def test_a_chunk_with_an_error_writes_nothing_and_the_others_are_written(
    manager_east: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "CHUNK_ROWS", 3)
    rows = [[f"分批公司{i}", f"1380013{i:04d}"] for i in range(7)]
    rows[4][1] = "123"  # row 6 (chunk 2: rows 5–7) is wrong
    data = xlsx(["客户名称", "手机号"], rows)

    batch = services.import_run_file(
        kind="customers", name="c.xlsx", data=data, by=manager_east, dry_run=False
    )

    assert [(c["first"], c["last"], c["status"]) for c in batch.chunks] == [
        (2, 4, "written"),
        (5, 7, "blocked"),
        (8, 8, "written"),
    ]
    assert (batch.created, batch.blocked_rows) == (4, 3)
    names = set(Customer.objects.values_list("name", flat=True))
    assert names == {"分批公司0", "分批公司1", "分批公司2", "分批公司6"}


def test_importing_the_same_file_again_changes_nothing(manager_east: Any) -> None:
    customers = xlsx(["客户名称", "手机号", "城市", "行业"], [["幂等公司", "13800138010", "苏州", "制造业"],
                                                      ["幂等二号", "", "无锡", ""]])  # fmt: skip
    first = services.import_run_file(kind="customers", name="a.xlsx", data=customers, by=manager_east,
                                     dry_run=False, on_duplicate="update")  # fmt: skip
    contacts = csv_bytes(
        ["客户", "姓名", "手机号"], [["幂等公司", "王五", "13900139011"]], encoding="gb18030"
    )
    services.import_run_file(kind="contacts", name="b.csv", data=contacts, by=manager_east, dry_run=False,
                             on_duplicate="update")  # fmt: skip
    before = _state()

    again = services.import_run_file(kind="customers", name="a.xlsx", data=customers, by=manager_east,
                                     dry_run=False, on_duplicate="update")  # fmt: skip
    contacts_again = services.import_run_file(kind="contacts", name="b.csv", data=contacts, by=manager_east,
                                              dry_run=False, on_duplicate="update")  # fmt: skip

    assert first.created == 2
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert (contacts_again.created, contacts_again.updated, contacts_again.unchanged) == (0, 0, 1)
    # Nothing changed but the two batches' own summary events.
    customers_now, contacts_now, interactions_now, audit_now = _state()
    assert (customers_now, contacts_now, interactions_now) == before[:3]
    assert audit_now == before[3] + 2


def test_contacts_attach_by_code_credit_code_or_name_and_gb18030_is_read(
    manager_east: Any, rep_west: Any
) -> None:
    a = customer_services.customer_create(data={"name": "甲方有限公司"}, by=manager_east)
    b = customer_services.customer_create(data={"name": "乙方", "credit_code": CREDIT}, by=manager_east)
    west = customer_services.customer_create(data={"name": "西部客户"}, by=rep_west)
    data = csv_bytes(
        ["客户编号", "客户统一社会信用代码", "客户", "姓名", "手机号", "主要联系人"],
        [
            [a.code, "", "", "张一", "13900139001", ""],
            ["", CREDIT, "", "李二", "", "是"],
            ["", "", "甲方", "王三", "", ""],
            ["", "", "西部客户", "赵四", "", ""],  # not editable by manager_east
        ],
        encoding="gb18030",
    )
    batch = services.import_run_file(
        kind="contacts", name="gbk.csv", data=data, by=manager_east, dry_run=True
    )
    assert _problems(batch, "error") == [(5, "customer", "客户“西部客户”不存在或您无权编辑")]
    assert not Contact.objects.filter(customer=west).exists()

    ok = data.decode("gb18030").rsplit("\r\n", 2)[0].encode("gb18030")  # without the last row
    done = services.import_run_file(kind="contacts", name="gbk.csv", data=ok, by=manager_east, dry_run=False)
    assert done.created == 3
    assert sorted(a.contacts.values_list("name", "is_primary")) == [("张一", True), ("王三", False)]
    assert list(b.contacts.values_list("name", "is_primary")) == [("李二", True)]
    a.refresh_from_db()
    assert "王三" in a.search_text and "13900139001" in a.search_text


def test_interactions_go_through_the_interaction_rules_and_move_last_contact(manager_east: Any) -> None:
    customer = customer_services.customer_create(data={"name": "跟进公司"}, by=manager_east)
    customer_services.contact_create(customer_id=customer.pk, data={"name": "钱六"}, by=manager_east)
    data = xlsx(
        ["客户", "联系人", "沟通渠道", "沟通时间", "沟通内容", "下次跟进日期"],
        [
            ["跟进公司", "钱六", "电话", "2026-01-05 10:00", "询价", "2026-01-20"],
            ["跟进公司", "", "wechat", "2026-01-06 09:30", "发样品照片", ""],
            ["跟进公司", "不存在", "电话", "2026-01-07 09:30", "x", ""],  # contact of another customer
            ["跟进公司", "", "电话", "2026-01-08 09:30", "y", "2026-01-01"],  # next before the contact
        ],
    )
    batch = services.import_run_file(
        kind="interactions", name="i.xlsx", data=data, by=manager_east, dry_run=True
    )
    assert {(r, f) for r, f, _m in _problems(batch, "error")} == {(4, "contact"), (5, "next_follow_up_on")}

    ok = xlsx(["客户", "联系人", "沟通渠道", "沟通时间", "沟通内容", "下次跟进日期"],
              [["跟进公司", "钱六", "电话", "2026-01-05 10:00", "询价", "2026-01-20"],
               ["跟进公司", "", "wechat", "2026-01-06 09:30", "发样品照片", ""]])  # fmt: skip
    done = services.import_run_file(
        kind="interactions", name="i.xlsx", data=ok, by=manager_east, dry_run=False
    )
    again = services.import_run_file(
        kind="interactions", name="i.xlsx", data=ok, by=manager_east, dry_run=False
    )

    assert (done.created, again.created, again.unchanged) == (2, 0, 2)
    customer.refresh_from_db()
    assert customer.last_contact_at is not None and customer.last_contact_at.day == 6
    assert Interaction.objects.get(summary="询价").contact.name == "钱六"


def test_owner_column_only_within_the_data_scope(manager_east: Any, rep_east: Any, rep_west: Any) -> None:
    data = xlsx(["客户名称", "负责人"], [["给张华东", "rep_east"], ["给陈华南", "陈华南"]])
    batch = services.import_upload(kind="customers", name="o.xlsx", data=data, by=manager_east)
    assert [(r, f) for r, f, _m in _problems(batch, "error")] == [(3, "owner")]
    fixed = xlsx(["客户名称", "负责人"], [["给张华东", "张华东"]])
    done = services.import_run_file(
        kind="customers", name="o.xlsx", data=fixed, by=manager_east, dry_run=False
    )
    assert done.created == 1 and Customer.objects.get(name="给张华东").owner == rep_east


def test_a_rep_without_the_import_permission_is_refused_and_nothing_changes(
    rep_east: Any, auditor: Any
) -> None:
    before = (_state(), ImportBatch.objects.count(), ImportProblem.objects.count())
    for user in (rep_east, auditor):
        with pytest.raises(PermissionDenied):
            services.import_upload(
                kind="customers", name="x.xlsx", data=xlsx(["客户名称"], [["甲"]]), by=user
            )
        with pytest.raises(PermissionDenied):
            services.import_template(kind="customers", by=user)
    assert (_state(), ImportBatch.objects.count(), ImportProblem.objects.count()) == before


def test_every_written_record_is_audited_once(manager_east: Any) -> None:
    data = xlsx(["客户名称"], [["审计一"], ["审计二"]])
    before = AuditEvent.objects.count()
    batch = services.import_run_file(
        kind="customers", name="a.xlsx", data=data, by=manager_east, dry_run=False
    )
    events = AuditEvent.objects.order_by("id")[before:]
    assert [e.verb for e in events] == ["import", "import", "import"]
    assert {e.customer_id for e in events[:2]} == set(Customer.objects.values_list("pk", flat=True))
    assert events[2].subject_type == "import_batch" and events[2].subject_id == batch.pk


def test_a_committed_batch_is_not_committed_twice(manager_east: Any) -> None:
    batch = services.import_run_file(kind="customers", name="a.xlsx", data=xlsx(["客户名称"], [["一次"]]),
                                     by=manager_east, dry_run=False)  # fmt: skip
    from kehu.core.errors import Conflict

    with pytest.raises(Conflict):
        services.import_commit(batch_id=batch.pk, on_duplicate="skip", by=manager_east)
    assert Customer.objects.count() == 1


def test_large_files_run_as_background_jobs_with_progress(manager_east: Any) -> None:
    """The tests' task backend runs a job as soon as it is queued, through the real job records."""
    from kehu.jobs.models import Job

    data = xlsx(["客户名称", "手机号"], [[f"后台公司{i}", f"1370013{i:04d}"] for i in range(30)])
    batch = services.import_upload(
        kind="customers", name="big.xlsx", data=data, by=manager_east, background=True
    )
    check_job = Job.objects.get(pk=batch.job_id)
    assert (check_job.kind, check_job.status, check_job.result["new"]) == ("imports.check", "succeeded", 30)
    assert (batch.status, batch.new_rows) == ("checked", 30) and Customer.objects.count() == 0

    done = services.import_commit_request(
        batch_id=batch.pk, on_duplicate="update", by=manager_east, background=True
    )

    job = Job.objects.get(pk=done.job_id)
    assert (job.kind, job.status, job.progress_done, job.progress_total) == (
        "imports.commit",
        "succeeded",
        30,
        30,
    )
    assert (done.status, done.created, done.on_duplicate) == ("done", 30, "update")
    assert Customer.objects.filter(name__startswith="后台公司", owner=manager_east).count() == 30


def test_a_commit_interrupted_half_way_resumes_after_its_last_chunk(
    manager_east: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed after the first chunk: the job runs again and writes only what is missing."""
    monkeypatch.setattr(services, "CHUNK_ROWS", 2)
    data = xlsx(["客户名称"], [[f"断点公司{i}"] for i in range(5)])
    batch = services.import_upload(kind="customers", name="r.xlsx", data=data, by=manager_east)
    original = services.CustomerImporter.write
    calls = {"n": 0}

    def dies_on_the_second_chunk(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("worker killed")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(services.CustomerImporter, "write", dies_on_the_second_chunk)
    with pytest.raises(SystemExit):
        services.import_commit(batch_id=batch.pk, on_duplicate="skip", by=manager_east)
    batch.refresh_from_db()
    assert batch.status == "committing" and len(batch.chunks) == 1 and Customer.objects.count() == 2

    from kehu.core.errors import Conflict

    with pytest.raises(Conflict):  # a second user click while it runs starts nothing
        services.import_commit(batch_id=batch.pk, on_duplicate="skip", by=manager_east)
    done = services.import_commit(batch_id=batch.pk, on_duplicate="skip", by=manager_east, resume=True)

    assert (done.status, done.created, [c["status"] for c in done.chunks]) == ("done", 5, ["written"] * 3)
    assert sorted(Customer.objects.values_list("name", flat=True)) == [f"断点公司{i}" for i in range(5)]


def test_birthdays_keep_their_next_celebration(manager_east: Any) -> None:
    """The 待办 birthday list reads the derived next-celebration date: imports set and update it too."""
    customer = customer_services.customer_create(data={"name": "生日公司"}, by=manager_east)
    data = xlsx(["客户", "姓名", "生日"], [["生日公司", "周七", "1990-03-15"]])
    services.import_run_file(kind="contacts", name="b.xlsx", data=data, by=manager_east, dry_run=False)
    contact = customer.contacts.get()
    assert contact.birthday.isoformat() == "1990-03-15" and contact.birthday_next is not None
    assert (contact.birthday_next.month, contact.birthday_next.day) == (3, 15)

    moved = xlsx(["客户", "姓名", "生日"], [["生日公司", "周七", "1990/6/1"]])
    services.import_run_file(kind="contacts", name="b.xlsx", data=moved, by=manager_east, dry_run=False,
                             on_duplicate="update")  # fmt: skip
    contact.refresh_from_db()
    assert (contact.birthday_next.month, contact.birthday_next.day) == (6, 1)
