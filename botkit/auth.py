"""Credentials for sending: the ``Authorization`` header of each Messages API request.

The Messages API takes either HTTP Basic (API key and secret) or an application JWT
(RS256, signed with the application's private key), never both. Both classes here do
their expensive work once: Basic encodes its header at construction, and the JWT
signer parses the private key at construction and re-signs a token only when the
cached one is about to expire.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import httpx
import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from botkit.clock import Clock, SystemClock
from botkit.errors import ConfigError

if TYPE_CHECKING:
    from botkit.settings import Settings

__all__ = [
    "VONAGE_DOMAINS",
    "ApplicationJwtAuth",
    "Auth",
    "BasicAuth",
    "auth_from_settings",
    "host_of",
    "may_send_credentials",
]

_PEM_MARKER = "-----BEGIN"

VONAGE_DOMAINS = ("nexmo.com", "vonage.com")
"""Vonage's domains: their ``https`` URLs (and their subdomains') may get the credentials."""


class Auth(Protocol):
    """Anything that can produce the value of an ``Authorization`` header."""

    def header(self) -> str:
        """Return the full header value, e.g. ``"Basic ..."`` or ``"Bearer ..."``."""
        ...


class BasicAuth:
    """HTTP Basic authentication with the account's API key and secret.

    Note that with Basic auth Vonage sends webhooks to the account-level URLs, not
    to an application's; prefer :class:`ApplicationJwtAuth` when you can.

    Args:
        api_key: the account's API key.
        api_secret: the account's API secret.

    Raises:
        ConfigError: when either value is empty.
    """

    __slots__ = ("_header",)

    def __init__(self, api_key: str, api_secret: str) -> None:
        if not api_key or not api_secret:
            raise ConfigError("Basic auth needs both VONAGE_API_KEY and VONAGE_API_SECRET")
        token = base64.b64encode(f"{api_key}:{api_secret}".encode()).decode("ascii")
        # The value never changes, so it is built here once instead of on every send.
        self._header = f"Basic {token}"

    def header(self) -> str:
        """Return ``"Basic " + base64(api_key:api_secret)``."""
        return self._header

    def invalidate(self) -> None:
        """Do nothing: Basic credentials do not expire.

        Present so that callers can invalidate any built-in auth after a 401
        without checking its type.
        """

    def __repr__(self) -> str:
        # Never show the secret, not even encoded.
        return "BasicAuth(...)"


class ApplicationJwtAuth:
    """Application JWT (``Authorization: Bearer <jwt>``) signed with RS256.

    The token carries the claims the official SDK sets (``application_id``, ``iat``,
    ``jti``, ``exp = iat + ttl``). It is cached and re-signed only when fewer than
    ``renew_before`` seconds of its life remain, so a busy bot signs about once per
    ``ttl - renew_before`` seconds instead of once per message.

    Args:
        application_id: the Vonage application's id.
        private_key: the application's private key as PEM text, or the path of a PEM
            file (read once, here).
        clock: where the time comes from; the system clock by default.
        ttl: lifetime of each token in seconds (the SDK uses 900).
        renew_before: re-sign when fewer than this many seconds remain before ``exp``.

    Raises:
        ConfigError: when the id is empty, the file cannot be read, the key is not an
            unencrypted RSA private key in PEM form, or the timings are inconsistent.
    """

    __slots__ = (
        "_application_id",
        "_clock",
        "_expires_at",
        "_header",
        "_key",
        "_renew_before",
        "_ttl",
    )

    def __init__(
        self,
        application_id: str,
        private_key: str | os.PathLike[str],
        *,
        clock: Clock | None = None,
        ttl: int = 900,
        renew_before: int = 60,
    ) -> None:
        if not application_id:
            raise ConfigError("JWT auth needs VONAGE_APPLICATION_ID")
        if ttl <= 0:
            raise ConfigError(f"JWT ttl must be a positive number of seconds, not {ttl}")
        if not 0 <= renew_before < ttl:
            raise ConfigError(
                f"JWT renew_before must be at least 0 and less than ttl ({ttl}), not {renew_before}"
            )
        self._application_id = application_id
        # Parsing the PEM costs far more than signing; do it once and sign with the
        # key object, which PyJWT accepts directly.
        self._key = _load_private_key(private_key)
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._ttl = ttl
        self._renew_before = renew_before
        self._header: str | None = None
        self._expires_at = 0.0

    def header(self) -> str:
        """Return ``"Bearer <jwt>"``, signing a new token when the cached one is near expiry."""
        if self._header is None or self._clock.now() > self._expires_at - self._renew_before:
            self._renew()
        assert self._header is not None  # set by _renew
        return self._header

    def invalidate(self) -> None:
        """Drop the cached token so the next :meth:`header` signs a new one.

        Call it when the API answered 401 to a request that carried the cached token.
        """
        self._header = None

    def _renew(self) -> None:
        iat = int(self._clock.now())
        exp = iat + self._ttl
        claims = {
            "application_id": self._application_id,
            "iat": iat,
            "jti": str(uuid.uuid4()),
            "exp": exp,
        }
        token = jwt.encode(
            claims, self._key, algorithm="RS256", headers={"alg": "RS256", "typ": "JWT"}
        )
        self._header = f"Bearer {token}"
        self._expires_at = float(exp)

    def __repr__(self) -> str:
        return f"ApplicationJwtAuth(application_id={self._application_id!r})"


def _load_private_key(private_key: str | os.PathLike[str]) -> RSAPrivateKey:
    """Parse PEM text, or read and parse a PEM file, into an RSA private key."""
    if isinstance(private_key, str) and _PEM_MARKER in private_key:
        pem, origin = private_key, "the private key text"
    else:
        if isinstance(private_key, str) and ("\n" in private_key or len(private_key) > 1024):
            # Not a plausible path, and possibly key material: do not echo it back.
            raise ConfigError(
                "the private key is neither PEM text (it has no -----BEGIN line) nor the "
                "path of a PEM file"
            )
        path = Path(private_key)
        try:
            pem = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"cannot read the private key file {str(path)!r}: {exc}. VONAGE_PRIVATE_KEY "
                "must be the PEM text (starting with -----BEGIN) or the path of a PEM file"
            ) from exc
        origin = f"the private key file {str(path)!r}"
        if _PEM_MARKER not in pem:
            raise ConfigError(f"{origin} is not PEM: it has no -----BEGIN line")
    if "\n" not in pem and "\\n" in pem:
        # A key pasted into an environment variable often arrives on one line with
        # literal backslash-n sequences; PEM needs real line breaks.
        pem = pem.replace("\\n", "\n")
    try:
        key = load_pem_private_key(pem.encode("utf-8"), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        # TypeError: an encrypted key (no password is ever given); ValueError: malformed
        # PEM or DER; UnsupportedAlgorithm: a key type this cryptography build cannot load.
        raise ConfigError(
            f"{origin} is not a usable private key: {exc}. Use the unencrypted PEM "
            "private key downloaded with the Vonage application"
        ) from exc
    if not isinstance(key, RSAPrivateKey):
        raise ConfigError(
            f"{origin} is a {type(key).__name__}, but the Messages API needs an RSA key (RS256)"
        )
    return key


def auth_from_settings(settings: Settings, clock: Clock) -> Auth | None:
    """The Messages API authentication the settings give: an application's JWT when it has
    an id and a private key, else the API key and secret, else none (the sandbox)."""
    s = settings
    if s.application_id and s.private_key:
        return ApplicationJwtAuth(s.application_id, s.private_key, clock=clock)
    if s.api_key and s.api_secret:
        return BasicAuth(s.api_key, s.api_secret)
    return None


def may_send_credentials(url: str | httpx.URL, *, also: Iterable[str] = ()) -> bool:
    """Whether a request to ``url`` may carry the application's credentials.

    True for ``https`` on Vonage's domains (``api-eu.nexmo.com``, ``api.vonage.com``...)
    and for the hosts in ``also`` (``host`` or ``host:port``, any scheme: the configured
    Messages API host, say). A URL that comes from a webhook (a media URL, ``_self.href``)
    is checked with this before the JWT goes to it: a forged webhook must not collect it.
    """
    try:
        parsed = httpx.URL(url) if isinstance(url, str) else url
    except httpx.InvalidURL:
        return False
    host = parsed.host.lower()
    if parsed.scheme == "https" and any(
        host == domain or host.endswith("." + domain) for domain in VONAGE_DOMAINS
    ):
        return True
    trusted = {h.lower() for h in also}
    netloc = host if parsed.port is None else f"{host}:{parsed.port}"
    return host in trusted or netloc in trusted


def host_of(url: str) -> str:
    """``url``'s ``host`` or ``host:port``, as :func:`may_send_credentials` takes them."""
    parsed = httpx.URL(url)
    return parsed.host if parsed.port is None else f"{parsed.host}:{parsed.port}"
