"""Limits: precedence, the source shown with each, auto p90, derived limits and their store."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from status_helpers import blocks_of, entry

from sessionmd.usage import limits
from sessionmd.usage.limits import Derived, resolve_limit
from sessionmd.usage.models import TokenCounts

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=timezone.utc)
DERIVED = Derived(
    "five_hour", 150_000, datetime(2026, 11, 20, 9, tzinfo=timezone.utc), 60_000, 40.0, NOW
)


def history(totals: list[int]) -> list:
    """One completed block per total, a day apart, ending before NOW."""
    entries = [entry(NOW - timedelta(days=len(totals) - i + 1), t) for i, t in enumerate(totals)]
    return blocks_of(entries, NOW)


def resolve(**kw: object) -> limits.Limit:
    args: dict[str, object] = {
        "explicit": None,
        "official": None,
        "derived": None,
        "config_quota": None,
        "blocks": [],
        "now": NOW,
    }
    args.update(kw)
    return resolve_limit(**args)  # type: ignore[arg-type]


def test_precedence_and_sources() -> None:
    everything = {"official": 123_000, "derived": DERIVED, "config_quota": "max20"}
    assert resolve(explicit="50000", **everything) == limits.Limit(50_000, "explicit", "explicit")
    assert resolve(**everything) == limits.Limit(
        123_000, "official", "official: window tokens / official %"
    )
    no_official = {"derived": DERIVED, "config_quota": "max20"}
    assert resolve(**no_official) == limits.Limit(150_000, "derived", "derived 2026-11-20")
    assert resolve(config_quota="max20") == limits.Limit(
        220_000, "preset", "config: preset max20 (claude-monitor 4)"
    )
    assert resolve(config_quota=70_000) == limits.Limit(70_000, "config", "config")
    assert resolve() == limits.Limit(
        19_000, "preset", "preset pro (claude-monitor 4; no history for auto)"
    )


def test_explicit_preset_and_forms() -> None:
    assert resolve(explicit="max5") == limits.Limit(
        88_000, "preset", "preset max5 (claude-monitor 4)"
    )
    assert resolve(explicit="88k").tokens == 88_000
    assert resolve(explicit="1,000,000").tokens == 1_000_000


@pytest.mark.parametrize("bad", ["lots", "-5", "0", "max50"])
def test_bad_limit_is_value_error(bad: str) -> None:
    with pytest.raises(ValueError):
        resolve(explicit=bad)


def test_derived_date_is_in_the_output_zone() -> None:
    from zoneinfo import ZoneInfo

    late = Derived("five_hour", 1, datetime(2026, 11, 20, 23, 30, tzinfo=timezone.utc), 1, 50, NOW)
    assert late.source(ZoneInfo("Europe/Berlin")) == "derived 2026-11-21"


def test_auto_p90_of_full_blocks() -> None:
    # four blocks near a preset (within 95 % of 88k or 220k), two small ones ignored
    blocks = history([90_000, 85_000, 210_000, 230_000, 5_000, 7_000])
    auto = limits.auto_limit(blocks, NOW)
    assert auto is not None
    # p90 of [85k, 90k, 210k, 230k] by linear interpolation: 210k + 0.7 * 20k
    assert auto.tokens == 224_000
    assert auto.source == "auto: p90 of 4 full blocks"
    assert resolve(explicit="auto", blocks=blocks).tokens == 224_000
    assert resolve(config_quota="auto", blocks=blocks).kind == "auto"


def test_auto_falls_back_to_all_completed_blocks() -> None:
    # all below 95 % of the smallest preset (pro, 19k): none is "full"
    blocks = history([2_000, 4_000, 6_000, 8_000, 10_000])
    auto = limits.auto_limit(blocks, NOW)
    assert auto is not None
    assert auto.tokens == 9_200  # 8k + 0.6 * 2k
    assert auto.source == "auto: p90 of 5 completed blocks"


def test_auto_ignores_the_active_block_and_gaps() -> None:
    blocks = history([40_000]) + blocks_of([entry(NOW - timedelta(minutes=10), 999_999)], NOW)
    auto = limits.auto_limit(blocks, NOW)
    assert auto is not None and auto.tokens == 40_000
    assert limits.auto_limit(blocks_of([entry(NOW, 5)], NOW), NOW) is None


def test_auto_uses_the_token_measure() -> None:
    blocks = history([30_000])
    blocks[0].tokens = TokenCounts(10_000, 10_000, 10_000, 1_000_000)
    auto = limits.auto_limit(blocks, NOW, ("input", "output", "cache_creation", "cache_read"))
    assert auto is not None and auto.tokens == 1_030_000


def test_derive_limit() -> None:
    assert limits.derive_limit(60_000, 40.0) == 150_000
    assert limits.derive_limit(60_000, 9.9) is None  # too small a share to trust
    assert limits.derive_limit(0, 50.0) is None


def test_derived_store_round_trip_and_one_row_per_window(tmp_path: Path) -> None:
    assert limits.load_derived(tmp_path) == {}
    first = Derived("five_hour", 150_000, NOW, 60_000, 40.0, NOW + timedelta(hours=2))
    assert limits.record_derived(tmp_path, first)
    assert not limits.record_derived(tmp_path, first)  # unchanged: no write
    later = Derived(
        "five_hour",
        151_000,
        NOW + timedelta(minutes=5),
        75_500,
        50.0,
        first.resets_at + timedelta(seconds=1),  # the same window, reset time jittered
    )
    assert limits.record_derived(tmp_path, later)
    nxt = Derived(
        "five_hour", 149_000, NOW + timedelta(hours=6), 14_900, 10.0, NOW + timedelta(hours=7)
    )
    assert limits.record_derived(tmp_path, nxt)
    weekly = Derived("seven_day", 2_000_000, NOW, 500_000, 25.0, NOW + timedelta(days=3))
    limits.record_derived(tmp_path, weekly)
    loaded = limits.load_derived(tmp_path)
    assert loaded == {"five_hour": nxt, "seven_day": weekly}
    data = json.loads((tmp_path / limits.DERIVED_FILE).read_text())
    assert [row["tokens"] for row in data["five_hour"]] == [151_000, 149_000]


def test_derived_store_keeps_a_bounded_history(tmp_path: Path) -> None:
    for i in range(limits.DERIVED_KEEP + 5):
        d = Derived("five_hour", 100_000 + i, NOW, 50_000, 50.0, NOW + timedelta(hours=5 * i))
        limits.record_derived(tmp_path, d)
    data = json.loads((tmp_path / limits.DERIVED_FILE).read_text())
    assert len(data["five_hour"]) == limits.DERIVED_KEEP
    assert limits.load_derived(tmp_path)["five_hour"].tokens == 100_000 + limits.DERIVED_KEEP + 4


def test_derived_store_ignores_other_measures_and_corruption(tmp_path: Path) -> None:
    limits.record_derived(tmp_path, DERIVED)
    assert limits.load_derived(tmp_path, ("input", "output")) == {}
    (tmp_path / limits.DERIVED_FILE).write_text("{broken")
    assert limits.load_derived(tmp_path) == {}
    assert limits.record_derived(tmp_path, DERIVED)  # rebuilt
    assert limits.load_derived(tmp_path)["five_hour"] == DERIVED


def test_known_limit_for_other_streams(tmp_path: Path) -> None:
    assert limits.known_limit(tmp_path, config_quota=None, now=NOW).source.startswith("preset pro")
    assert limits.known_limit(tmp_path, config_quota="max5", now=NOW).tokens == 88_000
    limits.save_auto(tmp_path, limits.Limit(123_000, "auto", "auto: p90 of 4 full blocks"), NOW)
    assert limits.known_limit(tmp_path, config_quota="auto", now=NOW).tokens == 123_000
    assert limits.known_limit(tmp_path, config_quota=None, now=NOW).tokens == 123_000
    # a day later the saved auto limit is stale
    later = NOW + timedelta(days=2)
    assert limits.known_limit(tmp_path, config_quota=None, now=later).tokens == 19_000
    limits.record_derived(tmp_path, DERIVED)
    known = limits.known_limit(tmp_path, config_quota="max20", now=NOW)
    assert (known.tokens, known.source) == (150_000, "derived 2026-11-20")


def test_auto_counts_blocks_that_hit_a_limit_as_full() -> None:
    from sessionmd.usage.models import UsageEntry

    # all below 95 % of every preset: only the limit messages make the first three full
    blocks = history([10_000, 11_000, 12_000, 5_000, 6_000])
    for b in blocks[:3]:  # these three ended with "usage limit reached"
        last = b.entries[-1]
        b.entries.append(
            UsageEntry(last.timestamp, TokenCounts(), "s", "p", limit_reset=last.timestamp)
        )
    auto = limits.auto_limit(blocks, NOW)
    assert auto is not None
    assert auto.source == "auto: p90 of 3 full blocks"
    assert auto.tokens == 11_800  # 11k + 0.8 * 1k (all five blocks would give 11,600)
