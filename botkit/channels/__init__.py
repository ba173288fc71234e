"""The Messages API channels, one module each, and the registry that lists them.

Each module (``sms``, ``mms``, ``rcs``, ``whatsapp``, ``messenger``, ``viber``) holds one
:class:`~botkit.channels.base.ChannelSpec`: the channel's capabilities per API version,
its strict wire models, its v0.1 naming, its inbound quirks and how the sandbox draws it.
Everything else in botkit reads those specs through this registry, so adding a channel
is one new module plus one line in :data:`REGISTRY` (see ``docs/channels.md``).

Example:
    >>> from botkit.channels import CHANNELS, channel
    >>> CHANNELS
    ('sms', 'mms', 'rcs', 'whatsapp', 'messenger', 'viber_service')
    >>> channel("viber_service").label
    'Viber'
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from botkit.channels import messenger, mms, rcs, sms, viber, whatsapp
from botkit.channels.base import (
    FEATURES,
    Capabilities,
    ChannelSpec,
    InboundQuirks,
    SandboxLook,
    TemplateStyle,
    V01Naming,
)
from botkit.errors import ConfigError

__all__ = [
    "CHANNELS",
    "CHANNEL_LABELS",
    "FEATURES",
    "REGISTRY",
    "Capabilities",
    "ChannelSpec",
    "InboundQuirks",
    "SandboxLook",
    "TemplateStyle",
    "V01Naming",
    "channel",
    "from_v01",
    "v1_name",
]

REGISTRY: Mapping[str, ChannelSpec] = MappingProxyType({
    spec.name: spec
    for spec in (sms.CHANNEL, mms.CHANNEL, rcs.CHANNEL, whatsapp.CHANNEL, messenger.CHANNEL,
                 viber.CHANNEL)
})
"""Every channel by its v1 wire name, in the order docs and the sandbox show them."""

CHANNELS: tuple[str, ...] = tuple(REGISTRY)
"""The channels' v1 wire names: sms, mms, rcs, whatsapp, messenger, viber_service."""

CHANNEL_LABELS: Mapping[str, str] = MappingProxyType(
    {name: spec.label for name, spec in REGISTRY.items()}
)
"""How decisions and docs name each channel."""

_BY_V01_NAME: Mapping[str, ChannelSpec] = MappingProxyType(
    {spec.v01.name: spec for spec in REGISTRY.values() if spec.v01 is not None}
)


def channel(name: str) -> ChannelSpec:
    """The spec of the channel with v1 wire name ``name``.

    Raises:
        ConfigError: for a name that is not a channel botkit knows.
    """
    found = REGISTRY.get(name)
    if found is None:
        raise ConfigError(f"unknown channel {name!r}; channels are {', '.join(CHANNELS)}")
    return found


def from_v01(name: str) -> ChannelSpec | None:
    """The channel a v0.1 body names ``name`` (``viber_service_msg``), if botkit knows it."""
    return _BY_V01_NAME.get(name)


def v1_name(v01_name: str) -> str:
    """The v1 name of the channel a v0.1 body names ``v01_name``; unknown names as given."""
    spec = _BY_V01_NAME.get(v01_name)
    return v01_name if spec is None else spec.name
