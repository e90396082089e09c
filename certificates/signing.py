"""The issuer's Ed25519 signing key, and the compact JWS (VC-JOSE) that wraps an Open Badges credential.

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
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from joserfc import jws
from joserfc.jwk import OKPKey

# "EdDSA" is the algorithm name every JOSE library understands for Ed25519. RFC 9864 prefers the newer,
# fully-specified "Ed25519"; joserfc warns about the old name, but the signature bytes are identical.
ALGORITHM = "EdDSA"
MEDIA_TYPE = "vc+jwt"
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
    """The RFC 7638 thumbprint of the public key: stable, and names the key in the JWKS and the JWS header."""
    return signing_key().thumbprint()


def public_jwks() -> dict:
    public = signing_key().as_dict(private=False)
    return {"keys": [{**public, "kid": key_id(), "use": "sig", "alg": ALGORITHM}]}


def sign_credential(credential: dict) -> str:
    """A compact JWS whose payload is the credential itself (VC-JOSE-COSE, ``typ: vc+jwt``)."""
    header = {"alg": ALGORITHM, "kid": key_id(), "typ": MEDIA_TYPE, "cty": "vc"}
    payload = json.dumps(credential, ensure_ascii=False, separators=(",", ":")).encode()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="EdDSA is deprecated")
        return jws.serialize_compact(header, payload, signing_key(), algorithms=[ALGORITHM])

