"""Settings: read once from the environment into one frozen object.

Every setting has the name users put in their environment (``VONAGE_*`` for the
Vonage account, ``BOTKIT_*`` for botkit itself); the table lives in the README.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, cast

from botkit.errors import ConfigError

if TYPE_CHECKING:
    from botkit.quiet_hours import QuietHours

__all__ = ["DEFAULT_ACCOUNTS_URL", "DEFAULT_MESSAGES_URL", "Settings"]

DEFAULT_MESSAGES_URL = "https://api.nexmo.com/v1/messages"
DEFAULT_ACCOUNTS_URL = "https://api.nexmo.com/beta/chatapp-accounts"
"""The External Accounts API's base URL (``botkit accounts``): the one server its spec names."""

ApiVersion = Literal["v1", "v0.1"]
SandboxMode = Literal["auto", "on", "off"]


@dataclass(frozen=True, slots=True)
class Settings:
    """All of botkit's settings. Build it with :meth:`from_env` or by keyword for tests.

    Example:
        settings = Settings.from_env()            # os.environ
        settings = Settings(store="memory://")    # explicit, e.g. in tests
    """

    api_key: str | None = None
    api_secret: str | None = field(default=None, repr=False)
    application_id: str | None = None
    private_key: str | None = field(default=None, repr=False)
    signature_secret: str | None = field(default=None, repr=False)
    messages_url: str = DEFAULT_MESSAGES_URL
    accounts_url: str = DEFAULT_ACCOUNTS_URL
    api_version: ApiVersion = "v1"
    store: str = "sqlite:///botkit.db"
    sandbox: SandboxMode = "auto"
    signature_strict: bool = False
    max_body: int = 65536
    public_url: str | None = None
    locale: str = "en"
    rate: float | None = None
    queue_max: int = 10_000
    lock_lease: float = 60.0
    retention: float = 7 * 24 * 3600.0
    prune_interval: float = 3600.0
    shutdown_grace: float = 10.0
    http_transport: str = "aiohttp"
    concurrency: int = 64
    backlog: int = 1000
    send_attempts: int = 12
    send_retry_budget: float = 300.0
    senders: Mapping[str, str] = field(default_factory=dict)
    """Our address per channel for failover steps (``BOTKIT_SENDERS=sms:447700900000``)."""
    agent_token: str | None = field(default=None, repr=False)
    agent_webhook_url: str | None = None
    handoff_timeout: float = 1800.0
    chatwoot_url: str | None = None
    chatwoot_token: str | None = field(default=None, repr=False)
    chatwoot_inbox: int | None = None
    chatwoot_secret: str | None = field(default=None, repr=False)
    media_max: int = 100 * 1024 * 1024
    media_stream_above: int = 8 * 1024 * 1024
    typing_after: float | None = None
    stop_words: tuple[str, ...] | None = None
    """BOTKIT_STOP_WORDS: the words that opt a user out; None: the default family."""
    start_words: tuple[str, ...] | None = None
    help_words: tuple[str, ...] | None = None
    stop_text: str | None = None
    """BOTKIT_STOP_TEXT: the opt-out confirmation; None: botkit's, in the user's language."""
    start_text: str | None = None
    help_text: str | None = None
    """BOTKIT_HELP_TEXT: the answer to HELP-family words; None: those words are not keywords."""
    quiet_hours: str | None = None
    """``BOTKIT_QUIET_HOURS=21:00-08:00``: recipients' local hours free of proactive sends."""
    quiet_hours_zone: str = "UTC"
    """``BOTKIT_QUIET_HOURS_ZONE``: the time zone of recipients whose number tells none."""
    templates: str | None = None
    """BOTKIT_TEMPLATES: a template registry file (besides ``templates.yaml`` by the flows)."""
    window_fallback: str | None = None
    """BOTKIT_WINDOW_FALLBACK: the registered template sent for the whole bot in place of a
    free-form message when the customer-care window is closed."""

    def __post_init__(self) -> None:
        _require_pair("VONAGE_API_KEY", self.api_key, "VONAGE_API_SECRET", self.api_secret)
        _require_pair(
            "VONAGE_APPLICATION_ID",
            self.application_id,
            "VONAGE_PRIVATE_KEY",
            self.private_key,
        )
        if self.api_version not in ("v1", "v0.1"):
            raise ConfigError(f"BOTKIT_API_VERSION={self.api_version!r}: use 'v1' or 'v0.1'")
        if self.sandbox not in ("auto", "on", "off"):
            raise ConfigError(f"BOTKIT_SANDBOX={self.sandbox!r}: use 'auto', 'on' or 'off'")
        if self.max_body < 1:
            raise ConfigError(
                f"BOTKIT_MAX_BODY must be a positive number of bytes, not {self.max_body}"
            )
        _require_positive("BOTKIT_RATE", self.rate, allow_none=True)
        _require_positive("BOTKIT_QUEUE_MAX", self.queue_max)
        _require_positive("BOTKIT_BACKLOG", self.backlog)
        _require_positive("BOTKIT_SEND_ATTEMPTS", self.send_attempts)
        _require_positive("BOTKIT_LOCK_LEASE", self.lock_lease)
        if self.retention < 0:
            raise ConfigError(f"BOTKIT_RETENTION must be >= 0 seconds, not {self.retention}")
        if self.prune_interval < 0:
            raise ConfigError(
                f"BOTKIT_PRUNE_INTERVAL must be >= 0 seconds (0: never), not {self.prune_interval}"
            )
        if self.shutdown_grace < 0:
            raise ConfigError(
                f"BOTKIT_SHUTDOWN_GRACE must be >= 0 seconds, not {self.shutdown_grace}"
            )
        if self.send_retry_budget < 0:
            raise ConfigError(
                f"BOTKIT_SEND_RETRY_BUDGET must be >= 0 seconds, not {self.send_retry_budget}"
            )
        _check_senders(self.senders)
        if self.handoff_timeout < 0:
            raise ConfigError(
                "BOTKIT_HANDOFF_TIMEOUT must be >= 0 seconds (0: never), "
                f"not {self.handoff_timeout}"
            )
        if self.agent_webhook_url and not self.agent_token:
            raise ConfigError(
                "BOTKIT_AGENT_WEBHOOK_URL is set but BOTKIT_AGENT_TOKEN is missing: the agent "
                "webhooks are signed with it"
            )
        _check_chatwoot(self)
        _require_positive("BOTKIT_MEDIA_MAX", self.media_max)
        if self.media_stream_above < 0:
            raise ConfigError(
                f"BOTKIT_MEDIA_STREAM_ABOVE must be >= 0 bytes, not {self.media_stream_above}"
            )
        _require_positive("BOTKIT_TYPING_AFTER", self.typing_after, allow_none=True)
        if self.typing_after is not None and self.api_key and not self.application_id:
            raise ConfigError(
                "BOTKIT_TYPING_AFTER needs application JWT credentials (VONAGE_APPLICATION_ID "
                "and VONAGE_PRIVATE_KEY): the typing indicator is a PATCH, which takes no API key"
            )
        if self.quiet_hours is not None:
            from botkit.quiet_hours import QuietHours, recipient_zones

            QuietHours.parse(self.quiet_hours)
            recipient_zones("messenger", "", self.quiet_hours_zone)  # a known zone?
        if self.sandbox == "off" and not self.has_credentials:
            raise ConfigError(
                "BOTKIT_SANDBOX=off needs credentials: set VONAGE_APPLICATION_ID and "
                "VONAGE_PRIVATE_KEY (or VONAGE_API_KEY and VONAGE_API_SECRET)"
            )

    @property
    def quiet(self) -> QuietHours | None:
        """The parsed ``BOTKIT_QUIET_HOURS``, or None when not set."""
        if self.quiet_hours is None:
            return None
        from botkit.quiet_hours import QuietHours

        return QuietHours.parse(self.quiet_hours)

    @property
    def has_credentials(self) -> bool:
        """True when a complete credential pair (JWT or Basic) is set."""
        return bool(self.application_id or self.api_key)

    @property
    def sandbox_enabled(self) -> bool:
        """Whether outbound messages go to the local sandbox instead of Vonage."""
        if self.sandbox == "auto":
            return not self.has_credentials
        return self.sandbox == "on"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every setting from ``environ`` (default: ``os.environ``).

        Raises:
            ConfigError: a value is malformed, or half a credential pair is set.
        """
        env = os.environ if environ is None else environ

        def text(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        def number(name: str, default: float) -> float:
            raw = text(name)
            if raw is None:
                return default
            try:
                return float(raw)
            except ValueError:
                raise ConfigError(f"{name}={raw!r} is not a number") from None

        rate = text("BOTKIT_RATE")
        inbox = text("BOTKIT_CHATWOOT_INBOX")
        if inbox is not None and not inbox.isdigit():
            raise ConfigError(f"BOTKIT_CHATWOOT_INBOX={inbox!r} is not an inbox id (a number)")
        typing_after = text("BOTKIT_TYPING_AFTER")
        return cls(
            api_key=text("VONAGE_API_KEY"),
            api_secret=text("VONAGE_API_SECRET"),
            application_id=text("VONAGE_APPLICATION_ID"),
            private_key=text("VONAGE_PRIVATE_KEY"),
            signature_secret=text("VONAGE_SIGNATURE_SECRET"),
            messages_url=text("VONAGE_MESSAGES_URL") or DEFAULT_MESSAGES_URL,
            accounts_url=text("VONAGE_ACCOUNTS_URL") or DEFAULT_ACCOUNTS_URL,
            api_version=cast(ApiVersion, _choice(env, "BOTKIT_API_VERSION", "v1")),
            store=text("BOTKIT_STORE") or "sqlite:///botkit.db",
            sandbox=cast(SandboxMode, _choice(env, "BOTKIT_SANDBOX", "auto")),
            signature_strict=_flag(env, "BOTKIT_SIGNATURE_STRICT"),
            max_body=int(number("BOTKIT_MAX_BODY", 65536)),
            public_url=text("BOTKIT_PUBLIC_URL"),
            locale=text("BOTKIT_LOCALE") or "en",
            rate=None if rate is None else number("BOTKIT_RATE", 0.0),
            queue_max=int(number("BOTKIT_QUEUE_MAX", 10_000)),
            lock_lease=number("BOTKIT_LOCK_LEASE", 60.0),
            retention=number("BOTKIT_RETENTION", 7 * 24 * 3600.0),
            prune_interval=number("BOTKIT_PRUNE_INTERVAL", 3600.0),
            shutdown_grace=number("BOTKIT_SHUTDOWN_GRACE", 10.0),
            http_transport=text("BOTKIT_HTTP_TRANSPORT") or "aiohttp",
            concurrency=int(number("BOTKIT_CONCURRENCY", 64)),
            backlog=int(number("BOTKIT_BACKLOG", 1000)),
            send_attempts=int(number("BOTKIT_SEND_ATTEMPTS", 12)),
            send_retry_budget=number("BOTKIT_SEND_RETRY_BUDGET", 300.0),
            senders=_senders(text("BOTKIT_SENDERS")),
            agent_token=text("BOTKIT_AGENT_TOKEN"),
            agent_webhook_url=text("BOTKIT_AGENT_WEBHOOK_URL"),
            handoff_timeout=number("BOTKIT_HANDOFF_TIMEOUT", 1800.0),
            chatwoot_url=text("BOTKIT_CHATWOOT_URL"),
            chatwoot_token=text("BOTKIT_CHATWOOT_TOKEN"),
            chatwoot_inbox=None if inbox is None else int(inbox),
            chatwoot_secret=text("BOTKIT_CHATWOOT_SECRET"),
            media_max=int(number("BOTKIT_MEDIA_MAX", 100 * 1024 * 1024)),
            media_stream_above=int(number("BOTKIT_MEDIA_STREAM_ABOVE", 8 * 1024 * 1024)),
            typing_after=None if typing_after is None else number("BOTKIT_TYPING_AFTER", 0.0),
            stop_words=_words(env, "BOTKIT_STOP_WORDS"),
            start_words=_words(env, "BOTKIT_START_WORDS"),
            help_words=_words(env, "BOTKIT_HELP_WORDS"),
            stop_text=text("BOTKIT_STOP_TEXT"),
            start_text=text("BOTKIT_START_TEXT"),
            help_text=text("BOTKIT_HELP_TEXT"),
            quiet_hours=text("BOTKIT_QUIET_HOURS"),
            quiet_hours_zone=text("BOTKIT_QUIET_HOURS_ZONE") or "UTC",
            templates=text("BOTKIT_TEMPLATES"),
            window_fallback=text("BOTKIT_WINDOW_FALLBACK"),
        )


def _words(env: Mapping[str, str], name: str) -> tuple[str, ...] | None:
    """A comma-separated word list (``STOP,QUIT,ALTO``); unset: None; set but empty: ()."""
    if name not in env:
        return None
    return tuple(w.strip() for w in env[name].split(",") if w.strip())


def _senders(raw: str | None) -> dict[str, str]:
    """``sms:447700900000,mms:14155550100`` as ``{channel: address}``."""
    out: dict[str, str] = {}
    for item in (raw or "").split(","):
        if not item.strip():
            continue
        channel, sep, address = item.partition(":")
        if not sep or not channel.strip() or not address.strip():
            raise ConfigError(f"BOTKIT_SENDERS: {item.strip()!r} is not channel:address "
                              f"(e.g. sms:447700900000)")
        out[channel.strip()] = address.strip()
    return out


def _check_senders(senders: Mapping[str, str]) -> None:
    from botkit.channels import CHANNELS

    for channel in senders:
        if channel not in CHANNELS:
            raise ConfigError(f"BOTKIT_SENDERS: unknown channel {channel!r}; channels are "
                              f"{', '.join(CHANNELS)}")


def _require_pair(name_a: str, a: str | None, name_b: str, b: str | None) -> None:
    # Half a pair is almost always a typo in a deployment; failing at start beats a 401 later.
    if a and not b:
        raise ConfigError(f"{name_a} is set but {name_b} is missing; set both or neither")
    if b and not a:
        raise ConfigError(f"{name_b} is set but {name_a} is missing; set both or neither")


def _check_chatwoot(settings: Settings) -> None:
    """The Chatwoot connector needs all of its settings, or none."""
    given = {
        "BOTKIT_CHATWOOT_URL": settings.chatwoot_url,
        "BOTKIT_CHATWOOT_TOKEN": settings.chatwoot_token,
        "BOTKIT_CHATWOOT_INBOX": settings.chatwoot_inbox,
    }
    missing = [name for name, value in given.items() if value is None]
    if len(missing) == len(given):
        if settings.chatwoot_secret:
            raise ConfigError("BOTKIT_CHATWOOT_SECRET is set but BOTKIT_CHATWOOT_URL is not")
        return
    if missing:
        raise ConfigError(
            f"the Chatwoot connector needs {', '.join(missing)} too (set "
            "BOTKIT_CHATWOOT_URL, BOTKIT_CHATWOOT_TOKEN and BOTKIT_CHATWOOT_INBOX together)"
        )
    from botkit.handoff.chatwoot.api import account_of

    account_of(settings.chatwoot_url or "")  # names an account, or a ConfigError now


def _require_positive(name: str, value: float | None, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if value is None or not value > 0:
        raise ConfigError(f"{name} must be a positive number, not {value}")


def _choice(env: Mapping[str, str], name: str, default: str) -> str:
    return env.get(name, "").strip().lower() or default


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name}={raw!r}: use true or false")
