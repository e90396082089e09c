"""The issuer's Ed25519 signing key, and the credential as a JWT in Open Badges 3.0's JWT proof format.

The JWT's header has only ``alg``, ``kid`` and ``typ`` (OB 3.0 allows no others); ``kid`` is a URL that
answers with the public JWK. Its payload carries the registered claims OB 3.0 asks a verifier to check
(``iss`` = issuer id, ``jti`` = credential id, ``nbf`` = validFrom, ``sub`` = credentialSubject id) and the
credential itself as ``vc``. Every key that ever signed is recorded (``SigningKeyRecord``) and stays in the
published key set after a rotation, so earlier credentials keep verifying.

The key comes from ``settings.CERTIFICATE_SIGNING_KEY`` (a private JWK as JSON) or, when that is empty, from the
file at ``settings.CERTIFICATE_SIGNING_KEY_PATH``, which is generated on first use (default: the git-ignored
``.var/`` folder). Losing or replacing the key invalidates every JWS issued with it, so production should set
one explicitly and keep it backed up.
"""
from __future__ import annotations

import json
import os
import threading
import warnings
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from joserfc import jws
from joserfc.jwk import OKPKey

# "EdDSA" is the algorithm name every JOSE library understands for Ed25519. RFC 9864 prefers the newer,
# fully-specified "Ed25519"; joserfc warns about the old name, but the signature bytes are identical.
ALGORITHM = "EdDSA"
MEDIA_TYPE = "jwt"
_lock = threading.Lock()
_cache: dict[tuple[str, str], OKPKey] = {}


def _generate_key_file(path: Path) -> None:
    """Write a new private key to ``path`` unless another process got there first (atomic via link)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = OKPKey.generate_key("Ed25519", private=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(key.as_dict(private=True), handle)
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()


def _parse_key(text: str, source: str) -> OKPKey:
    try:
        key = OKPKey.import_key(json.loads(text))
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"{source} is not an Ed25519 private JWK: {exc}") from exc
    if key.as_dict(private=False).get("crv") != "Ed25519" or not key.is_private:
        raise ImproperlyConfigured(f"{source} must be an Ed25519 private key (OKP, crv Ed25519, with 'd').")
    return key


def signing_key() -> OKPKey:
    inline = settings.CERTIFICATE_SIGNING_KEY
    path = Path(settings.CERTIFICATE_SIGNING_KEY_PATH)
    cache_key = (inline, str(path))
    with _lock:
        if cache_key not in _cache:
            if inline:
                _cache[cache_key] = _parse_key(inline, "CERTIFICATE_SIGNING_KEY")
            else:
                if not path.exists():
                    _generate_key_file(path)
                _cache[cache_key] = _parse_key(path.read_text(), str(path))
        return _cache[cache_key]


def key_id() -> str:
    """The RFC 7638 thumbprint of the current public key: stable, and names the key's URL."""
    return signing_key().thumbprint()


def key_url(thumbprint: str) -> str:
    """The JWS ``kid``: a URL that answers with this public key (OB 3.0 wants a dereferenceable URI)."""
    return settings.SITE_URL + reverse("jwk", kwargs={"thumbprint": thumbprint})


_recorded: set[str] = set()


def _record_current_key() -> None:
    """Remember the current key's public half once per process (a rotation adds a row, never removes one)."""
    from .models import SigningKeyRecord

    thumbprint = key_id()
    if thumbprint not in _recorded:
        SigningKeyRecord.objects.get_or_create(
            thumbprint=thumbprint, defaults={"public_jwk": signing_key().as_dict(private=False)}
        )
        _recorded.add(thumbprint)


def _published(thumbprint: str, public: dict) -> dict:
    return {**public, "kid": key_url(thumbprint), "use": "sig", "alg": ALGORITHM}


def public_jwks() -> dict:
    """The current key first, then every earlier one that signed credentials."""
    from .models import SigningKeyRecord

    _record_current_key()
    current = key_id()
    keys = [_published(current, signing_key().as_dict(private=False))]
    keys += [_published(r.thumbprint, r.public_jwk) for r in SigningKeyRecord.objects.exclude(thumbprint=current)]
    return {"keys": keys}


def public_jwk(thumbprint: str) -> dict | None:
    """One published key by its thumbprint, or None."""
    return next((k for k in public_jwks()["keys"] if k["kid"] == key_url(thumbprint)), None)


def _numeric_date(timestamp: str) -> int:
    return int(datetime.fromisoformat(timestamp).timestamp())


def sign_credential(credential: dict) -> str:
    """The credential as an OB 3.0 JWT: registered claims for the verifier's checks, the credential as ``vc``."""
    _record_current_key()
    header = {"alg": ALGORITHM, "kid": key_url(key_id()), "typ": "JWT"}
    claims = {
        "iss": credential["issuer"]["id"],
        "jti": credential["id"],
        "sub": credential["credentialSubject"]["id"],
        "nbf": _numeric_date(credential["validFrom"]),
        "vc": credential,
    }
    payload = json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="EdDSA is deprecated")
        return jws.serialize_compact(header, payload, signing_key(), algorithms=[ALGORITHM])
