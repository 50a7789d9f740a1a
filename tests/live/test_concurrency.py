"""Concurrent edits never silently overwrite (issue: optimistic locking under real concurrency).

Two people save the same version of a record at the same moment. Against a real ``kehu serve``
(two gunicorn worker processes, four threads each, on a fresh SQLite or PostgreSQL database of
its own), two threads wait on one barrier and then send their ``PATCH`` over connections opened
beforehand, so both requests are in flight together. Every round exactly one edit wins (200), the
other is told its version is stale (409 ``stale_version``), and what is stored is the winner's
text — never the loser's, never a mix.

No browser is needed, so these run in every ``make test`` (marker ``live``).
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.live_server import LiveKehu, running_kehu, worker_id

pytestmark = pytest.mark.live

ROUNDS = 20
WORKERS = 2
THREADS = 4
TIMEOUT = 30.0


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    sent_at: float
    answered_at: float


class Api:
    """``/api/v1`` of a live server over plain ``http.client``, as one user with a bearer token."""

    def __init__(self, live: LiveKehu, token: str | None = None) -> None:
        parts = urlsplit(live.url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.token = token

    def connection(self) -> http.client.HTTPConnection:
        """An already-connected connection, so a later request costs no TCP handshake."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
        conn.connect()
        return conn

    def send(
        self, method: str, path: str, data: Any = None, *, conn: http.client.HTTPConnection | None = None
    ) -> Reply:
        own = conn is None
        conn = conn or self.connection()
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = None
        if data is not None:
            body = json.dumps(data, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        try:
            sent_at = time.monotonic()
            conn.request(method, "/api/v1" + path, body=body, headers=headers)
            response = conn.getresponse()
            raw = response.read()
            answered_at = time.monotonic()
        finally:
            if own:
                conn.close()
        return Reply(response.status, json.loads(raw) if raw else None, sent_at, answered_at)

    def ok(self, method: str, path: str, data: Any = None, status: int = 200) -> Any:
        reply = self.send(method, path, data)
        assert reply.status == status, (method, path, reply.status, reply.body)
        return reply.body


def race(api: Api, path: str, payloads: list[dict[str, Any]]) -> list[Reply]:
    """Send one ``PATCH`` per payload, all released by one barrier; the replies in payload order."""
    return race_requests([(api, "PATCH", path, payload) for payload in payloads])


def race_requests(requests: list[tuple[Api, str, str, Any]]) -> list[Reply]:
    """Send (api, method, path, data) requests, all released by one barrier over connections opened
    beforehand; the replies in request order."""
    connections = [api.connection() for api, _m, _p, _d in requests]
    barrier = threading.Barrier(len(requests))
    replies: list[Reply | BaseException | None] = [None] * len(requests)

    def send(i: int) -> None:
        api, method, path, data = requests[i]
        try:
            barrier.wait(timeout=TIMEOUT)
            replies[i] = api.send(method, path, data, conn=connections[i])
        except BaseException as exc:  # re-raised in the main thread below
            replies[i] = exc

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=TIMEOUT * 2)
    finally:
        for conn in connections:
            conn.close()
    out: list[Reply] = []
    for r in replies:
        if isinstance(r, BaseException):
            raise r
        assert r is not None, "a request thread did not finish"
        out.append(r)
    return out


def overlapped(replies: list[Reply]) -> bool:
    """Whether every request was on the wire before any of them was answered."""
    return max(r.sent_at for r in replies) < min(r.answered_at for r in replies)


# ----------------------------------------------------------------------------- fixtures --


@pytest.fixture(scope="module")
def live_kehu_two_workers() -> Iterator[LiveKehu]:
    """A real server with two worker processes (the browser tests' server has one)."""
    with running_kehu(customers=5, workers=WORKERS, threads=THREADS, label="live") as live:
        yield live


@pytest.fixture(scope="module")
def admin_api(live_kehu_two_workers: LiveKehu) -> Api:
    """The demo admin, signed in through ``POST /api/v1/auth/token`` like any API client."""
    anonymous = Api(live_kehu_two_workers)
    issued = anonymous.ok(
        "POST",
        "/auth/token",
        {"username": "admin", "password": live_kehu_two_workers.password, "name": "concurrency test"},
    )
    return Api(live_kehu_two_workers, token=issued["token"])


def _fail_with_log(live: LiveKehu, n: int, replies: list[Reply]) -> str:
    said = [(r.status, (r.body or {}).get("code") or (r.body or {}).get("notes")) for r in replies]
    return f"round {n}: {said}\n--- server log ---\n{live.log_tail()}"


# -------------------------------------------------------------------------------- tests --


def test_two_people_saving_the_same_customer_version_at_once_never_both_win(
    live_kehu_two_workers: LiveKehu, admin_api: Api
) -> None:
    customer = admin_api.ok(
        "POST",
        "/customers",
        {"name": f"并发编辑验证专用{worker_id()}有限公司", "notes": "最初的备注", "confirm_duplicates": True},
        status=201,
    )
    path = f"/customers/{customer['id']}"
    version = customer["version"]
    rounds_overlapping = 0

    for n in range(1, ROUNDS + 1):
        notes = [f"第{n}轮：甲的备注", f"第{n}轮：乙的备注"]
        replies = race(admin_api, path, [{"version": version, "notes": text} for text in notes])
        rounds_overlapping += overlapped(replies)

        statuses = sorted(r.status for r in replies)
        assert statuses == [200, 409], _fail_with_log(live_kehu_two_workers, n, replies)
        winner = next(i for i, r in enumerate(replies) if r.status == 200)
        loser = replies[1 - winner]
        assert loser.body["code"] == "stale_version"
        assert loser.body["field"] == "version"
        assert replies[winner].body["notes"] == notes[winner]
        assert replies[winner].body["version"] == version + 1

        stored = admin_api.ok("GET", path)
        assert stored["notes"] == notes[winner], f"round {n}: the loser's edit overwrote the winner's"
        assert stored["version"] == version + 1
        version = stored["version"]

    # One audited update per round: the refused edit left no trace in the timeline either.
    timeline = admin_api.ok("GET", f"{path}/timeline")
    updates = [e for e in timeline if e["verb"] == "update" and e["subject_type"] == "customer"]
    assert len(updates) == ROUNDS
    # The barrier really made the two requests meet on the server (client-side timing).
    assert rounds_overlapping >= ROUNDS // 2, f"only {rounds_overlapping}/{ROUNDS} rounds overlapped"


def test_two_people_saving_the_same_contact_version_at_once_never_both_win(
    live_kehu_two_workers: LiveKehu, admin_api: Api
) -> None:
    customer = admin_api.ok(
        "POST",
        "/customers",
        {"name": f"联系人并发验证专用{worker_id()}有限公司", "confirm_duplicates": True},
        status=201,
    )
    contact = admin_api.ok("POST", f"/customers/{customer['id']}/contacts", {"name": "林并发"}, status=201)
    path = f"/contacts/{contact['id']}"
    version = contact["version"]

    for n in range(1, ROUNDS + 1):
        notes = [f"第{n}轮：甲记下的", f"第{n}轮：乙记下的"]
        replies = race(admin_api, path, [{"version": version, "notes": text} for text in notes])

        assert sorted(r.status for r in replies) == [200, 409], _fail_with_log(
            live_kehu_two_workers, n, replies
        )
        winner = next(i for i, r in enumerate(replies) if r.status == 200)
        assert replies[1 - winner].body["code"] == "stale_version"

        stored = admin_api.ok("GET", path)
        assert stored["notes"] == notes[winner], f"round {n}: the loser's edit overwrote the winner's"
        assert stored["version"] == version + 1
        version = stored["version"]


# ----------------------------------------------------------------------------- the public pool --


def _signed_in(live: LiveKehu, username: str) -> Api:
    anonymous = Api(live)
    issued = anonymous.ok(
        "POST", "/auth/token", {"username": username, "password": live.password, "name": "pool race"}
    )
    return Api(live, token=issued["token"])


def test_two_reps_claiming_the_same_pool_customer_at_once_never_both_get_it(
    live_kehu_two_workers: LiveKehu, admin_api: Api
) -> None:
    """CUS-7: of two claims at the same moment exactly one wins; the other is told it is gone."""
    reps = [_signed_in(live_kehu_two_workers, "rep_east"), _signed_in(live_kehu_two_workers, "rep_east2")]
    rounds_overlapping = 0
    for n in range(1, ROUNDS + 1):
        customer = admin_api.ok(
            "POST",
            "/customers",
            {"name": f"公海争抢{worker_id()}第{n}轮有限公司", "owner": None, "confirm_duplicates": True},
            status=201,
        )
        path = f"/customers/{customer['id']}/claim"
        got = race_requests([(rep, "POST", path, None) for rep in reps])
        rounds_overlapping += overlapped(got)
        statuses = sorted(r.status for r in got)
        # The loser either lost the UPDATE (409 already_taken) or looked after the winner's commit
        # and no longer found it in the pool (404): refused either way, never a second owner.
        assert statuses[0] == 200 and statuses[1] in (404, 409), _fail_with_log(live_kehu_two_workers, n, got)
        winner = next(i for i, r in enumerate(got) if r.status == 200)
        stored = admin_api.ok("GET", f"/customers/{customer['id']}")
        assert stored["owner"]["id"] == got[winner].body["owner"]["id"]
        timeline = admin_api.ok("GET", f"/customers/{customer['id']}/timeline")
        assert [e["verb"] for e in timeline].count("claim") == 1, f"round {n}: two claims recorded"
    assert rounds_overlapping >= ROUNDS // 2, f"only {rounds_overlapping}/{ROUNDS} rounds overlapped"


# ------------------------------------------------------------------- automatic distribution --


def test_two_tickets_arriving_at_once_go_to_different_agents_in_turn(
    live_kehu_two_workers: LiveKehu, admin_api: Api
) -> None:
    """SVC-4: the demo's 客服一组 distributes round robin between its two agents. Two tickets registered
    at the same moment (two people, two worker processes) get one agent each, every round — never both
    the one who waited longest. (Two things serialise them: the ticket-number sequence row and the
    team's row that every distribution writes first; the latter also covers redistribution and
    escalation, which draw no number. Checked by removing that write: this test still passed on
    PostgreSQL because of the sequence lock.)"""
    lead = _signed_in(live_kehu_two_workers, "service_lead")
    teams = admin_api.ok("GET", "/service/teams")
    team = next(t for t in teams if t["name"] == "客服一组")
    assert team["distribution"] == "round_robin" and len(team["members"]) == 2, team
    members = {m["user_id"] for m in team["members"]}
    customer = admin_api.ok(
        "POST",
        "/customers",
        {"name": f"派单并发{worker_id()}有限公司", "confirm_duplicates": True},
        status=201,
    )
    got_per_agent = dict.fromkeys(members, 0)
    rounds_overlapping = 0
    for n in range(1, ROUNDS + 1):
        payload = {
            "kind": "aftersale",
            "category": "repair",
            "title": f"第{n}轮报修",
            "customer_id": customer["id"],
        }
        replies = race_requests([(api, "POST", "/tickets", payload) for api in (admin_api, lead)])
        rounds_overlapping += overlapped(replies)
        assert [r.status for r in replies] == [201, 201], _fail_with_log(live_kehu_two_workers, n, replies)
        assignees = {r.body["assignee_id"] for r in replies}
        assert assignees == members, _fail_with_log(live_kehu_two_workers, n, replies)
        for r in replies:
            got_per_agent[r.body["assignee_id"]] += 1
    assert set(got_per_agent.values()) == {ROUNDS}
    assert rounds_overlapping >= ROUNDS // 2, f"only {rounds_overlapping}/{ROUNDS} rounds overlapped"
