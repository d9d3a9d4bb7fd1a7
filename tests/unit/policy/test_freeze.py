"""Freeze windows: parsing, week wrap, and daylight saving time in Europe/Berlin."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time

import pytest

from twokey.model import RuleRef
from twokey.policy import FreezeWindow, parse_freeze_window

RULE = RuleRef("p.yml", 1, 1, "environments.production.freeze[0]")
WEEKEND = "Fri 16:00 - Mon 08:00 Europe/Berlin"


def window(text: str) -> FreezeWindow:
    return parse_freeze_window(text, RULE)


def test_parse() -> None:
    parsed = window("fri 16:00-MON 08:30 Europe/Berlin")
    assert (parsed.start_day, parsed.start, parsed.end_day, parsed.end, parsed.tz) == (
        4,
        time(16, 0),
        0,
        time(8, 30),
        "Europe/Berlin",
    )
    assert parsed.rule is RULE


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# 2026: CET (UTC+1) until Sun 29 March 02:00, CEST (UTC+2) until Sun 25 October 03:00.
CONTAINS = {
    "winter-fri-before": (WEEKEND, utc(2026, 1, 16, 14, 59), False),  # Fri 15:59 CET
    "winter-fri-start": (WEEKEND, utc(2026, 1, 16, 15, 0), True),  # Fri 16:00 CET
    "winter-sat": (WEEKEND, utc(2026, 1, 17, 12, 0), True),
    "winter-sun-late": (WEEKEND, utc(2026, 1, 18, 23, 30), True),  # Mon 00:30 CET: week wrap
    "winter-mon-before-end": (WEEKEND, utc(2026, 1, 19, 6, 59), True),  # Mon 07:59 CET
    "winter-mon-end": (WEEKEND, utc(2026, 1, 19, 7, 0), False),  # Mon 08:00 CET: end excluded
    "winter-wed": (WEEKEND, utc(2026, 1, 21, 12, 0), False),
    "summer-fri-start": (WEEKEND, utc(2026, 7, 17, 14, 0), True),  # Fri 16:00 CEST
    "summer-fri-utc-1500-is-late": (WEEKEND, utc(2026, 7, 17, 13, 59), False),  # 15:59 CEST
    "summer-mon-end": (WEEKEND, utc(2026, 7, 20, 6, 0), False),  # Mon 08:00 CEST
    "summer-mon-before-end": (WEEKEND, utc(2026, 7, 20, 5, 59), True),
    # Spring forward: Sun 29 March 2026, 02:00 CET becomes 03:00 CEST.
    "spring-before-gap": ("Sun 01:00 - Sun 04:00 Europe/Berlin", utc(2026, 3, 29, 0, 30), True),
    "spring-after-gap": ("Sun 01:00 - Sun 04:00 Europe/Berlin", utc(2026, 3, 29, 1, 30), True),
    "spring-after-end": ("Sun 01:00 - Sun 04:00 Europe/Berlin", utc(2026, 3, 29, 2, 0), False),
    "spring-window-starts-in-gap": (
        "Sun 02:30 - Sun 05:00 Europe/Berlin",
        utc(2026, 3, 29, 1, 0),  # 03:00 CEST: after the (skipped) start
        True,
    ),
    # Fall back: Sun 25 October 2026, 03:00 CEST becomes 02:00 CET; 02:30 happens twice.
    "autumn-first-0230": ("Sun 02:00 - Sun 03:00 Europe/Berlin", utc(2026, 10, 25, 0, 30), True),
    "autumn-second-0230": ("Sun 02:00 - Sun 03:00 Europe/Berlin", utc(2026, 10, 25, 1, 30), True),
    "autumn-after": ("Sun 02:00 - Sun 03:00 Europe/Berlin", utc(2026, 10, 25, 2, 0), False),
    "same-day-window": ("Wed 09:00 - Wed 17:00 UTC", utc(2026, 1, 21, 12, 0), True),
    "same-day-window-other-day": ("Wed 09:00 - Wed 17:00 UTC", utc(2026, 1, 22, 12, 0), False),
    "whole-week-but-a-minute": ("Mon 00:01 - Mon 00:00 UTC", utc(2026, 1, 21, 12, 0), True),
    "other-zone-offset": ("Fri 16:00 - Mon 08:00 America/New_York", utc(2026, 1, 16, 20, 0), False),
    "other-zone-inside": ("Fri 16:00 - Mon 08:00 America/New_York", utc(2026, 1, 16, 21, 0), True),
}


@pytest.mark.parametrize(("text", "now", "inside"), CONTAINS.values(), ids=CONTAINS.keys())
def test_contains(text: str, now: datetime, inside: bool) -> None:
    assert window(text).contains(now) is inside


BAD = {
    "words": ("Friday evening", "bad freeze window 'Friday evening'"),
    "no-zone": ("Fri 16:00 - Mon 08:00", "bad freeze window"),
    "one-digit-hour": ("Fri 6:00 - Mon 08:00 UTC", "bad freeze window"),
    "bad-day": ("Fri 16:00 - Mun 08:00 UTC", "bad day in freeze window"),
    "bad-hour": ("Fri 24:00 - Mon 08:00 UTC", "bad time in freeze window"),
    "bad-minute": ("Fri 16:60 - Mon 08:00 UTC", "bad time in freeze window"),
    "unknown-zone": (
        "Fri 16:00 - Mon 08:00 Europe/Atlantis",
        "unknown time zone 'Europe/Atlantis'",
    ),
    "path-zone": ("Fri 16:00 - Mon 08:00 ../etc/passwd", "unknown time zone"),
    "empty": ("Fri 16:00 - Fri 16:00 UTC", "empty freeze window"),
    "not-text": (42, "bad freeze window 42"),
}


@pytest.mark.parametrize(("text", "message"), BAD.values(), ids=BAD.keys())
def test_bad_windows(text: object, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_freeze_window(text, RULE)
