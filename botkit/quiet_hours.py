"""Quiet hours (``BOTKIT_QUIET_HOURS=21:00-08:00``): when proactive sends must wait.

The hours are the recipient's local time. The time zone comes from the number: the
``phonenumbers`` library gives the zones of the number's region (``time_zones_for_number``,
from its geocoding data: a US number's area code, a UK number's country; for a number
outside the ranges it knows, the zones of its country calling code). Where it names
several zones (a mobile number of a country spanning several, such as Russia or Brazil;
a country code alone), every one of them must be outside the quiet hours before a
message goes out, so no candidate zone is woken up. A recipient without a usable number
(a Messenger id, an unknown region) is taken to live in ``BOTKIT_QUIET_HOURS_ZONE``
(``UTC`` by default).

Only proactive sends (``bot.send``, ``bot.start_flow``, broadcasts) are deferred; a
reply in a conversation the user is having never is.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezones

from botkit.errors import ConfigError

__all__ = ["PHONE_CHANNELS", "QuietHours", "recipient_zones"]

PHONE_CHANNELS = frozenset({"sms", "mms", "rcs", "whatsapp", "viber_service"})
"""Channels whose user address is a phone number (E.164 digits without ``+``)."""

_SPEC = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_UNKNOWN_ZONE = "Etc/Unknown"
_MAX_STEPS = 64  # zone boundaries tried before scanning minute by minute


@functools.lru_cache(maxsize=8)
def _parse(text: str) -> tuple[time, time]:
    match = _SPEC.match(text)
    if match is None:
        raise ConfigError(f"BOTKIT_QUIET_HOURS={text!r}: use HH:MM-HH:MM, e.g. 21:00-08:00")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ConfigError(f"BOTKIT_QUIET_HOURS={text!r}: hours run 00-23 and minutes 00-59")
    start, end = time(h1, m1), time(h2, m2)
    if start == end:
        raise ConfigError(f"BOTKIT_QUIET_HOURS={text!r}: the start and the end are the same time")
    return start, end


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily span of local time in which proactive messages wait.

    ``start`` is the first quiet minute and ``end`` the first allowed one again; a span
    that passes midnight (``21:00-08:00``) wraps. ``start == end`` is refused: it would
    mean always or never.

    Example:
        quiet = QuietHours.parse("21:00-08:00")
        quiet.release_at(now, recipient_zones("sms", "447700900001"))  # None: send now
    """

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        """``"HH:MM-HH:MM"`` as quiet hours.

        Raises:
            ConfigError: the text is not two times of day, or they are equal.
        """
        return cls(*_parse(text))

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def is_quiet(self, local: datetime) -> bool:
        """True when the local time of day ``local`` falls in the quiet hours."""
        now = local.time().replace(second=0, microsecond=0, tzinfo=None)
        if self.start < self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    def release_at(self, now: float, zones: tuple[ZoneInfo, ...]) -> float | None:
        """When a proactive message to someone in ``zones`` may go out, or None for now.

        The next whole minute at which it is outside the quiet hours in every zone.
        """
        if not any(self.is_quiet(datetime.fromtimestamp(now, zone)) for zone in zones):
            return None
        moment = now
        for _ in range(_MAX_STEPS):
            later = max(self._end_after(moment, zone) for zone in zones)
            if not any(self.is_quiet(datetime.fromtimestamp(later, zone)) for zone in zones):
                return later
            moment = later + 60
        # Zones so far apart that ends never line up: look at every minute for two days.
        minute = (int(now) // 60 + 1) * 60
        for step in range(2 * 24 * 60):
            at = minute + 60 * step
            if not any(self.is_quiet(datetime.fromtimestamp(at, zone)) for zone in zones):
                return float(at)
        raise ConfigError(f"quiet hours {self} leave no minute free in {zones}")

    def _end_after(self, moment: float, zone: ZoneInfo) -> float:
        """The first allowed minute at or after ``moment`` in ``zone`` (itself if allowed)."""
        local = datetime.fromtimestamp(moment, zone)
        if not self.is_quiet(local):
            return moment
        end = datetime.combine(local.date(), self.end, zone)
        if end.timestamp() <= moment:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, zone)
        return end.timestamp()


def recipient_zones(channel: str, user: str, default: str = "UTC") -> tuple[ZoneInfo, ...]:
    """The time zones a recipient may live in, from their number (see the module doc).

    Raises:
        ConfigError: ``default`` is not a time zone name.
    """
    if channel in PHONE_CHANNELS:
        names = _number_zones(user)
        if names:
            return tuple(ZoneInfo(name) for name in names)
    return (_zone(default),)


@functools.lru_cache(maxsize=4096)
def _number_zones(user: str) -> tuple[str, ...]:
    digits = user.lstrip("+")
    if not digits.isdigit():
        return ()
    try:
        number = phonenumbers.parse("+" + digits)
    except phonenumbers.NumberParseException:
        return ()
    names = [n for n in phone_timezones.time_zones_for_number(number) if _known(n)]
    if not names:
        # A number outside the ranges the data knows (a new range, a test number): the
        # zones of its country calling code.
        by_code: dict[str, tuple[str, ...]] = getattr(phone_timezones, "TIMEZONE_DATA", {})
        names = [n for n in by_code.get(str(number.country_code), ()) if _known(n)]
    return tuple(sorted(names))


@functools.lru_cache(maxsize=512)
def _known(name: str) -> bool:
    if name == _UNKNOWN_ZONE:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"BOTKIT_QUIET_HOURS_ZONE={name!r} is not a time zone name") from None
