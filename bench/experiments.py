"""What a proposed query shape would change, measured in-process on a benchmark database.

    KEHU_DATABASE_URL=… python -m bench.experiments [--runs 4] [--terms 华瑞,华瑞商贸,hrsm,5696]

Times ``selectors.customer_list`` (count + one page of 25, scene 全部) for the rep and the admin,
with the product's ``Customer.objects.visible_to`` and with the UNION-shaped variant proposed in
docs/benchmarks.md — patched into this process only, never into the product. The variant keeps the
same rows: owner in scope, collaborator, public pool (only when asked for: the 全部 scene excludes
the pool anyway, so the measurement passes ``pool=False``). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from typing import Any


def union_visible_to(self: Any, actor: Any, *, pool: bool = False) -> Any:
    """The proposal: UNION ALL of index lookups instead of ``owner IN … OR pk IN (…) OR owner IS NULL``."""
    from kehu.access.perms import Perm
    from kehu.access.scope import can, owner_ids_in_scope
    from kehu.customers.models import Customer, CustomerCollaborator

    if not can(actor, Perm.CUSTOMER_VIEW):
        return self.none()
    live = self.filter(deleted_at__isnull=True, merged_into__isnull=True)
    owners = owner_ids_in_scope(actor)
    if owners is None:  # 全部
        return live if pool else live.filter(owner__isnull=False)
    parts = [CustomerCollaborator.objects.filter(user=actor).values("customer_id")]
    if owners:
        parts.append(Customer.objects.filter(owner_id__in=sorted(owners)).order_by().values("pk"))
    if pool and can(actor, Perm.POOL_VIEW):
        parts.append(Customer.objects.filter(owner__isnull=True).order_by().values("pk"))
    ids = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return live.filter(pk__in=ids)


def _time(fn: Any, runs: int) -> tuple[float, float, Any]:
    fn()  # warm
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return min(times), statistics.median(times), result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--terms", default="")
    ap.add_argument("--max-ms", type=float, default=3000, help="skip repeats of a variant slower than this")
    args = ap.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()
    from kehu.access.models import User
    from kehu.customers import selectors
    from kehu.customers.models import CustomerQuerySet

    users = {u.username: u for u in User.objects.filter(username__in=["rep_east", "admin"])}
    terms = [t for t in args.terms.split(",") if t]
    cases = [("rep_east", ""), *[("rep_east", t) for t in terms], ("admin", "")]
    original = CustomerQuerySet.visible_to
    out: dict[str, Any] = {"cases": []}
    for variant, impl in (("current", original), ("union", union_visible_to)):
        CustomerQuerySet.visible_to = impl  # type: ignore[method-assign]
        try:
            for username, q in cases:
                actor = users[username]

                def call(actor: Any = actor, q: str = q) -> Any:
                    return selectors.customer_list(actor=actor, filters={"q": q} if q else {}, limit=25)

                first_t0 = time.perf_counter()
                call()
                first = (time.perf_counter() - first_t0) * 1000
                runs = 1 if first > args.max_ms else args.runs
                best, median, page = _time(call, runs)
                out["cases"].append({"variant": variant, "user": username, "q": q, "count": page.count,
                                     "min_ms": round(best, 1), "median_ms": round(median, 1), "runs": runs})
        finally:
            CustomerQuerySet.visible_to = original  # type: ignore[method-assign]
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
