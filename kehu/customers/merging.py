"""Moving the records of customers merged before merges took them along (CUS-5).

Until 2026-12 a merge moved contacts, tags and collaborators only; a merged customer's orders,
opportunities, interactions and tickets stayed filed under it and so dropped out of the keeper's 360°
page and out of the reports. Each domain's data migration calls :func:`move_merged_rows` for its tables;
today's merges move them at once (``extensions.MergeMove``)."""

from __future__ import annotations

from typing import Any


def final_keepers(customer_model: Any) -> dict[int, int]:
    """Every merged customer's id → the customer its merges end in (a merge of a keeper is followed; a
    cycle, which the merge service does not make, ends where it closes)."""
    into = dict(customer_model.objects.filter(merged_into__isnull=False).values_list("id", "merged_into_id"))
    out = {}
    for merged, root in into.items():
        seen = {merged}
        while root in into and root not in seen:
            seen.add(root)
            root = into[root]
        out[merged] = root
    return out


def move_merged_rows(apps: Any, labels: list[tuple[str, str]]) -> int:
    """For each (``app_label.Model``, foreign-key field) of ``labels``: the rows naming a merged customer
    name its final keeper (versioned rows get a new version). Historical models, for a data migration."""
    from django.db.models import F

    keepers = final_keepers(apps.get_model("customers", "Customer"))
    by_keeper: dict[int, list[int]] = {}
    for merged, keeper in keepers.items():
        by_keeper.setdefault(keeper, []).append(merged)
    moved = 0
    for label, field in labels:
        model = apps.get_model(label)
        versioned = any(f.name == "version" for f in model._meta.get_fields())
        for keeper, ids in by_keeper.items():
            values: dict[str, Any] = {f"{field}_id": keeper}
            if versioned:
                values["version"] = F("version") + 1
            for start in range(0, len(ids), 500):
                rows = model._base_manager.filter(**{f"{field}_id__in": ids[start : start + 500]})
                moved += rows.update(**values)
    return moved
