"""Import of customers, contacts, interactions and leads from .xlsx and .csv (CUS-8, SAL-1).

``import_upload`` stores the file and runs the dry run: every row through the domain's own rules
(``customers.importing``, ``engagement.importing``), each error named by row and field, each duplicate
— of an existing record, or of an earlier row — with what would happen to it. ``import_commit`` then
writes the file in chunks of :data:`CHUNK_ROWS` rows, each chunk one transaction, all or nothing:

- a chunk holding any row with an error writes nothing (``blocked``), the others are written; the
  batch lists every chunk's rows and outcome, so the user sees exactly which rows were written. Fix
  the rows and import the file again: the rows already written are duplicates with equal values and
  change nothing (idempotent), the fixed ones are added;
- duplicates are skipped or, with ``on_duplicate="update"``, updated with the file's non-blank cells;
- every written record gets one audit event, inserted together with its chunk (no query per row).

The file is read again at commit and every rule checked again inside each chunk's transaction, so
what changed since the dry run (someone added the same customer meanwhile) is seen. A commit that
was interrupted (a worker killed mid-way) runs again from its last finished chunk.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any

from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm
from kehu.access.scope import require
from kehu.core.bulk import insert_values
from kehu.core.errors import Conflict, NotFound, ValidationError
from kehu.core.events import emit
from kehu.core.tabular import Column, read_table, suffix_of, template_csv, template_xlsx
from kehu.customers.events import CustomerChanged
from kehu.customers.importing import ContactImporter, CustomerImporter, RowResult, duplicate_text
from kehu.engagement.importing import InteractionImporter
from kehu.jobs.services import job_start
from kehu.sales.leads.importing import LeadImporter

from .choices import (
    BATCH_TRANSITIONS,
    BatchStatus,
    ChunkStatus,
    ImportKind,
    OnDuplicate,
    ProblemKind,
    RowAction,
)
from .models import ImportBatch, ImportProblem
from .products import ProductImporter

CHUNK_ROWS = 1000  # rows per transaction: all or nothing
MAX_FILE_BYTES = 50 * 1024 * 1024
# Larger files are checked and written by a background job (``kehu worker``) that shows its progress;
# smaller ones while the user waits. About 200 bytes a row in an .xlsx, so 1 MB is some 5,000 rows.
BACKGROUND_BYTES = 1024 * 1024
BACKGROUND_ROWS = 5000
Progress = Callable[[int, int, str], None]  # (rows done, rows in all, message)

PROBLEM_FIELDS = [f for f in ImportProblem._meta.concrete_fields if not f.primary_key]

IMPORTERS: dict[str, Any] = {
    ImportKind.CUSTOMERS: CustomerImporter,
    ImportKind.CONTACTS: ContactImporter,
    ImportKind.INTERACTIONS: InteractionImporter,
    ImportKind.PRODUCTS: ProductImporter,
    ImportKind.LEADS: LeadImporter,
}


def _importer(kind: str, by: User) -> Any:
    cls = IMPORTERS.get(kind)
    if cls is None:
        raise ValidationError(
            _("导入类型“%(k)s”无效（可选：%(all)s）"),
            field="kind",
            params={"k": kind, "all": ", ".join(ImportKind.values)},
        )
    return cls(by=by)


def _template_example(columns: list[Column]) -> list[str]:
    return [c.example for c in columns]


def import_template(*, kind: str, fmt: str = "xlsx", by: User) -> tuple[bytes, str]:
    """The template of ``kind`` (.xlsx with a notes sheet, or .csv) and its file name."""
    require(by, Perm.DATA_IMPORT)
    importer = _importer(kind, by)
    columns = importer.columns
    title = str(ImportKind(kind).label)
    if fmt == "csv":
        return template_csv(columns=columns, example=_template_example(columns)), f"kehu-{kind}-template.csv"
    if fmt != "xlsx":
        raise ValidationError(_("模板格式只能是 xlsx 或 csv"), field="format")
    notes = [
        _(
            "填写说明：第一行是列名（可用中文或英文列名，带 * 的为必填列），从第二行起每行一条记录；示例行请删除或改写。"
        ),
        _("日期格式为 YYYY-MM-DD（如 2026-03-02），时间为 YYYY-MM-DD HH:MM（北京时间）。"),
        _("以 = + - @ 开头的文本会被拒绝（防止公式注入），请删除开头的符号。"),
        _(
            "上传后系统先检查（试导入），列出每行的错误和重复；确认后再导入，每 %(n)s 行为一批，批内有错误则整批不写入。"
        )
        % {"n": CHUNK_ROWS},
        _(
            "重复的判断：客户按统一社会信用代码、身份证号、客户名称（忽略公司后缀和括号）或手机号；联系人按同一客户下的手机号、邮箱或姓名；跟进记录按客户、时间、渠道和内容。"
        ),
    ]
    data = template_xlsx(title=title, columns=columns, example=_template_example(columns),
                         notes_title=str(_("填写说明")), notes=[str(n) for n in notes])  # fmt: skip
    return data, f"kehu-{kind}-template.xlsx"


def _chunks(rows: Iterator[tuple[int, dict[str, str]]]) -> Iterator[list[tuple[int, dict[str, str]]]]:
    while chunk := list(islice(rows, CHUNK_ROWS)):
        yield chunk


def _problems(
    batch: ImportBatch, results: list[RowResult], columns: dict[str, Column]
) -> list[ImportProblem]:
    out = []
    texts = {language: _duplicate_texts(results, language) for language in ("zh-hans", "en")}
    for r in results:
        if r.errors:
            for error in r.errors:
                column = columns.get(error.field or "")
                out.append(
                    ImportProblem(
                        batch=batch, row=r.row, kind=ProblemKind.ERROR, field=error.field or "",
                        column=column.zh if column else "", code=error.code,
                        message=error.text("zh-hans")[:500], message_en=error.text("en")[:500],
                        action=RowAction.ERROR,
                    )
                )  # fmt: skip
        elif r.action != "create":
            chinese, english = texts["zh-hans"][r.row], texts["en"][r.row]
            out.append(
                ImportProblem(
                    batch=batch, row=r.row, kind=ProblemKind.DUPLICATE, field="", column="", code=r.duplicate_kind,
                    message=chinese[:500], message_en=english[:500], action=r.action,
                )
            )  # fmt: skip
    return out


def _save_problems(batch: ImportBatch, results: list[RowResult], columns: dict[str, Column]) -> None:
    """One row per problem; a file imported again has a duplicate on every row, so they go in as plain
    values in one statement (``core.bulk``), not through ``bulk_create``."""
    insert_values(
        ImportProblem,
        [
            {f.attname: getattr(p, f.attname) for f in PROBLEM_FIELDS}
            for p in _problems(batch, results, columns)
        ],
    )


def _duplicate_texts(results: list[RowResult], language: str) -> dict[int, str]:
    """What each duplicate row is, in ``language`` (one switch of language per chunk, not per row)."""
    with translation.override(language):
        return {r.row: _duplicate_text(r) for r in results if not r.errors and r.action != "create"}


def _duplicate_text(r: RowResult) -> str:
    duplicate = duplicate_text(r.duplicate)
    if r.duplicate_kind == "file":
        return str(_("文件内重复：%(d)s")) % {"d": duplicate}
    if r.action == "update":
        fields = "、".join(sorted(r.changes))
        return str(_("已存在：%(d)s（选择“更新”时将更新：%(f)s）")) % {"d": duplicate, "f": fields}
    if r.action == "unchanged":
        return str(_("已存在且内容相同：%(d)s")) % {"d": duplicate}
    return str(_("已存在：%(d)s（您无权修改，将跳过）")) % {"d": duplicate}


def _read(batch: ImportBatch, importer: Any) -> Iterator[tuple[int, dict[str, str]]]:
    batch.file.open("rb")
    _matched, rows = read_table(batch.file, name=batch.file_name, columns=importer.columns)
    return rows


def _bulk_session() -> None:
    """PostgreSQL, for this chunk's transaction only: do not wait for the commit to reach the disk (a
    crash may lose the last chunks, but never half of one: the chunk's record in ``batch.chunks`` is in
    the same transaction, so the resumed commit writes them again)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _batch(*, batch_id: int, by: User) -> ImportBatch:
    batch = ImportBatch.objects.visible_to(by).filter(pk=batch_id).first()
    if batch is None:
        raise NotFound(_("导入批次不存在或您无权查看"), field="id")
    return batch


def _transition(batch: ImportBatch, verb: str) -> str:
    allowed, target = BATCH_TRANSITIONS[verb]
    if batch.status not in allowed:
        raise Conflict(
            _("该导入批次当前状态为“%(s)s”，不能执行此操作"),
            field="status",
            code="batch_state",
            params={"s": BatchStatus(batch.status).label},
        )
    return target


def import_upload(
    *, kind: str, name: str, data: bytes, by: User, progress: Progress | None = None, check: bool = True,
    background: bool | None = None,
) -> ImportBatch:  # fmt: skip
    """Store an uploaded file and run its dry run (nothing but the batch and its problem list is
    written). File-level problems — unknown type, unreadable, unknown or missing columns — are
    refused naming the ``file`` field, and leave no batch behind."""
    require(by, Perm.DATA_IMPORT)
    importer = _importer(kind, by)
    if not data:
        raise ValidationError(_("请选择要导入的文件"), field="file")
    suffix_of(name)
    if len(data) > MAX_FILE_BYTES:
        raise ValidationError(
            _("文件不能超过 %(n)s MB"), field="file", params={"n": MAX_FILE_BYTES // (1024 * 1024)}
        )
    read_table(io.BytesIO(data), name=name, columns=importer.columns)  # headers are checked before storing
    batch = ImportBatch(kind=kind, file_name=name[-200:], created_by=by)
    batch.file.save(f"{timezone.now():%Y%m%d%H%M%S}{suffix_of(name)}", ContentFile(data), save=False)
    if not check:
        # Checked and written in one pass (``kehu import`` without --dry-run): the commit counts too.
        batch.status = BatchStatus.CHECKED
        batch.save()
        return batch
    batch.save()
    if background if background is not None else len(data) > BACKGROUND_BYTES:
        job = job_start(kind="imports.check", params={"batch_id": batch.pk}, title=_("导入：检查文件"), by=by)
        ImportBatch.objects.filter(pk=batch.pk).update(job_id=job.pk)
        return _batch(batch_id=batch.pk, by=by)
    return import_check(batch_id=batch.pk, by=by, progress=progress, importer=importer)


def import_check(
    *, batch_id: int, by: User, progress: Progress | None = None, importer: Any = None
) -> ImportBatch:
    """The dry run of an uploaded batch: counts of new rows, duplicates and errors, and the problem
    list. Writes nothing else; running it again gives the same answer."""
    require(by, Perm.DATA_IMPORT)
    batch = _batch(batch_id=batch_id, by=by)
    target = _transition(batch, "check")
    importer = importer or _importer(batch.kind, by)
    columns = {c.key: c for c in importer.columns}
    batch.problems.all().delete()
    new = duplicates = errors = total = 0
    for chunk in _chunks(_read(batch, importer)):
        results = importer.check(chunk)
        _save_problems(batch, results, columns)
        total += len(results)
        errors += sum(1 for r in results if r.errors)
        new += sum(1 for r in results if not r.errors and r.action == "create")
        duplicates += sum(1 for r in results if not r.errors and r.action != "create")
        if progress:
            progress(total, 0, str(_("正在检查")))
    batch.file.close()
    batch.total_rows, batch.new_rows, batch.duplicate_rows, batch.error_rows = total, new, duplicates, errors
    batch.status = target
    batch.checked_at = timezone.now()
    batch.save()
    return batch


def _start_commit(batch: ImportBatch, *, on_duplicate: str, by: User, resume: bool) -> None:
    """checked → committing, as one conditional UPDATE: of two commits of the same batch (a double
    click, two tabs) exactly one starts. ``resume`` is the job run again after its worker died."""
    if on_duplicate not in OnDuplicate.values:
        raise ValidationError(_("重复行的处理方式只能是 skip（跳过）或 update（更新）"), field="on_duplicate")
    if batch.created_by_id != by.pk:
        raise Conflict(_("只有上传该文件的人可以执行导入"), field="id", code="not_importer")
    _transition(batch, "commit")
    if resume and batch.status == BatchStatus.COMMITTING:
        return
    started = ImportBatch.objects.filter(pk=batch.pk, status=BatchStatus.CHECKED).update(
        status=BatchStatus.COMMITTING, on_duplicate=on_duplicate
    )
    if not started:
        raise Conflict(_("该文件正在导入中"), field="status", code="batch_state")
    batch.status, batch.on_duplicate = BatchStatus.COMMITTING, on_duplicate


def import_commit_request(
    *, batch_id: int, on_duplicate: str, by: User, background: bool | None = None
) -> ImportBatch:
    """What the page and the API call: commit while the user waits, or — above
    :data:`BACKGROUND_ROWS` rows — start the ``imports.commit`` job and return at once (the batch page
    and the job page show its progress)."""
    require(by, Perm.DATA_IMPORT)
    batch = _batch(batch_id=batch_id, by=by)
    if not (background if background is not None else batch.total_rows > BACKGROUND_ROWS):
        return import_commit(batch_id=batch_id, on_duplicate=on_duplicate, by=by)
    with transaction.atomic():
        _start_commit(batch, on_duplicate=on_duplicate, by=by, resume=False)
        job = job_start(
            kind="imports.commit", params={"batch_id": batch.pk}, title=_("导入：写入数据"), by=by
        )
        ImportBatch.objects.filter(pk=batch.pk).update(job_id=job.pk)
    return _batch(batch_id=batch_id, by=by)


def import_commit(
    *, batch_id: int, on_duplicate: str, by: User, progress: Progress | None = None, resume: bool = False
) -> ImportBatch:
    """Write a checked batch, chunk by chunk, each chunk all or nothing (see the module docstring).
    ``on_duplicate`` is ``skip`` or ``update``. A batch is committed once; with ``resume`` (the
    background job run again after its worker died) a commit continues after its last finished
    chunk, with the choice it started with."""
    require(by, Perm.DATA_IMPORT)
    batch = _batch(batch_id=batch_id, by=by)
    if resume and batch.status == BatchStatus.COMMITTING:
        on_duplicate = batch.on_duplicate or on_duplicate
    _start_commit(batch, on_duplicate=on_duplicate, by=by, resume=resume)
    target = BATCH_TRANSITIONS["commit"][1]
    importer = _importer(batch.kind, by)
    finished = len(batch.chunks)
    if finished == 0:
        batch.problems.all().delete()
        batch.created = batch.updated = batch.unchanged = batch.skipped = batch.blocked_rows = 0
        batch.done_rows = batch.new_rows = batch.duplicate_rows = batch.error_rows = 0
    else:
        last = batch.chunks[-1]["last"]
        batch.problems.filter(row__gt=last).delete()
    batch.save()
    columns = {c.key: c for c in importer.columns}
    for index, chunk in enumerate(_chunks(_read(batch, importer))):
        if index < finished:
            importer.check(chunk)  # only to remember its rows for the duplicates-within-the-file rule
            continue
        with transaction.atomic():
            _bulk_session()
            # Rows that may be updated are locked until the chunk commits; skipping needs no lock.
            results = importer.check(chunk, lock=on_duplicate == OnDuplicate.UPDATE)
            record: dict[str, Any] = {"first": chunk[0][0], "last": chunk[-1][0], "rows": len(chunk)}
            if any(r.errors for r in results):
                record.update(status=ChunkStatus.BLOCKED, errors=sum(1 for r in results if r.errors))
                batch.blocked_rows += len(chunk)
            else:
                counts = importer.write(results, on_duplicate=on_duplicate, batch_id=batch.pk)
                record.update(status=ChunkStatus.WRITTEN, created=counts.created, updated=counts.updated,
                              unchanged=counts.unchanged, skipped=counts.skipped)  # fmt: skip
                batch.created += counts.created
                batch.updated += counts.updated
                batch.unchanged += counts.unchanged
                batch.skipped += counts.skipped
            _save_problems(batch, results, columns)
            batch.chunks = [*batch.chunks, record]
            batch.done_rows += len(chunk)
            batch.error_rows += sum(1 for r in results if r.errors)
            batch.new_rows += sum(1 for r in results if not r.errors and r.action == "create")
            batch.duplicate_rows += sum(1 for r in results if not r.errors and r.action != "create")
            batch.total_rows = max(batch.total_rows, batch.done_rows)
            batch.save(update_fields=["chunks", "done_rows", "created", "updated", "unchanged", "skipped",
                                      "blocked_rows", "error_rows", "new_rows", "duplicate_rows", "total_rows"])  # fmt: skip
        if progress:
            progress(batch.done_rows, batch.total_rows, str(_("正在导入")))
    batch.file.close()
    batch.status = target
    batch.committed_at = timezone.now()
    batch.save()
    with transaction.atomic():
        emit(
            CustomerChanged(
                actor_id=by.pk, verb="import", subject_type="import_batch", subject_id=batch.pk,
                subject_label=f"{batch.get_kind_display()} · {batch.file_name}"[:200],
                changes={"created": [None, batch.created], "updated": [None, batch.updated],
                         "unchanged": [None, batch.unchanged], "skipped": [None, batch.skipped],
                         "blocked_rows": [None, batch.blocked_rows], "on_duplicate": [None, on_duplicate]},
            )
        )  # fmt: skip
    return batch


def import_run_file(
    *, kind: str, name: str, data: bytes, by: User, dry_run: bool, on_duplicate: str = OnDuplicate.SKIP,
    progress: Progress | None = None,
) -> ImportBatch:  # fmt: skip
    """Upload, check and (unless ``dry_run``) commit in one go — ``kehu import`` and the benchmark."""
    require(by, Perm.DATA_IMPORT)
    # In the foreground whatever the size: the command line waits for its answer.
    batch = import_upload(
        kind=kind, name=name, data=data, by=by, progress=progress, check=dry_run, background=False
    )
    if dry_run:
        return batch
    return import_commit(batch_id=batch.pk, on_duplicate=on_duplicate, by=by, progress=progress)
