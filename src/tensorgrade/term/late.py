"""The late policy as arithmetic: started days late, and the percent of the score they cost."""

from __future__ import annotations

import datetime as dt
import math

from tensorgrade.spec.models import LateSpec

DAY = dt.timedelta(days=1)


def late_days(submitted: dt.datetime, due: dt.datetime, grace_minutes: float) -> int:
    """0 up to due + grace; after that every started day since `due` counts (1.5 days late -> 2)."""
    if submitted <= due + dt.timedelta(minutes=grace_minutes):
        return 0
    return max(1, math.ceil((submitted - due) / DAY))


def penalty_percent(days: int, late: LateSpec) -> float:
    """Percent of the score lost: penalty_per_day per started day, all of it beyond max_days_late."""
    if days <= 0:
        return 0.0
    if days > late.max_days_late:
        return 100.0
    return min(100.0, days * late.penalty_per_day)
