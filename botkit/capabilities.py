"""What each channel can show natively, per API version: the channels' data as one table.

The renderer reads only this table: which reply features a channel sends natively, and
every limit that drives a downgrade (button counts, title lengths, text and caption
lengths, SMS segment sizes, RCS chips and cards). The data itself lives with each channel
in :mod:`botkit.channels` (one module per channel); changing a limit is changing a number
there, not code.

Sources: v1 follows ``vonage-spec/README.md`` section 13 (spec 1.4.0, the official SDK,
Meta's WhatsApp interactive-message limits) and, for RCS, ``vonage-spec/current``. v0.1
follows the beta overview's support tables and the v0.1 spec: where the overview claims a
feature that no document defines on the wire, the feature is not native and
:attr:`Capabilities.notes` says why (the renderer repeats it in its decision).

Regenerate the table in ``docs/replies.md`` with::

    python -m botkit._capability_doc --write docs/replies.md
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from botkit.channels import CHANNEL_LABELS, CHANNELS, REGISTRY
from botkit.channels.base import FEATURES, Capabilities, TemplateStyle
from botkit.errors import ConfigError

__all__ = [
    "API_VERSIONS",
    "CAPABILITIES",
    "CHANNEL_LABELS",
    "FEATURES",
    "Capabilities",
    "TemplateStyle",
    "capabilities",
    "capability_table_markdown",
]

API_VERSIONS = ("v1", "v0.1")

CAPABILITIES: Mapping[tuple[str, str], Capabilities] = MappingProxyType({
    (caps.api_version, caps.channel): caps
    for version in API_VERSIONS
    for spec in REGISTRY.values()
    if (caps := spec.capabilities.get(version)) is not None
})
"""The table: ``CAPABILITIES[api_version, channel]``."""


def capabilities(channel: str, api_version: str = "v1") -> Capabilities:
    """The capabilities of ``channel`` on ``api_version``.

    Raises:
        ConfigError: for an unknown channel or API version, or a channel that does not
            exist on that version (RCS on v0.1).
    """
    found = CAPABILITIES.get((api_version, channel))
    if found is None:
        if api_version not in API_VERSIONS:
            raise ConfigError(f"unknown API version {api_version!r}; use one of "
                              f"{', '.join(API_VERSIONS)}")
        if channel in REGISTRY:
            raise ConfigError(f"{CHANNEL_LABELS[channel]} does not exist on the "
                              f"{api_version} API; use v1")
        raise ConfigError(f"unknown channel {channel!r}; channels are {', '.join(CHANNELS)}")
    return found


def capability_table_markdown() -> str:
    """The channel tables of ``docs/replies.md``, generated from :data:`CAPABILITIES`."""
    from botkit._capability_doc import markdown

    return markdown(CAPABILITIES)
