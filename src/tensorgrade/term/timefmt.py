"""Instants with a time zone: parsing the intake's ISO 8601 strings, and showing them to people."""

from __future__ import annotations

import datetime as dt


def parse_instant(text: str) -> dt.datetime | None:
    """An ISO 8601 date-time with a zone ('Z' or an offset); None when empty, unreadable or without a zone."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def show(value: dt.datetime) -> str:
    """2026-12-15 23:59 UTC / 2026-12-15 23:59 +01:00: short, with the zone."""
    name = value.tzname()
    zone = name if name and not name.startswith("UTC+") and not name.startswith("UTC-") else value.strftime("%z")
    if zone and zone[0] in "+-" and len(zone) == 5:
        zone = f"{zone[:3]}:{zone[3:]}"
    return value.strftime("%Y-%m-%d %H:%M") + (f" {zone}" if zone else "")


def duration(delta: dt.timedelta) -> str:
    """1 day 12 h 3 min: what a person reads in a note."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = ([f"{days} day{'s' if days != 1 else ''}"] if days else []) + ([f"{hours} h"] if hours else []) \
        + ([f"{mins} min"] if mins or not (days or hours) else [])
    return " ".join(parts)
