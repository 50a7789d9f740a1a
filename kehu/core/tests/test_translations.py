"""The English catalogue (locale/en) is complete, well-formed and compiled.

Chinese is the source language: msgids are Simplified Chinese and English comes from
``locale/en/LC_MESSAGES/django.po``. Both the .po and the compiled .mo are committed, so
``make run`` needs no gettext; these tests catch a catalogue left half-translated, with
fuzzy entries, with broken placeholders, or with a .mo that was not recompiled.
"""

from __future__ import annotations

import ast
import gettext
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

LOCALE_DIR = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"
PO_PATH = LOCALE_DIR / "django.po"
MO_PATH = LOCALE_DIR / "django.mo"

# Named python-format placeholders, e.g. %(name)s or %(n)d ({{ var }} in blocktranslate becomes %(var)s).
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def label(self) -> str:
        return f"django.po:{self.line} {self.msgid!r}"


def parse_po(path: Path) -> list[Entry]:
    """A tiny .po reader: enough for xgettext/msgmerge output (no obsolete ``#~`` entries are returned)."""
    entries: list[Entry] = []
    cur = Entry()
    started = False
    target: tuple[str, int] | None = None

    def finish() -> None:
        nonlocal cur, started, target
        if started:
            entries.append(cur)
        cur, started, target = Entry(), False, None

    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#"):
            if started and cur.msgstr:
                finish()
            if line.startswith("#,"):
                cur.flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
            continue
        m = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$', line)
        if m:
            keyword, index, text = m.group(1), m.group(2), ast.literal_eval(m.group(3))
            if keyword in ("msgctxt", "msgid") and cur.msgstr:
                finish()
            if not started:
                cur.line = lineno
            started = True
            if keyword.startswith("msgstr"):
                target = ("msgstr", int(index or 0))
                cur.msgstr[target[1]] = text
            else:
                target = (keyword, 0)
                setattr(cur, keyword, text)
            continue
        if line.startswith('"') and target is not None:
            text = ast.literal_eval(line)
            if target[0] == "msgstr":
                cur.msgstr[target[1]] += text
            else:
                setattr(cur, target[0], getattr(cur, target[0]) + text)
            continue
        raise AssertionError(f"django.po:{lineno}: cannot parse {raw!r}")
    finish()
    return entries


def _messages() -> list[Entry]:
    return [e for e in parse_po(PO_PATH) if e.msgid != ""]


def test_catalogue_is_parsed_and_large():
    entries = _messages()
    assert len(entries) > 300, "the English catalogue looks truncated"
    header = next(e for e in parse_po(PO_PATH) if e.msgid == "")
    assert "fuzzy" not in header.flags, "the header is fuzzy: msgfmt would drop its charset and plural forms"
    assert "charset=UTF-8" in header.msgstr[0]
    assert "Plural-Forms:" in header.msgstr[0]


def test_no_untranslated_or_fuzzy_entries():
    untranslated = [
        e.label for e in _messages() if not e.msgstr or not all(s.strip() for s in e.msgstr.values())
    ]
    fuzzy = [e.label for e in _messages() if "fuzzy" in e.flags]
    assert not untranslated, "untranslated entries (run `make messages` and translate them):\n" + "\n".join(
        untranslated
    )
    assert not fuzzy, "fuzzy entries (check each translation, then remove the flag):\n" + "\n".join(fuzzy)


def test_english_is_not_chinese():
    # A msgstr copied from its msgid would show Chinese to English users.
    leftover = [
        e.label
        for e in _messages()
        if any(
            re.search(r"[\u4e00-\u9fff\uff08\uff09\uff0c\uff1a\uff1b\u3002]", s) for s in e.msgstr.values()
        )
    ]
    assert not leftover, "msgstrs containing Chinese characters or full-width punctuation:\n" + "\n".join(
        leftover
    )


def test_placeholders_match():
    problems = []
    for e in _messages():
        source = set(PLACEHOLDER.findall(e.msgid)) | set(PLACEHOLDER.findall(e.msgid_plural or ""))
        for index, text in e.msgstr.items():
            if not text:
                continue
            if set(PLACEHOLDER.findall(text)) != source:
                problems.append(f"{e.label} [{index}] -> {text!r}")
                continue
            if source or "python-format" in e.flags:
                try:
                    text % {name: 1 for name in source}
                except (KeyError, ValueError, TypeError) as exc:
                    problems.append(f"{e.label} [{index}] -> {text!r}: {exc}")
    assert not problems, "placeholders differ between msgid and msgstr:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("msgid", "params", "english"),
    [
        ("新建客户", None, "New customer"),
        ("客户名称", None, "Customer name"),
        (
            "您没有“%(perm)s”权限",
            {"perm": "Export customers"},
            "You do not have the “Export customers” permission",
        ),
        ("%(label)s不能为空", {"label": "Customer name"}, "Customer name is required"),
        ("本部门及下属部门", None, "Department and sub-departments"),
        ("公海", None, "Public pool"),
    ],
)
def test_override_en_translates(msgid, params, english):
    with translation.override("en"):
        text = translation.gettext(msgid)
    assert (text % params if params else text) == english
    with translation.override("zh-hans"):
        assert translation.gettext(msgid) == msgid


def test_lazy_labels_follow_the_active_language():
    from kehu.access.perms import DataScope

    with translation.override("en"):
        assert str(DataScope.OWN.label) == "Own"
        assert str(DataScope.OWN_AND_SUBORDINATES.label) == "Own and subordinates"
    with translation.override("zh-hans"):
        assert str(DataScope.OWN.label) == "本人"


def _catalog(mo: Path) -> dict[object, str]:
    with mo.open("rb") as fh:
        return dict(gettext.GNUTranslations(fh)._catalog)  # type: ignore[attr-defined]


def test_committed_mo_matches_po(tmp_path):
    assert MO_PATH.exists(), "locale/en/LC_MESSAGES/django.mo is missing: run `make messages`"
    committed = _catalog(MO_PATH)
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        # Without gettext at least every translated .po entry must be in the .mo.
        translated = {e.msgid for e in _messages() if e.msgctxt is None and all(e.msgstr.values())}
        missing = sorted(m for m in translated if m not in committed and (m, 0) not in committed)
        assert not missing, "django.mo is older than django.po (run `make messages`): " + ", ".join(
            missing[:20]
        )
        pytest.skip("msgfmt not installed: full .po/.mo comparison skipped")
    fresh = tmp_path / "django.mo"
    subprocess.run([msgfmt, "--check", "-o", str(fresh), str(PO_PATH)], check=True, capture_output=True)
    expected = _catalog(fresh)
    stale = sorted(str(k) for k in expected.keys() ^ committed.keys())
    changed = sorted(str(k) for k in expected.keys() & committed.keys() if expected[k] != committed[k])
    assert not stale and not changed, (
        "the committed django.mo does not match django.po; run `make messages` (or `kehu compilemessages -l en`).\n"
        f"msgids only in one of them: {stale[:20]}\nmsgstrs that differ: {changed[:20]}"
    )
