"""What a run is handed, checked before the SDK reads it: one clear line instead of a traceback.

The SDK reads the files named by `--config`, `--state` and `--catalog` (and, for `--config ENV`,
the environment) without telling the user which file is wrong or how: a missing file, a file that
is not JSON or one of the wrong shape ends in a traceback, and a bookmark that is not a date is
silently ignored, which makes the run read the whole history again. Here each file is read once up
front with the same JSON decoder the SDK uses, and its shape is checked against what the tap and
the SDK rely on. Every check of the settings that JSON Schema cannot make lives here too (a date
that is not one, settings impossible together, a base_url without TLS, missing credentials, a
password given twice); the code that reads a setting trusts it. Every finding is a `ConfigError`:
exit 2, nothing sent to the bank.

Messages name the file, the place in it and the fix; they never quote a config file's values,
which can hold the password.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import sys
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import simplejson
from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from singer_sdk.singerlib import Catalog

from tap_fibank.bank.clock import sofia_today
from tap_fibank.config.password import command_argv
from tap_fibank.config.settings import LIST_SETTINGS
from tap_fibank.errors import ConfigError
from tap_fibank.privacy import exposed_secret

if TYPE_CHECKING:
    from singer_sdk.plugin_base import PluginBase

FILE_OPTIONS = ("--config", "--state", "--catalog")

_FORMATS = FormatChecker(formats=())


@_FORMATS.checks("day", raises=ValueError)
def _is_day(value: object) -> bool:
    """A bookmark is a date, or a timestamp whose first ten characters are one."""
    return not isinstance(value, str) or bool(dt.date.fromisoformat(value[:10]))


_DAY: dict[str, Any] = {"type": "string", "format": "day"}
_BOOKMARKS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "walked_through": _DAY,
        "replication_key_value": _DAY,
        "replication_key": {"type": "string"},
        "progress_markers": {"type": "object"},
    },
}
_STREAM_STATE: dict[str, Any] = {
    **_BOOKMARKS,
    "properties": {
        **_BOOKMARKS["properties"],
        "partitions": {
            "type": "array",
            "items": {**_BOOKMARKS, "required": ["context"], "properties": {
                **_BOOKMARKS["properties"], "context": {"type": "object"}}},
        },
    },
}  # fmt: skip
STATE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "bookmarks": {"type": "object", "additionalProperties": _STREAM_STATE},
        "currently_syncing": {"type": ["string", "null"]},
    },
}

_NAMES: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
_METADATA: dict[str, Any] = {
    "type": "object",
    "required": ["breadcrumb", "metadata"],
    "properties": {
        "breadcrumb": _NAMES,
        "metadata": {
            "type": "object",
            "properties": {
                "selected": {"type": ["boolean", "null"]},
                "selected-by-default": {"type": ["boolean", "null"]},
                "inclusion": {"enum": ["available", "automatic", "unsupported", None]},
                "table-key-properties": {**_NAMES, "type": ["array", "null"]},
                "replication-key": {"type": ["string", "null"]},
                "forced-replication-method": {"type": ["string", "null"]},
            },
        },
    },
}
CATALOG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["streams"],
    "properties": {
        "streams": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["tap_stream_id"],
                "properties": {
                    "tap_stream_id": {"type": "string"},
                    "stream": {"type": ["string", "null"]},
                    "schema": {"$ref": "http://json-schema.org/draft-07/schema#"},
                    "metadata": {"type": "array", "items": _METADATA},
                    "key_properties": {**_NAMES, "type": ["array", "null"]},
                    "replication_key": {"type": ["string", "null"]},
                    "replication_method": {"enum": ["INCREMENTAL", "FULL_TABLE", "LOG_BASED", None]},
                },
            },
        },
    },
}

_FIX = {
    "--config": "fix the file (meltano writes it from meltano.yml and .env: check those)",
    "--state": "fix it, or start over without it (meltano: meltano state clear <state-id>), "
    "which reads the whole history again",
    "--catalog": "fix it, or let the tap write a new one with --discover",
}
_WHAT = {"--config": "settings", "--state": "Singer state", "--catalog": "Singer catalog"}


def check_command_line(
    plugin: type[PluginBase], argv: Sequence[str], needed: Mapping[str, Sequence[str]]
) -> None:
    """Raise ConfigError for the first input named on the command line that the tap cannot use.

    `needed`: each stream's fields that a catalog's schema must keep (its keys).
    """
    for option, name in named_files(argv):
        if option == "--config" and name == "ENV":
            check_environment(plugin)
            continue
        content = read_json(option, name)
        if option == "--config":
            check_config_file(name, content)
        elif option == "--state":
            check_shape(option, name, content, STATE_SCHEMA)
        else:
            check_catalog(name, content, needed)


def named_files(argv: Sequence[str]) -> list[tuple[str, str]]:
    """The (option, file) pairs of the command line, spelled `--state x` or `--state=x`."""
    found: list[tuple[str, str]] = []
    args = iter(argv)
    for arg in args:
        if arg == "--":
            break
        option, equals, value = arg.partition("=")
        if option not in FILE_OPTIONS:
            continue
        if not equals:
            value = next(args, "")
        if not value:
            msg = f"{option} needs a file name after it"
            raise ConfigError(msg)
        found.append((option, value))
    return found


def read_json(option: str, name: str) -> Any:
    """The file's JSON, decoded as the SDK decodes it (numbers as Decimal)."""
    where = f"{option} file {name}"
    path = Path(name)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        msg = f"{where} does not exist: check the path (relative paths start at {os.getcwd()})"
        raise ConfigError(msg) from None
    except IsADirectoryError:
        msg = f"{where} is a directory: name the JSON file itself"
        raise ConfigError(msg) from None
    except OSError as exc:
        msg = f"{where} cannot be read ({exc.strerror or type(exc).__name__}): check its permissions"
        raise ConfigError(msg) from None
    except UnicodeDecodeError as exc:
        msg = f"{where} is not UTF-8 text (byte {exc.start}): save it as UTF-8 JSON"
        raise ConfigError(msg) from None
    try:
        return simplejson.loads(text, parse_float=Decimal)
    except simplejson.JSONDecodeError as exc:
        reason = re.sub(r"(character|sequence) .*", r"\1", exc.msg)
        empty = " (the file is empty)" if not text.strip() else ""
        msg = f"{where} is not JSON{empty}: {reason} at line {exc.lineno}, column {exc.colno}; {_FIX[option]}"
        raise ConfigError(msg) from None
    except RecursionError:
        msg = f"{where} is nested too deeply to be {_WHAT[option]}; {_FIX[option]}"
        raise ConfigError(msg) from None


def check_config_file(name: str, content: Any) -> None:
    """A settings file is one JSON object; a list setting given as one text is caught here.

    A file that holds the password and is open to other users is worth a warning, not a stop.
    """
    if not isinstance(content, dict):
        msg = (
            f"--config file {name} must hold a JSON object of settings like "
            f'{{"username": "...", "password": "..."}}, not {_kind(content)}'
        )
        raise ConfigError(msg)
    for setting, example in LIST_SETTINGS.items():
        if isinstance(content.get(setting), str):
            msg = f"--config file {name}: {setting} must be a list of texts like {example}, not one text"
            raise ConfigError(msg)
    # meltano writes the file anew for every run, under the umask it runs with.
    fix = "run meltano under umask 077 (as make run does)" if os.environ.get("MELTANO_PROJECT_ROOT") else None
    exposed = exposed_secret(Path(name), fix=fix) if content.get("password") else None
    if exposed:
        print(f"tap-fibank: warning: {exposed}", file=sys.stderr, flush=True)


def check_catalog(name: str, content: Any, needed: Mapping[str, Sequence[str]]) -> None:
    """A catalog of the Singer shape that the SDK can also parse, keeping each stream's keys."""
    check_shape("--catalog", name, content, CATALOG_SCHEMA)
    try:
        Catalog.from_dict(content)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        msg = f"--catalog file {name} is not a Singer catalog the tap can use ({type(exc).__name__}); "
        raise ConfigError(msg + _FIX["--catalog"]) from None
    for stream in content["streams"]:
        schema = stream.get("schema")
        properties = schema.get("properties") if isinstance(schema, dict) else None
        if not isinstance(properties, dict):
            properties = {}  # the SDK takes the catalog's schema as it is, fields and all
        missing = [field for field in needed.get(stream["tap_stream_id"], ()) if field not in properties]
        if missing:
            msg = (
                f"--catalog file {name} is not a Singer catalog the tap can use: the schema of stream "
                f"{stream['tap_stream_id']!r} has no {missing[0]!r}, a key the stream needs; "
            )
            raise ConfigError(msg + _FIX["--catalog"])


def check_shape(option: str, name: str, content: Any, schema: Mapping[str, Any]) -> None:
    """Raise ConfigError naming the most relevant place where `content` breaks `schema`."""
    problem = shape_problem(content, schema)
    if problem is None:
        return
    msg = f"{option} file {name} is not a {_WHAT[option]}: {problem}; {_FIX[option]}"
    raise ConfigError(msg)


def shape_problem(content: Any, schema: Mapping[str, Any]) -> str | None:
    """The most relevant place where `content` breaks `schema`, and why, without its values."""
    error = best_match(Draft7Validator(schema, format_checker=_FORMATS).iter_errors(content))
    if error is None:
        return None
    return f"{_place(error)}{_reason(error)}"


def _place(error: ValidationError) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return f"at {path.lstrip('.')}: " if path else ""


def _reason(error: ValidationError) -> str:
    rule: Any = error.validator_value
    instance: Any = error.instance
    if error.validator == "type":
        names = [rule] if isinstance(rule, str) else list(rule)
        return f"expected {' or '.join(_KINDS.get(n, n) for n in names)}, found {_kind(instance)}"
    if error.validator == "format":
        return "expected a date like 2024-01-31"
    if error.validator == "required":
        missing = [key for key in rule if key not in instance]
        return f"{missing[0]!r} is missing" if missing else error.message
    if error.validator == "enum":
        return "expected one of " + ", ".join(str(v) for v in rule if v is not None)
    text = error.message
    return text if len(text) <= 100 else text[:100] + "..."


_KINDS = {
    "object": "an object {...}",
    "array": "a list [...]",
    "string": "a text",
    "boolean": "true or false",
    "null": "null",
    "number": "a number",
    "integer": "a whole number",
}


def _kind(value: Any) -> str:
    """What a JSON value is, without showing it (it may be a secret)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float, Decimal)):
        return "a number"
    if isinstance(value, str):
        return "a text"
    if isinstance(value, list):
        return "a list"
    return "an object"


def check_environment(plugin: type[PluginBase]) -> None:
    """`--config ENV`: the SDK converts whole-number settings with int() and crashes on a typo."""
    try:
        plugin._env_var_config  # noqa: B018 (reads the environment and .env as a run would)
    except (ValueError, simplejson.JSONDecodeError):
        pass
    else:
        return
    for setting, schema in plugin.config_jsonschema.get("properties", {}).items():
        variable = plugin._env_var_prefix + setting.upper().replace("-", "_")
        value = os.environ.get(variable)
        if value is None:
            continue
        kind = str(schema.get("type", "")) + str(schema.get("anyOf", ""))
        if "integer" in kind and not _is_int(value):
            msg = f"{variable} must be a whole number like 7; fix it in the environment or .env"
            raise ConfigError(msg)
        if "object" in kind and not _is_json(value):
            msg = f"{variable} must be a JSON object like {{}}; fix it in the environment or .env"
            raise ConfigError(msg)
    msg = f"a {plugin._env_var_prefix}* setting in the environment or .env cannot be read"
    raise ConfigError(msg)


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def _is_json(text: str) -> bool:
    try:
        simplejson.loads(text)
    except simplejson.JSONDecodeError:
        return False
    return True


def without_nulls(config: Any) -> Any:
    """Settings given as null are left out, so they take their defaults as if never given.

    A hand-written config often spells "not set" as null; the SDK would pass the null on to code
    that expects the default's type.
    """
    if isinstance(config, dict):
        return {key: value for key, value in config.items() if value is not None}
    return config


def check_settings(config: Mapping[str, Any], today: dt.date | None = None) -> None:
    """Every check of the settings the schema cannot make, in the order a user fixes them."""
    for setting in ("start_date", "end_date"):
        check_date(setting, config.get(setting))
    check_dates_together(config, today or sofia_today())
    check_login_name(config)
    check_password_settings(config)


def check_date(setting: str, value: Any) -> None:
    """JSON Schema's `format: date` is not enforced by the SDK; a typo must not become a crash."""
    if value is None:
        return
    try:
        dt.date.fromisoformat(str(value))
    except ValueError:
        msg = f"{setting} must be a date like 2024-01-31, not {value!r}"
        raise ConfigError(msg) from None


def check_dates_together(config: Mapping[str, Any], today: dt.date) -> None:
    """Dates that are each valid but together leave nothing to read."""
    start = _day(config.get("start_date"))
    end = _day(config.get("end_date"))
    if start is not None and start > today:
        msg = (
            f"start_date {start} is in the future (today in Sofia is {today}): there is nothing to "
            "read yet; set a start_date no later than today"
        )
        raise ConfigError(msg)
    if start is not None and end is not None and end < start:
        msg = (
            f"end_date {end} is before start_date {start}: nothing would be read; swap them, or "
            "leave end_date out to read through today"
        )
        raise ConfigError(msg)


def check_login_name(config: Mapping[str, Any]) -> None:
    """The `login` column is in every record: it must not give the username away."""
    login, username = config.get("login"), config.get("username")
    if login and username and str(login).strip().casefold() == str(username).strip().casefold():
        msg = (
            "login must not be your username: it is written in every record; choose another name "
            "(or leave login out for an id derived from the username)"
        )
        raise ConfigError(msg)


def check_password_settings(config: Mapping[str, Any]) -> None:
    """Refuse a password given twice, and a command that cannot be run as given."""
    if config.get("password") and config.get("password_command"):
        msg = (
            "password and password_command are both set: keep one (password_command reads the "
            "password from your password manager, so the password need not be in any file)"
        )
        raise ConfigError(msg)
    if config.get("password_command"):
        command_argv(config["password_command"])


def check_credentials(config: Mapping[str, Any]) -> None:
    """A run against the bank needs a username and a password (or the command that prints it).

    Checked only when the bank is next, so `sandbox` and `--about` need neither.
    """
    if not config.get("username") or not (config.get("password") or config.get("password_command")):
        msg = (
            "username and password are required (set TAP_FIBANK_USERNAME and TAP_FIBANK_PASSWORD, "
            "or TAP_FIBANK_PASSWORD_COMMAND), or set sandbox: true to try the tap on the emulator"
        )
        raise ConfigError(msg)


def checked_base_url(url: str) -> str:
    """Refuse to send a password anywhere but over TLS, except to this machine."""
    parts = urlsplit(url.rstrip("/"))
    if parts.scheme not in ("https", "http") or not parts.hostname:
        msg = f"base_url must look like https://my.fibank.bg, not {url!r}"
        raise ConfigError(msg)
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        msg = (
            f"base_url {url!r} uses plain http to a host that is not this machine; the tap sends "
            "your password only over https (plain http is allowed for localhost alone)"
        )
        raise ConfigError(msg)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        msg = f"base_url must be the bank's address only (like https://my.fibank.bg), not {url!r}"
        raise ConfigError(msg)
    return f"{parts.scheme}://{parts.netloc}"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _day(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None
