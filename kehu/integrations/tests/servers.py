"""Real local mail servers for the tests (ENG-5): an SMTP server (aiosmtpd, a real SMTP conversation over
TCP on 127.0.0.1) that writes every message it accepts into a folder, and Debian's dovecot serving IMAP
on 127.0.0.1 from a temporary maildir with a passwd-file of users.

Dovecot missing: the IMAP tests are skipped on a developer's machine, and fail under CI (``CI`` set, or
``KEHU_REQUIRE_BROWSER=1`` / ``KEHU_REQUIRE_IMAP=1``): ``make test`` installs it (``make browser-deps``).
"""

from __future__ import annotations

import contextlib
import imaplib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USERS = 500  # IMAP users of one dovecot (one per test that needs a mailbox)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def imap_required() -> bool:
    return bool(os.environ.get("CI")) or "1" in (
        os.environ.get("KEHU_REQUIRE_BROWSER"),
        os.environ.get("KEHU_REQUIRE_IMAP"),
    )


# --- SMTP -----------------------------------------------------------------------------------------


@dataclass
class SmtpServer:
    host: str
    port: int
    folder: Path

    def messages(self) -> list[tuple[list[str], bytes]]:
        """(envelope recipients, message bytes) of everything accepted so far, in order."""
        out = []
        for path in sorted(self.folder.glob("*.eml")):
            rcpt = path.with_suffix(".rcpt").read_text().split("\n")
            out.append((rcpt, path.read_bytes()))
        return out

    def wait_for(self, count: int, timeout: float = 10.0) -> list[tuple[list[str], bytes]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.messages()
            if len(found) >= count:
                return found
            time.sleep(0.05)
        return self.messages()


class _Saver:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.counter = itertools.count(1)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        n = next(self.counter)
        path = self.folder / f"{n:05d}.eml"
        data = envelope.original_content or envelope.content
        path.with_suffix(".rcpt").write_text("\n".join(envelope.rcpt_tos))
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data if isinstance(data, bytes) else data.encode())
        tmp.rename(path)
        return "250 Message accepted for delivery"


@contextlib.contextmanager
def running_smtp() -> Iterator[SmtpServer]:
    """An aiosmtpd server on a free 127.0.0.1 port; accepted messages land in a temp folder."""
    from aiosmtpd.controller import Controller

    folder = Path(tempfile.mkdtemp(prefix="kehu-smtp-"))
    port = free_port()
    controller = Controller(_Saver(folder), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(host="127.0.0.1", port=port, folder=folder)
    finally:
        controller.stop()
        shutil.rmtree(folder, ignore_errors=True)


# --- IMAP (dovecot) -------------------------------------------------------------------------------


@dataclass
class ImapServer:
    host: str
    port: int
    root: Path
    _users: itertools.count

    def add_user(self) -> tuple[str, str]:
        """A mail user nobody used yet (its maildir appears on first login): each test reads its own."""
        n = next(self._users)
        if n > USERS:
            raise RuntimeError(f"more than {USERS} IMAP users asked of one dovecot")
        return f"crm{n}", f"Imap-test-pass-{n}"

    def append(self, username: str, password: str, raw: bytes, *, when: float | None = None) -> None:
        """Deliver a message into the user's INBOX by IMAP APPEND (``when``: its INTERNALDATE)."""
        client = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            client.login(username, password)
            date = imaplib.Time2Internaldate(when if when is not None else time.time())
            status, data = client.append("INBOX", None, date, raw)
            assert status == "OK", data
        finally:
            client.logout()


def _dovecot_config(root: Path, port: int) -> str:
    if os.geteuid() == 0:
        uid = gid = 65534  # nobody: dovecot refuses mail access as root
        users = ""
    else:
        uid, gid = os.getuid(), os.getgid()
        me = pwd.getpwuid(uid).pw_name
        users = f"default_internal_user = {me}\ndefault_login_user = {me}\n"
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
{users}protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


@contextlib.contextmanager
def running_dovecot() -> Iterator[ImapServer]:
    """Dovecot serving IMAP on a free 127.0.0.1 port from a temp maildir; stopped afterwards."""
    if not Path(DOVECOT).exists():
        message = "dovecot is not installed (Debian: apt-get install dovecot-imapd; `make browser-deps`)"
        if imap_required():
            pytest.fail(f"IMAP tests are required under CI but {message}", pytrace=False)
        pytest.skip(f"IMAP tests skipped: {message}")
    root = Path(tempfile.mkdtemp(prefix="kehu-imap-"))
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir()
    os.chmod(root, 0o755)
    os.chmod(root / "mail", 0o777)
    # Every user up front: dovecot's passwd-file reload is not instant enough for users added later.
    (root / "passwd").write_text(
        "".join(f"crm{n}:{{PLAIN}}Imap-test-pass-{n}::::::\n" for n in range(1, USERS + 1))
    )
    os.chmod(root / "passwd", 0o644)
    port = free_port()
    (root / "dovecot.conf").write_text(_dovecot_config(root, port))
    proc = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                log = (
                    (root / "dovecot.log").read_text(errors="replace")
                    if (root / "dovecot.log").exists()
                    else ""
                )
                raise RuntimeError(f"dovecot exited with {proc.returncode}:\n{log}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(100).startswith(b"* OK"):
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("dovecot did not answer on its IMAP port within 20 s")
            time.sleep(0.1)
        yield ImapServer(host="127.0.0.1", port=port, root=root, _users=itertools.count(1))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


# --- fixtures (imported by the conftest of the test packages that use them) -----------------------


@pytest.fixture(scope="session")
def smtp_session() -> Iterator[SmtpServer]:
    with running_smtp() as server:
        yield server


@pytest.fixture
def smtp_server(smtp_session: SmtpServer, settings: Any) -> SmtpServer:
    """The SMTP server, emptied, with Kehu's SMTP settings pointing at it."""
    for path in smtp_session.folder.iterdir():
        path.unlink()
    settings.KEHU_MAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = smtp_session.host, smtp_session.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    return smtp_session


@pytest.fixture(scope="session")
def imap_server() -> Iterator[ImapServer]:
    with running_dovecot() as server:
        yield server
