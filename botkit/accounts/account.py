"""One external account (a Facebook page, a Viber service, a WhatsApp number) as the
External Accounts API describes it, and the API's names for the providers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from botkit.channels import v1_name

__all__ = ["CHANNEL_OF_PROVIDER", "PROVIDERS", "ExternalAccount", "provider_name"]

PROVIDERS: Final = ("messenger", "viber_service_msg", "whatsapp")
"""The providers the External Accounts API manages, by its own names."""

# The API names providers as the Messages API v0.1 names its channels.
CHANNEL_OF_PROVIDER: Final[Mapping[str, str]] = {p: v1_name(p) for p in PROVIDERS}
"""Each provider's Messages API (v1) channel: Viber's differs (``viber_service``)."""

_ALIASES: Final = {"viber_service": "viber_service_msg", "viber": "viber_service_msg"}


def provider_name(provider: str) -> str:
    """The API's name for ``provider``; the channel names ``viber_service`` and ``viber``
    are accepted for ``viber_service_msg``.

    Raises:
        ValueError: not a provider the API manages.
    """
    name = _ALIASES.get(provider, provider)
    if name not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}: use one of {', '.join(PROVIDERS)}")
    return name


@dataclass(frozen=True, slots=True)
class ExternalAccount:
    """One account (a Facebook page, a Viber service, a WhatsApp number) and its links.

    Attributes:
        provider: ``messenger``, ``viber_service_msg`` or ``whatsapp``.
        external_id: the provider's id: the Facebook page id, the Viber service id, the
            WhatsApp number.
        name: the account's name in Vonage, if it has one.
        applications: the ids of the Vonage applications linked to it (the API allows one).
        api_key: the Vonage API key that owns the account.
        access_token: the Facebook page token (Messenger only); never printed.
    """

    provider: str
    external_id: str
    name: str | None = None
    applications: tuple[str, ...] = ()
    api_key: str | None = None
    access_token: str | None = field(default=None, repr=False)

    @property
    def channel(self) -> str:
        """The Messages API channel this account sends on (``viber_service`` for Viber)."""
        return CHANNEL_OF_PROVIDER.get(self.provider, self.provider)

    def is_linked_to(self, application_id: str) -> bool:
        """True when ``application_id`` is linked to this account."""
        return application_id in self.applications

    def to_json(self) -> dict[str, Any]:
        """The account as JSON-ready data, without the access token (a secret)."""
        return {
            "provider": self.provider,
            "channel": self.channel,
            "external_id": self.external_id,
            "name": self.name,
            "applications": list(self.applications),
            "api_key": self.api_key,
        }

    @classmethod
    def from_api(cls, data: object) -> ExternalAccount:
        """Read one account object of the API's answers.

        Raises:
            ValueError: ``data`` is not an account (no ``provider`` or ``external_id``).
        """
        if not isinstance(data, dict):
            raise ValueError(f"an account must be a JSON object, not {type(data).__name__}")
        provider, external_id = data.get("provider"), data.get("external_id")
        if not isinstance(provider, str) or not isinstance(external_id, str) or not external_id:
            raise ValueError("an account needs a provider and an external_id")
        applications = data.get("applications")
        return cls(
            provider=provider,
            external_id=external_id,
            name=_optional_text(data.get("name")),
            applications=tuple(
                a for a in (applications if isinstance(applications, list) else []) if a
            ),
            api_key=_optional_text(data.get("api_key")),
            access_token=_optional_text(data.get("access_token")),
        )


def _optional_text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
