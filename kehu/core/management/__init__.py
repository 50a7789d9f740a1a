"""Shared pieces of Kehu's management commands (the ``kehu`` CLI, interfaces.md).

Every command exits non-zero on failure and prints errors naming the field at fault, in both
languages: ``错误 / error: username: 用户名“x”已存在 / …``.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, SystemCheckError, handle_default_options
from django.db import connections

from kehu.core.errors import KehuError

ERROR_PREFIX = "错误 / error: "


def error_text(exc: KehuError) -> str:
    """One line: the field, then the message in Chinese and (when it differs) English."""
    zh, en = exc.text("zh-hans"), exc.text("en")
    message = zh if zh == en else f"{zh} / {en}"
    return f"{ERROR_PREFIX}{exc.field}: {message}" if exc.field else f"{ERROR_PREFIX}{message}"


def command_error(exc: KehuError) -> CommandError:
    return CommandError(error_text(exc))


def fail(field: str | None, zh: str, en: str) -> CommandError:
    """A command-line error that is not a domain error (bad option, missing input)."""
    prefix = f"{ERROR_PREFIX}{field}: " if field else ERROR_PREFIX
    return CommandError(f"{prefix}{zh} / {en}")


class KehuCommand(BaseCommand):
    """A command whose errors print as they are, without Django's ``CommandError:`` prefix."""

    def run_from_argv(self, argv: list[str]) -> None:
        # Django's run_from_argv, but printing str(e) only: our messages already say "错误 / error".
        self._called_from_command_line = True
        parser = self.create_parser(argv[0], argv[1])
        options = parser.parse_args(argv[2:])
        cmd_options: dict[str, Any] = vars(options)
        args = cmd_options.pop("args", ())
        handle_default_options(options)
        try:
            self.execute(*args, **cmd_options)
        except CommandError as e:
            if options.traceback:
                raise
            if isinstance(e, SystemCheckError):
                self.stderr.write(str(e), lambda x: x)
            else:
                message = str(e)
                self.stderr.write(message if message.startswith(ERROR_PREFIX) else f"{ERROR_PREFIX}{message}")
            sys.exit(e.returncode)
        finally:
            with contextlib.suppress(ImproperlyConfigured):
                connections.close_all()
