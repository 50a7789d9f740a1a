"""The ``kehu`` command (interfaces.md): Django's management commands under one name.

``kehu serve``, ``kehu migrate``, ``kehu createuser``, ``kehu demo`` … each has ``--help``.
"""

from __future__ import annotations

import gc
import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        args = ["help"]
    execute_from_command_line(["kehu", *args])
    # Nothing left is garbage the operating system does not reclaim at exit, but the interpreter's last
    # collections would walk every object still alive: 0.4–0.45 s after an analytics refresh. Frozen
    # objects are skipped by them; atexit handlers and the streams' flushing still run.
    gc.freeze()


if __name__ == "__main__":
    main()
