"""Report files are written atomically, with restrictive modes, and only when changed."""

from __future__ import annotations

import os
import stat

import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.reports.files import (
    write_atomic,
    write_if_changed,
)


def test_write_atomic_creates_folders_and_sets_the_mode(tmp_path):
    path = tmp_path / "a" / "b" / "report.json"
    write_atomic(str(path), "Åsa Öberg\n", mode=0o600)
    assert path.read_text(encoding="utf-8") == "Åsa Öberg\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_write_if_changed_only_writes_new_content(tmp_path):
    path = str(tmp_path / "plan.ldif")
    assert write_if_changed(path, b"dn: c=SE\n") is True
    before = os.stat(path).st_mtime_ns
    assert write_if_changed(path, b"dn: c=SE\n") is False
    assert os.stat(path).st_mtime_ns == before
    assert write_if_changed(path, b"dn: o=X,c=SE\n") is True


def test_normalize_ignores_what_it_maps_away(tmp_path):
    path = str(tmp_path / "readiness.json")
    write_if_changed(path, '{"generated": "T1", "n": 1}')
    same = write_if_changed(path, '{"generated": "T2", "n": 1}',
                            normalize=lambda old: old.replace("T1", "T2"))
    assert same is False
    assert write_if_changed(path, '{"generated": "T2", "n": 2}',
                            normalize=lambda old: old.replace("T1", "T2")) is True


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    path = tmp_path / "report.json"
    path.write_text("old", encoding="utf-8")
    with pytest.raises(TypeError):
        write_atomic(str(path), 12345)  # not text or bytes
    assert path.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
