"""Credential ids: 100 random bits written as 20 Crockford base-32 symbols.

The canonical form (lower case, no dashes) is what URLs and the database use. The human form groups the same
symbols in fives (``K3M9Q-X2T7V-8HJ4N-PW6RC``) for reading aloud or typing; Crockford's alphabet has no I, L, O
or U, so the usual misreadings (O for 0, I/L for 1) are mapped back when a typed id is normalised.
"""
from __future__ import annotations

import secrets

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
SYMBOLS = 20  # 20 x 5 bits = 100 random bits, above the 96 the issue asks for.
GROUP = 5
_MISREADINGS = str.maketrans({"o": "0", "i": "1", "l": "1"})


def new_credential_id() -> str:
    value = secrets.randbits(SYMBOLS * 5)
    return "".join(ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(SYMBOLS)))


def normalize_credential_id(raw: str) -> str | None:
    """The canonical id for something a person typed or a URL carried, or None if it cannot be one."""
    candidate = raw.strip().replace("-", "").replace(" ", "").lower().translate(_MISREADINGS)
    if len(candidate) != SYMBOLS or any(ch not in ALPHABET for ch in candidate):
        return None
    return candidate


def human_credential_id(credential_id: str) -> str:
    upper = credential_id.upper()
    return "-".join(upper[i : i + GROUP] for i in range(0, len(upper), GROUP))
