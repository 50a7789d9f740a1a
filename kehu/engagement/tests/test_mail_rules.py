"""The 24-hour rule of ENG-5 and the thread subject, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from kehu.engagement.rules import first_response_seconds, mail_response_state, mail_subject_key, reply_subject

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def state(*, hours_since: float, replied_after: float | None = None, not_needed: bool = False) -> str:
    return mail_response_state(
        received_at=T0,
        replied_at=T0 + timedelta(hours=replied_after) if replied_after is not None else None,
        not_needed=not_needed,
        now=T0 + timedelta(hours=hours_since),
        at_risk_hours=20,
        limit_hours=24,
    )


def test_an_unanswered_message_waits_then_is_at_risk_then_missed() -> None:
    assert state(hours_since=1) == "waiting"
    assert state(hours_since=19.99) == "waiting"
    assert state(hours_since=20) == "at_risk"
    assert state(hours_since=24) == "at_risk"  # the 24th hour is still inside the rule
    assert state(hours_since=24.01) == "missed"
    assert state(hours_since=24 * 7) == "missed"


def test_a_reply_within_24_hours_is_in_time_and_a_later_one_is_late() -> None:
    assert state(hours_since=30, replied_after=0.5) == "in_time"
    assert state(hours_since=30, replied_after=24) == "in_time"
    assert state(hours_since=30, replied_after=24.5) == "late"


def test_a_message_needing_no_answer_is_out_of_the_rule() -> None:
    assert state(hours_since=100, not_needed=True) == "not_needed"


def test_first_response_seconds() -> None:
    assert first_response_seconds(T0, None) is None
    assert first_response_seconds(T0, T0 + timedelta(hours=3, minutes=12)) == 3 * 3600 + 12 * 60
    assert first_response_seconds(T0, T0 - timedelta(minutes=1)) == 0  # clock skew: immediate


@given(st.floats(min_value=0, max_value=24 * 30), st.floats(min_value=0, max_value=24 * 30))
def test_a_reply_is_judged_by_its_delay_alone(delay: float, later: float) -> None:
    got = state(hours_since=delay + later, replied_after=delay)
    assert got == ("in_time" if delay <= 24 else "late")


def test_subject_key_drops_reply_and_forward_prefixes_in_both_languages() -> None:
    assert mail_subject_key("报价单") == "报价单"
    assert mail_subject_key("Re: 报价单") == "报价单"
    assert mail_subject_key("RE：回复：Fwd: 报价单") == "报价单"
    assert mail_subject_key("答复: 转发:  报价单 ") == "报价单"
    assert mail_subject_key("Re[2]: Quote  for  ACME") == "quote for acme"
    assert mail_subject_key("") == ""


def test_reply_subject_adds_one_re() -> None:
    assert reply_subject("报价单") == "Re: 报价单"
    assert reply_subject("Re: 报价单") == "Re: 报价单"
    assert reply_subject("回复：报价单") == "Re: 回复：报价单"
