"""``kehu analytics <subcommand>`` (interfaces.md).

``kehu analytics fit --transactions FILE.csv [--until YYYY-MM-DD] [--unit day|week]`` reads a
``customer,date,amount`` CSV, fits BG/NBD, Pareto/NBD and Gamma-Gamma on the transactions up to
``--until`` (default: the last date in the file) and prints one JSON object with the parameters and
log-likelihoods. Further subcommands (``refresh``) are added as subparsers here.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from kehu.core.errors import KehuError
from kehu.core.management import KehuCommand, command_error, fail


class Command(KehuCommand):
    help = (
        "客户分析 / customer analytics. "
        "fit: 在交易 CSV（customer,date,amount）上拟合 BG/NBD、Pareto/NBD 和 Gamma-Gamma 模型并输出 JSON / "
        "fit the lifetime-value models on a transactions CSV and print the parameters as JSON."
    )
    # Django's system checks (≈ 1.8 s of imports and model checks) belong to deploys and `kehu check`;
    # this command runs nightly from cron or by hand on a configured installation.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="{fit,refresh}")
        refresh = sub.add_parser(
            "refresh",
            help="立即重新计算全部客户的分析指标 / recompute every customer's analytics now",
            description=(
                "重新计算价值、RFM、终身价值、流失预警与生命周期，再汇总关系长度·深度·广度，显示进度，结束时输出用时 / "
                "recompute value, RFM, lifetime value, churn warning and lifecycle for every customer, then the "
                "relationship report's stored periods, showing progress."
            ),
        )
        refresh.add_argument(
            "--as-of",
            default=None,
            metavar="YYYY-MM-DD",
            help="数据截至日，默认今天 / the day to compute as of (default today)",
        )
        refresh.add_argument(
            "--part",
            default="all",
            choices=["all", "scores", "relationship"],
            help=(
                "all：两者（默认，与夜间任务相同）；scores：只算客户指标；relationship：只汇总关系长度·深度·广度 / "
                "all: both (default, as the nightly job); scores: the customers' scores only; relationship: "
                "the relationship report's stored periods only"
            ),
        )
        fit = sub.add_parser(
            "fit",
            help="拟合终身价值模型 / fit the lifetime-value models on a transactions CSV",
            description=(
                "读取 customer,date,amount 交易 CSV（同一客户同一天的交易算一次购买），拟合模型并输出一个 JSON 对象 / "
                "read a customer,date,amount CSV (same-day transactions of a customer are one purchase), fit "
                "BG/NBD, Pareto/NBD and Gamma-Gamma, print one JSON object."
            ),
        )
        fit.add_argument(
            "--transactions", required=True, metavar="FILE.csv", help="交易 CSV / transactions CSV"
        )
        fit.add_argument(
            "--until",
            default=None,
            metavar="YYYY-MM-DD",
            help="校准期截止日（含），默认文件中最后的日期 / end of the calibration period (default: last date)",
        )
        fit.add_argument(
            "--unit",
            default="week",
            choices=["day", "week"],
            help="时间单位，默认 week / time unit (default week)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "fit":
            self._fit(options)
        elif options["subcommand"] == "refresh":
            self._refresh(options)

    def _refresh(self, options: dict[str, Any]) -> None:
        from kehu.analytics.refresh import refresh, refresh_all
        from kehu.analytics.relationship import store_periods

        as_of = None
        if options["as_of"]:
            try:
                as_of = dt.date.fromisoformat(options["as_of"])
            except ValueError:
                raise fail(
                    "as_of",
                    f"日期“{options['as_of']}”无效（应为 YYYY-MM-DD）",
                    f"invalid date {options['as_of']!r} (expected YYYY-MM-DD)",
                ) from None

        def progress(pct: int, message: str) -> None:
            self.stderr.write(f"{pct:3d}% {message}")

        try:
            if options["part"] == "relationship":
                stored = store_periods(today=as_of, progress=progress)
                self.stdout.write(json.dumps({"relationship": stored}, ensure_ascii=False))
                return
            run = (refresh_all if options["part"] == "all" else refresh)(as_of=as_of, progress=progress)
        except KehuError as exc:
            raise command_error(exc) from exc
        run.refresh_from_db()
        total = sum(run.timings.values())
        self.stdout.write(
            json.dumps(
                {"run": run.pk, "as_of": run.as_of.isoformat(), "customers": run.customers, "buyers": run.buyers,
                 "orders": run.orders, "seconds": round(total, 3), "timings": run.timings,
                 "models": run.models_fit, "churn": run.summary.get("churn"), "lifecycle": run.summary.get("lifecycle"),
                 "relationship": run.summary.get("relationship")},
                ensure_ascii=False,
            )
        )  # fmt: skip

    def _fit(self, options: dict[str, Any]) -> None:
        from kehu.analytics.transactions import fit_all, read_transactions_csv

        until = None
        if options["until"]:
            try:
                until = dt.date.fromisoformat(options["until"])
            except ValueError:
                raise fail(
                    "until",
                    f"日期“{options['until']}”无效（应为 YYYY-MM-DD）",
                    f"invalid date {options['until']!r} (expected YYYY-MM-DD)",
                ) from None
        path = options["transactions"]
        try:
            tx = read_transactions_csv(path)
            result = fit_all(tx, until=until, unit=options["unit"])
        except OSError as exc:
            raise fail(
                "transactions", f"无法读取文件 {path}：{exc.strerror}", f"cannot read {path}: {exc.strerror}"
            ) from None
        except UnicodeDecodeError:
            raise fail("transactions", f"文件 {path} 不是 UTF-8 编码", f"{path} is not UTF-8 text") from None
        except KehuError as exc:
            raise command_error(exc) from exc
        self.stdout.write(json.dumps(result, ensure_ascii=False))
