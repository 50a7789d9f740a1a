"""Password hashing: Argon2id with the parameters of RFC 9106's second recommended option (ADR 0005)."""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class KehuArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id, t=3 passes, 64 MiB, 4 lanes (RFC 9106 §4, for memory-constrained settings).

    Django's default asks for 100 MiB per sign-in; each server worker holds that at its peak, and a
    burst of sign-ins on a small server multiplies it. Hashes made with other parameters still verify
    and are re-hashed with these at the user's next sign-in (Django's ``must_update``).
    """

    time_cost = 3
    memory_cost = 65536  # KiB
    parallelism = 4
