"""Passwords: Argon2id with the parameters of RFC 9106's second recommended option (ADR 0005), and the
length rule worded in Kehu's own catalogue."""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher
from django.contrib.auth.password_validation import MinimumLengthValidator
from django.utils.translation import gettext as _


class KehuArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id, t=3 passes, 64 MiB, 4 lanes (RFC 9106 §4, for memory-constrained settings).

    Django's default asks for 100 MiB per sign-in; each server worker holds that at its peak, and a
    burst of sign-ins on a small server multiplies it. Hashes made with other parameters still verify
    and are re-hashed with these at the user's next sign-in (Django's ``must_update``).
    """

    time_cost = 3
    memory_cost = 65536  # KiB
    parallelism = 4


class KehuMinimumLengthValidator(MinimumLengthValidator):
    """Django's length rule, with its message from Kehu's catalogue: Django 5.2's zh-Hans catalogue
    misses the reworded English text, so Chinese users were told in English."""

    def get_error_message(self) -> str:
        return _("密码太短，至少需要 %(n)s 个字符") % {"n": self.min_length}

    def get_help_text(self) -> str:
        return _("密码至少需要 %(n)s 个字符") % {"n": self.min_length}
