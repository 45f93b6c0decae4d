"""Zones, alert thresholds and the seed's advice, at and around every boundary."""

from __future__ import annotations

import pytest

from sessionmd.usage import zones


@pytest.mark.parametrize(
    ("percent", "name"),
    [
        (-1.0, "FRESH"),
        (0.0, "FRESH"),
        (9.99, "FRESH"),
        (10.0, "EXCELLENT"),
        (24.99, "EXCELLENT"),
        (25.0, "GOOD"),
        (49.99, "GOOD"),
        (50.0, "MODERATE"),
        (79.99, "MODERATE"),
        (80.0, "DANGER"),
        (89.99, "DANGER"),
        (90.0, "CRITICAL"),
        (94.99, "CRITICAL"),
        (95.0, "EMERGENCY"),
        (100.0, "EMERGENCY"),
        (250.0, "EMERGENCY"),
    ],
)
def test_zone_boundaries(percent: float, name: str) -> None:
    assert zones.zone_for(percent).name == name


def test_zones_tile_the_range_without_gaps() -> None:
    for lower, upper in zip(zones.ZONES, zones.ZONES[1:], strict=False):
        assert lower.high == upper.low


@pytest.mark.parametrize(
    ("percent", "threshold"),
    [
        (0.0, 50.0),
        (49.9, 50.0),
        (50.0, 80.0),
        (80.0, 90.0),
        (90.0, 95.0),
        (95.0, 100.0),
        (100.0, None),
    ],
)
def test_next_alert(percent: float, threshold: float | None) -> None:
    assert zones.next_alert(percent) == threshold


def test_tokens_to_threshold() -> None:
    assert zones.tokens_to(90.0, 160_000, 200_000) == 20_000
    assert zones.tokens_to(90.0, 190_000, 200_000) == 0


def test_actions_scale_with_the_limit() -> None:
    danger = zones.zone_named("DANGER")
    assert zones.actions(danger, 200_000)[0] == "Finish current task if small (<15k tokens)"
    assert zones.actions(danger, 88_000)[0] == "Finish current task if small (<6.6k tokens)"
    assert zones.actions(danger, None)[0] == "Finish current task if small (<7.5% of the window)"
    good = zones.zone_named("GOOD")
    assert zones.actions(good, 200_000) == ["Large tasks OK (60k-80k tokens)"]


def test_every_zone_has_actions() -> None:
    for zone in zones.ZONES:
        assert zones.actions(zone, 100_000)


def test_strategic_alert_uses_the_window_figures() -> None:
    lines = zones.strategic_alert(80.0, 40_000, 27.4, "18:00 CET", 200_000)
    assert lines[0] == "80% Quota Used - STRATEGIC PLANNING TIME"
    assert "You have 40,000 tokens remaining (~27 minutes at current pace)." in lines
    assert "3. Schedule automation (session can auto-start at 18:00 CET)" in lines
    assert "1. Finish current small task (<15k tokens)" in lines
    assert lines[-1] == "Run: /plan-next-session"
    bare = zones.strategic_alert(85.0, None, None, None)
    assert "1. Finish current small task (<7.5% of the window)" in bare
    assert "3. Schedule automation (at quota reset)" in bare
    assert not any(line.startswith("You have") for line in bare)


@pytest.mark.parametrize(
    ("tokens", "text"),
    [(999, "999"), (1500, "1.5k"), (15_000, "15k"), (1_250_000, "1.2M"), (-2000, "-2.0k")],
)
def test_short_tokens(tokens: int, text: str) -> None:
    assert zones.short_tokens(tokens) == text
