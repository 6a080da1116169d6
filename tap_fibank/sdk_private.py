"""Every private singer-sdk name the tap relies on, with the reason, read from one SDK version.

An SDK upgrade is a review of this one file: `tests/unit/test_sdk_private.py` resolves each name
against the installed SDK and checks the shape the tap relies on, so a rename or a new
signature fails a test instead of silently turning the lean record path off, or wrong. CI also
runs those tests and the fast-path equivalence tests against the newest SDK release
(`make ci SUITE=sdk-latest`).
"""

from __future__ import annotations

#: The singer-sdk release these names were read from (pyproject.toml pins the same).
SDK_VERSION = "0.54.9"

#: Dotted name -> (parameters of a method the tap overrides or calls, or None; why).
PRIVATE_NAMES: dict[str, tuple[tuple[str, ...] | None, str]] = {
    "singer_sdk.Stream._write_record_message": (
        ("self", "record"),
        "overridden (streams/base.py): the lean record path encodes a RECORD straight to stdout",
    ),
    "singer_sdk.Stream._increment_stream_state": (
        ("self", "latest_record", "context"),
        "overridden (streams/base.py): a partition's state found once per partition, not per record",
    ),
    "singer_sdk.Stream._generate_record_messages": (
        ("self", "record"),
        "overridden (streams/base.py): the SDK's path stamps time_extracted as the fast path does",
    ),
    "singer_sdk.Tap.sync_all": (
        ("self",),
        "final in the SDK, overridden (tap.py): log in before any stream, one summary line after all",
    ),
    "singer_sdk.Tap._handle_termination": (
        ("self", "signum", "frame"),
        "overridden (tap.py): a signal stops the walk at a safe point instead of exiting 0 at once",
    ),
    "singer_sdk.Tap._env_var_config": (
        None,
        "overridden (tap.py): password_command read from the environment as the text it is",
    ),
    "singer_sdk.configuration._dict_config.parse_environment_config": (
        ("config_schema", "prefix", "dotenv_path"),
        "called by tap.py's _env_var_config, with password_command declared a text",
    ),
    "singer_sdk.helpers._classproperty.classproperty": (
        None,
        "the SDK's class property, which tap.py's _env_var_config must be too",
    ),
    "singer_sdk.helpers._catalog.pop_deselected_record_properties": (
        ("record", "schema", "mask", "breadcrumb"),
        "called by the lean record path to drop deselected properties exactly as the SDK does",
    ),
    "singer_sdk.contrib.msgspec.encoder": (
        None,
        "the msgspec writer's own encoder, so the lean path writes byte-identical lines",
    ),
}

#: Instance attributes of an SDK stream that the lean record path reads or sets.
STREAM_ATTRIBUTES: dict[str, str] = {
    "_tap": "the stream's tap, for the run object and the message writer",
    "_stream_version": "written as the RECORD's `version`, as the SDK does",
    "state_manager": "its `is_flushed` is cleared after a record, as the SDK's writer does",
}
