"""The ``kehu`` command (interfaces.md): Django's management commands under one name.

``kehu serve``, ``kehu migrate``, ``kehu createuser``, ``kehu demo`` … each has ``--help``.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        args = ["help"]
    execute_from_command_line(["kehu", *args])


if __name__ == "__main__":
    main()
