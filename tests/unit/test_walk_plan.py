"""The walk's settings, read from the tap's settings: every field, and the defaults the tap declares."""

from __future__ import annotations

import datetime as dt

from tap_fibank.walk.plan import WalkSettings


def test_every_walk_setting_is_read_from_its_setting() -> None:
    settings = WalkSettings.from_config(
        {
            "start_date": "2024-02-29",
            "end_date": "2025-03-01",
            "lookback_days": "5",
            "window_days": 12,
            "strict_statements": True,
            "max_concurrency": 3,
            "history_reprobe_days": 9,
        }
    )
    assert settings == WalkSettings(
        start_date=dt.date(2024, 2, 29),
        end_date=dt.date(2025, 3, 1),
        lookback_days=5,
        window_days=12,
        strict=True,
        prefetch=6,  # two reads ahead per worker
        reprobe_days=9,
    )


def test_settings_left_out_take_the_declared_defaults() -> None:
    settings = WalkSettings.from_config({"start_date": "2024-01-01", "lookback_days": 0, "window_days": 30})
    assert settings.end_date is None
    assert settings.strict is False
    assert settings.prefetch == 8  # max_concurrency 4, as --about declares it
    assert settings.reprobe_days == 7  # history_reprobe_days 7, as --about declares it


def test_an_empty_end_date_means_no_end() -> None:
    settings = WalkSettings.from_config(
        {
            "start_date": "2024-01-01",
            "end_date": "",
            "lookback_days": 0,
            "window_days": 30,
            "strict_statements": None,
        }
    )
    assert settings.end_date is None and settings.strict is False


def test_a_walk_built_by_hand_re_probes_weekly_by_default() -> None:
    settings = WalkSettings(
        start_date=dt.date(2024, 1, 1),
        end_date=None,
        lookback_days=0,
        window_days=30,
        strict=False,
        prefetch=2,
    )
    assert settings.reprobe_days == 7
