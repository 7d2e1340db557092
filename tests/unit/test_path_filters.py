"""abspath_if_set: relative paths become absolute on the controller; empty stays empty."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "paths_filter", Path(__file__).resolve().parents[2] / "plugins" / "filter" / "paths.py")
paths = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(paths)


def test_relative_path_is_made_absolute_against_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert paths.abspath_if_set("files/ca.pem") == str(tmp_path / "files" / "ca.pem")


def test_absolute_and_home_paths(monkeypatch):
    monkeypatch.setenv("HOME", "/home/admin")
    assert paths.abspath_if_set("/etc/ssl/ca.pem") == "/etc/ssl/ca.pem"
    assert paths.abspath_if_set("~/ca.pem") == "/home/admin/ca.pem"


@pytest.mark.parametrize("value", ["", "   ", None])
def test_empty_values_are_left_alone_so_omit_still_works(value):
    assert paths.abspath_if_set(value) == value


def test_registered_as_a_filter():
    assert paths.FilterModule().filters()["abspath_if_set"] is paths.abspath_if_set
    assert os.path.isabs(paths.abspath_if_set("x"))
