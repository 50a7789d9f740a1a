"""Importing products (SAL-9, CUS-8): ``kehu import products file.xlsx``, and the import page's 产品 kind.

Every row goes through ``catalog.rules.clean_product``, the rule the product form and the API use. A
row whose 产品编号 exists already (case-insensitive) is a duplicate: skipped, or — with "update" —
updated with the file's non-blank cells. The catalogue sits beside customers (it may not import their
import helpers), so its importer lives here, in the layer that orchestrates every kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm
from kehu.access.scope import require
from kehu.catalog.choices import RiskLevel, UnitKind
from kehu.catalog.events import ProductChanged
from kehu.catalog.models import Product
from kehu.catalog.rules import clean_product, product_search_text
from kehu.core.bulk import insert_rows, update_rows
from kehu.core.errors import KehuError
from kehu.core.events import DomainEvent, diff, emit_many
from kehu.core.tabular import Column, formula_problem, header_key
from kehu.customers.importing import RowResult, WriteCounts, choice_lookup, choice_values

TRUE = {"是", "y", "yes", "true", "1", "√", "可以"}


def product_columns() -> list[Column]:
    return [
        Column("code", "产品编号", "Code", required=True, example="SM-100", note=_("字母、数字和 . _ - /，唯一")),
        Column("name", "产品名称", "Name", required=True, example="伺服电机"),
        Column("model", "型号", "Model", example="SM-100"),
        Column("specification", "规格", "Specification", example="1.0 kW / 220 V"),
        Column("category", "产品类别", "Category", example="电机"),
        Column("unit", "单位", "Unit", example="台", note=_("留空为“件”")),
        Column("unit_kind", "计量方式", "Unit kind", text=False, values=choice_values(UnitKind)),
        Column("price", "标准单价", "Price", text=False, example="1680.00"),
        Column("cost", "成本单价", "Cost", text=False, example="1050.00"),
        Column("currency", "币种", "Currency", text=False, example="CNY"),
        Column("packaging", "包装", "Packaging", example="纸箱，每箱 1 台"),
        Column("features", "产品特点", "Features", example="高精度编码器"),
        Column("risk_level", "风险等级", "Risk level", text=False, values=choice_values(RiskLevel),
               note=_("理财产品填 R1–R5，其他留空")),
        Column("electronic_delivery", "可电子交付", "Electronic delivery", text=False, note=_("是 / 否")),
        Column("sample_limit", "样品上限", "Sample limit", text=False, example="3"),
    ]  # fmt: skip


def _event(by: User, verb: str, product: Product, changes: dict[str, Any]) -> DomainEvent:
    return ProductChanged(
        actor_id=by.pk, verb=verb, subject_type="product", subject_id=product.pk,
        subject_label=f"{product.code} {product.name}"[:200], changes=changes,
    )  # fmt: skip


class ProductImporter:
    """Products for ``by``, who needs ``data.import`` and ``product.manage``."""

    kind = "products"

    def __init__(self, *, by: User) -> None:
        require(by, Perm.DATA_IMPORT)
        require(by, Perm.PRODUCT_MANAGE)
        self.by = by
        self.columns = product_columns()
        self.labels = {c.key: c.zh for c in self.columns}
        self.unit_kinds = choice_lookup(UnitKind)
        self.seen: dict[str, int] = {}

    def _clean(self, values: dict[str, str]) -> dict[str, Any]:
        data: dict[str, Any] = {k: v for k, v in values.items() if v != ""}
        data.setdefault("code", "")
        data.setdefault("name", "")
        if "unit_kind" in data:
            data["unit_kind"] = self.unit_kinds.get(header_key(data["unit_kind"]), data["unit_kind"])
        if "risk_level" in data:
            data["risk_level"] = str(data["risk_level"])[:2]
        if "electronic_delivery" in data:
            data["electronic_delivery"] = header_key(data["electronic_delivery"]) in TRUE
        return clean_product(data, creating=True)

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
        codes = {r.cleaned["code"].lower() for r in results if not r.errors}
        existing_qs = Product.objects.annotate(code_lower=Lower("code")).filter(code_lower__in=sorted(codes))
        if lock:
            existing_qs = existing_qs.select_for_update()
        existing = {p.code.lower(): p for p in existing_qs if p.code.lower() in codes}
        for result in results:
            if result.errors:
                continue
            key = result.cleaned["code"].lower()
            if key in self.seen:
                result.action, result.duplicate_kind = "skip", "file"
                result.duplicate = (_("与第 %(n)s 行的产品编号相同"), {"n": self.seen[key]})
                continue
            self.seen[key] = result.row
            target = existing.get(key)
            if target is None:
                continue
            result.target, result.duplicate_kind = target, "existing"
            result.duplicate = f"{target.code} {target.name}"
            given = {k: v for k, v in result.cleaned.items() if values_given(result.values, k)}
            result.changes = {
                k: [getattr(target, k), v]
                for k, v in given.items()
                if getattr(target, k) != v and k != "code"
            }
            result.action = "update" if result.changes else "unchanged"
        return results

    def write(self, results: Sequence[RowResult], *, on_duplicate: str, batch_id: int) -> WriteCounts:
        counts = WriteCounts()
        now = timezone.now()
        new: list[Product] = []
        for r in results:
            if r.action != "create":
                continue
            product = Product(**r.cleaned)
            product.search_text = product_search_text(
                name=product.name, code=product.code, model=product.model
            )
            product.created_at = product.updated_at = now
            new.append(product)
        insert_rows(Product, new)
        events: list[DomainEvent] = [
            _event(
                self.by,
                "import",
                p,
                {
                    **diff({}, {k: getattr(p, k) for k in ("code", "name", "price")}),
                    "import_batch": [None, batch_id],
                },
            )
            for p in new
        ]
        updates = [r for r in results if r.action == "update"]
        if updates and on_duplicate == "update":
            fields: set[str] = set()
            changed = []
            for r in updates:
                product = r.target
                for key, (_old, value) in r.changes.items():
                    setattr(product, key, value)
                    fields.add(key)
                product.search_text = product_search_text(
                    name=product.name, code=product.code, model=product.model
                )
                product.updated_at = now
                product.version += 1
                changed.append(product)
                events.append(_event(self.by, "update", product, {**{k: [str(o), str(v)] for k, (o, v) in r.changes.items()},
                                                                   "import_batch": [None, batch_id]}))  # fmt: skip
            update_rows(Product, changed, sorted(fields | {"search_text", "updated_at", "version"}))
            counts.updated = len(changed)
        else:
            counts.skipped += len(updates)
        emit_many(events)
        counts.created = len(new)
        counts.unchanged = sum(1 for r in results if r.action == "unchanged")
        counts.skipped += sum(1 for r in results if r.action == "skip")
        return counts


def values_given(values: dict[str, str], key: str) -> bool:
    """A cell the file filled (a blank cell never overwrites what is stored)."""
    return str(values.get(key, "")).strip() != ""
