"""The private singer-sdk names of tap_fibank/sdk_private.py still exist with the shape relied on."""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import os
from typing import Any

import pytest
from singer_sdk.helpers._classproperty import classproperty

from tap_fibank.sdk_private import PRIVATE_NAMES, SDK_VERSION, STREAM_ATTRIBUTES
from tap_fibank.tap import TapFibank


def resolve(dotted: str) -> Any:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            # Statically: a class property is not evaluated (on the SDK's Tap it cannot be).
            target = inspect.getattr_static(target, name)
        return target
    raise ImportError(dotted)


@pytest.mark.parametrize("dotted", sorted(PRIVATE_NAMES))
def test_each_private_sdk_name_the_tap_relies_on_still_has_its_shape(dotted: str) -> None:
    target = resolve(dotted)
    parameters, why = PRIVATE_NAMES[dotted]
    assert why
    if dotted.endswith("._env_var_config"):
        assert isinstance(target, classproperty)
    if parameters is not None:
        assert tuple(inspect.signature(target).parameters) == parameters


def test_each_stream_attribute_the_lean_path_reads_exists_on_a_real_stream() -> None:
    tap = TapFibank(config={"sandbox": True}, validate_config=True)
    stream = tap.streams["transactions"]
    for name in STREAM_ATTRIBUTES:
        assert hasattr(stream, name), name
    assert hasattr(stream.state_manager, "is_flushed")


def test_the_names_were_read_from_the_sdk_release_the_project_pins() -> None:
    if os.environ.get("SDK_UNDER_TEST") == "newest":
        pytest.skip("make ci SUITE=sdk-latest tries these names against the newest singer-sdk release")
    assert importlib.metadata.version("singer-sdk") == SDK_VERSION
