"""``kehu analytics fit`` (interfaces.md): the published CDNOW figures through the command line, and bad input."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from kehu.analytics.lifetime import summarize_transactions
from kehu.analytics.transactions import read_transactions_csv

from .cdnow import CALIBRATION_END, write_sample_csv

KEHU = Path(sys.executable).with_name("kehu")


def fit(*args: str) -> dict:
    out = StringIO()
    call_command("analytics", "fit", *args, stdout=out)
    return json.loads(out.getvalue())


def assert_published_cdnow_figures(result: dict) -> None:
    assert result["customers"] == 2357 and result["repeat_buyers"] == 946
    assert set(result) == {"customers", "repeat_buyers", "bgnbd", "pareto_nbd", "gamma_gamma"}
    bg = result["bgnbd"]
    assert set(bg) == {"r", "alpha", "a", "b", "log_likelihood"}
    assert (round(bg["r"], 3), round(bg["alpha"], 3), round(bg["a"], 3), round(bg["b"], 3)) == (
        0.243,
        4.414,
        0.793,
        2.426,
    )
    assert round(bg["log_likelihood"], 1) == -9582.4
    gg = result["gamma_gamma"]
    assert set(gg) == {"p", "q", "gamma", "log_likelihood"}
    assert (round(gg["p"], 2), round(gg["q"], 2), round(gg["gamma"], 2)) == (6.25, 3.74, 15.44)
    pn = result["pareto_nbd"]
    assert set(pn) == {"r", "alpha", "s", "beta", "log_likelihood"}
    assert (round(pn["r"], 2), round(pn["alpha"], 2), round(pn["s"], 2), round(pn["beta"], 2)) == (
        0.55,
        10.58,
        0.61,
        11.67,
    )
    assert round(pn["log_likelihood"], 1) == -9595.0


def test_fit_on_the_cdnow_sample_gives_the_published_figures(tmp_path: Path) -> None:
    path = write_sample_csv(tmp_path / "cdnow.csv")
    assert_published_cdnow_figures(
        fit("--transactions", str(path), "--until", CALIBRATION_END, "--unit", "week")
    )


def test_the_kehu_process_prints_one_json_object(tmp_path: Path) -> None:
    path = write_sample_csv(tmp_path / "cdnow.csv")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    done = subprocess.run(
        [
            str(KEHU),
            "analytics",
            "fit",
            "--transactions",
            str(path),
            "--until",
            CALIBRATION_END,
            "--unit",
            "week",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1
    assert_published_cdnow_figures(json.loads(lines[0]))


def test_defaults_are_the_last_date_and_weeks(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    lines = ["customer,date,amount,note"]
    start = np.datetime64("2024-01-01")
    for c in range(400):
        first = start + int(rng.integers(0, 90))
        rate = rng.gamma(0.8, 1 / 20)  # purchases per day
        life = rng.exponential(200)
        day, amount = first, rng.gamma(4, 10)
        while day <= start + 364 and day <= first + int(life):
            lines.append(f"客户{c},{day},{amount:.2f},")
            day = day + 1 + int(rng.exponential(1 / max(rate, 1e-3)))
    lines.append("客户0,2024-12-30,5,same day as another purchase of 客户0? no matter")
    path = tmp_path / "t.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    weeks = fit("--transactions", str(path))
    explicit = fit("--transactions", str(path), "--until", "2024-12-30", "--unit", "week")
    days = fit("--transactions", str(path), "--unit", "day")
    assert weeks == explicit  # default: the last date in the file, in weeks
    assert weeks["customers"] == 400 and 0 < weeks["repeat_buyers"] < 400
    # The same data in days: r, a, b stay and α scales with the unit (a rate per day is a seventh of per week);
    # each repeat purchase's density gains a factor 1/7, so the log-likelihoods differ by Σx · ln 7.
    assert days["bgnbd"]["alpha"] == pytest.approx(7 * weeks["bgnbd"]["alpha"], rel=1e-3)
    for name in ("r", "a", "b"):
        assert days["bgnbd"][name] == pytest.approx(weeks["bgnbd"][name], rel=1e-3)
    tx = read_transactions_csv(path)
    repeat_purchases = float(summarize_transactions(tx.customers, tx.dates, tx.amounts).x.sum())
    shift = repeat_purchases * math.log(7)
    assert days["bgnbd"]["log_likelihood"] == pytest.approx(
        weeks["bgnbd"]["log_likelihood"] - shift, abs=0.02
    )
    assert days["pareto_nbd"]["log_likelihood"] == pytest.approx(
        weeks["pareto_nbd"]["log_likelihood"] - shift, abs=0.05
    )
    assert days["gamma_gamma"] == weeks["gamma_gamma"]


def test_no_repeat_buyer_gives_null_models(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("customer,date,amount\na,2024-01-01,1\nb,2024-01-02,2\n", encoding="utf-8")
    assert fit("--transactions", str(path)) == {
        "customers": 2,
        "repeat_buyers": 0,
        "bgnbd": None,
        "pareto_nbd": None,
        "gamma_gamma": None,
    }


@pytest.mark.parametrize(
    ("content", "field", "zh", "en"),
    [
        ("customer,date\na,2024-01-01\n", "amount", "缺少列“amount”", 'missing column "amount"'),
        ("customer,date,amount\na,2024-01-01,1\nb,2024-13-01,2\n", "date", "第 3 行", "row 3"),
        ("customer,date,amount\na,2024-01-01,1\nb,2024-01-02,abc\n", "amount", "第 3 行", "row 3"),
        ("customer,date,amount\na,2024-01-01,-5\n", "amount", "不能为负数", "negative"),
        ("customer,date,amount\n,2024-01-01,5\n", "customer", "第 2 行", "row 2"),
        ("customer,date,amount\n", "transactions", "没有交易记录", "no transactions"),
    ],
)
def test_bad_input_names_the_row_and_field_in_both_languages(
    tmp_path: Path, content: str, field: str, zh: str, en: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with translation.override("zh-hans"), pytest.raises(CommandError) as info:
        call_command("analytics", "fit", "--transactions", str(path))
    message = str(info.value)
    assert message.startswith(f"错误 / error: {field}: ")
    assert zh in message and en in message


def test_bad_options_exit_non_zero(tmp_path: Path) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    path = tmp_path / "t.csv"
    path.write_text("customer,date,amount\na,2024-01-01,1\n", encoding="utf-8")
    for args in (
        ["--transactions", str(path), "--until", "2024-02-30"],
        ["--transactions", str(path), "--until", "2023-12-31"],
        ["--transactions", str(tmp_path / "missing.csv")],
        ["--transactions", str(path), "--unit", "month"],
    ):
        done = subprocess.run(
            [str(KEHU), "analytics", "fit", *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert done.returncode != 0, args
        assert done.stdout == ""
        assert "error" in done.stderr
