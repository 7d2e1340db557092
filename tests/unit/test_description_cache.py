"""The description cache: when it may answer, and that it answers as the real work.

It must miss after any change to a file, the options or the toolkit, and must give back
exactly the entries desired_entries builds. Files that are not safely ours are never
read. The module with and without the cache, against a real directory, is in
tests/integration/test_hsa_cache_live.py.
"""

from __future__ import annotations

import ast
import os
import shutil
from dataclasses import fields
from pathlib import Path

import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.model import (
    load_provider,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory import (
    description_cache as pc,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.mapping import (
    desired_entries,
)

ROOT = Path(__file__).resolve().parents[2]
BASE = "c=SE"


@pytest.fixture
def description(tmp_path):
    folder = tmp_path / "provider"
    shutil.copytree(ROOT / "inventories" / "example" / "provider", folder)
    return folder


def prepared(folder, base=BASE, strict=True):
    """(CachedDescription, digest of the bytes parsed) as the module makes them."""
    loaded = load_provider(folder, strict_ids=strict)
    assert loaded.model is not None, loaded.errors
    desired = desired_entries(loaded.model, base)
    return pc.CachedDescription(
        [str(f) for f in loaded.findings], loaded.model.provider.name,
        loaded.model.provider.hsa_id, desired.entries), loaded.source_digest


def store(cache, folder, base=BASE, strict=True):
    assert cache.load(str(folder), base, strict) is None
    c, digest = prepared(folder, base, strict)
    cache.store(str(folder), base, strict, c, digest)
    return c


# --------------------------------------------------------------------------- description


def test_a_stored_description_comes_back_as_the_same_entries(tmp_path, description):
    cache = pc.DescriptionCache(str(tmp_path / "cache"))
    original = store(cache, description)
    back = cache.load(str(description), BASE, True)
    assert back is not None and not cache.warnings
    assert back.findings == original.findings
    assert (back.provider_name, back.provider_hsa_id) == (original.provider_name,
                                                          original.provider_hsa_id)
    assert back.entries == original.entries  # dataclass equality: every compared field
    for a, b in zip(back.entries, original.entries, strict=True):
        assert {f.name: getattr(a, f.name) for f in fields(a)} == {
            f.name: getattr(b, f.name) for f in fields(b)}


@pytest.mark.parametrize("change", [
    "edit a byte", "add a file", "remove a file", "rename a file", "add a hidden file",
])
def test_any_change_to_the_files_is_a_miss(tmp_path, description, change):
    cache = pc.DescriptionCache(str(tmp_path / "cache"))
    store(cache, description)
    unit_file = sorted((description / "units").glob("*.yml"))[0]
    if change == "edit a byte":
        text = unit_file.read_text(encoding="utf-8")
        unit_file.write_text(text.replace("example.se", "example.se ", 1), encoding="utf-8")
    elif change == "add a file":
        (description / "units" / "zz-extra.yml").write_text("units: []\n", encoding="utf-8")
    elif change == "remove a file":
        unit_file.unlink()
    elif change == "rename a file":
        unit_file.rename(unit_file.with_name("renamed-" + unit_file.name))
    else:  # the loader ignores hidden files, so the cache may too
        (description / ".notes.yml").write_text("x: 1\n", encoding="utf-8")
        assert cache.load(str(description), BASE, True) is not None
        return
    assert cache.load(str(description), BASE, True) is None


def test_other_options_or_code_are_a_miss(tmp_path, description, monkeypatch):
    cache = pc.DescriptionCache(str(tmp_path / "cache"))
    store(cache, description)
    assert cache.load(str(description), BASE, True) is not None
    assert cache.load(str(description), BASE, False) is None  # strict_ids
    assert cache.load(str(description), "o=Other,c=SE", True) is None
    monkeypatch.setattr(pc, "_code_digest", b"\0" * 32)  # another version of the toolkit
    assert cache.load(str(description), BASE, True) is None


def test_a_description_is_kept_under_the_bytes_it_was_made_from(tmp_path, description):
    """Files that change while the loader reads them (a branch switched and back, say):
    the description is only ever used for the bytes that were parsed."""
    cache = pc.DescriptionCache(str(tmp_path / "cache"))
    target = description / "provider.yml"
    original = target.read_text(encoding="utf-8")
    assert cache.load(str(description), BASE, True) is None
    edited = original.replace("name: Sjöviks", "name: Sjövik", 1)
    assert edited != original
    target.write_text(edited, encoding="utf-8")  # the loader sees the edited file
    c, digest = prepared(description)
    target.write_text(original, encoding="utf-8")  # and it is back before the store
    cache.store(str(description), BASE, True, c, digest)
    assert cache.load(str(description), BASE, True) is None  # not the original
    target.write_text(edited, encoding="utf-8")
    back = cache.load(str(description), BASE, True)
    assert back is not None and back.provider_name == c.provider_name == (
        "Sjövik Vårdcentraler AB")


def test_code_modules_are_every_module_a_cached_answer_depends_on():
    """CODE_MODULES must hold the module_utils the cached results are computed with."""
    folder = ROOT / "plugins" / "module_utils"
    roots = {"description.validate", "description.presentation", "directory.mapping",
             "directory.description_cache"}
    seen, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        package = name.split(".")[0]
        tree = ast.parse((folder / f"{name.replace('.', '/')}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package if node.level == 1 else None
                if node.module:
                    parts = node.module.split(".")
                    todo.append(".".join([base, *parts]) if base else ".".join(parts))
                else:
                    todo += [f"{base}.{a.name}" for a in node.names]
    seen.discard("reports.files")  # only writes the cache files
    assert seen == set(pc.CODE_MODULES)


# --------------------------------------------------------------------------- safety


def test_files_that_are_not_safely_ours_are_not_used(tmp_path, description):
    folder = tmp_path / "cache"
    cache = pc.DescriptionCache(str(folder))
    store(cache, description)
    (path,) = folder.glob("desc-*")
    os.chmod(path, 0o666)  # noqa: S103 - the unsafe mode under test
    fresh = pc.DescriptionCache(str(folder))
    assert fresh.load(str(description), BASE, True) is None
    assert "writable by another user" in fresh.warnings[0]
    os.chmod(path, 0o600)
    os.chmod(folder, 0o777)  # noqa: S103 - the unsafe mode under test
    fresh = pc.DescriptionCache(str(folder))
    assert fresh.load(str(description), BASE, True) is None
    assert fresh.warnings and not fresh.usable()
    os.chmod(folder, 0o700)
    assert pc.DescriptionCache(str(folder)).load(str(description), BASE, True)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a file away")
def test_a_file_another_user_owns_is_not_used(tmp_path, description):
    folder = tmp_path / "cache"
    store(pc.DescriptionCache(str(folder)), description)
    (path,) = folder.glob("desc-*")
    os.chown(path, 65534, 65534)
    fresh = pc.DescriptionCache(str(folder))
    assert fresh.load(str(description), BASE, True) is None
    assert "owned or writable by another user" in fresh.warnings[0]


def test_a_symlinked_cache_file_is_not_followed(tmp_path, description):
    folder = tmp_path / "cache"
    store(pc.DescriptionCache(str(folder)), description)
    (path,) = folder.glob("desc-*")
    target = tmp_path / "elsewhere.bin"
    path.rename(target)
    path.symlink_to(target)
    assert pc.DescriptionCache(str(folder)).load(str(description), BASE, True) is None


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip a byte of the body", "empty"])
def test_a_damaged_cache_file_is_a_miss_and_is_rewritten(tmp_path, description, damage):
    folder = tmp_path / "cache"
    store(pc.DescriptionCache(str(folder)), description)
    (path,) = folder.glob("desc-*")
    data = path.read_bytes()
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "garbage":
        data = os.urandom(len(data))
    elif damage == "flip a byte of the body":
        i = len(data) - 200
        data = data[:i] + bytes((data[i] ^ 0x01,)) + data[i + 1:]
    else:
        data = b""
    path.write_bytes(data)
    cache = pc.DescriptionCache(str(folder))
    assert cache.load(str(description), BASE, True) is None
    cache.store(str(description), BASE, True, *prepared(description))
    assert pc.DescriptionCache(str(folder)).load(str(description), BASE, True)


def test_cache_files_are_private(tmp_path, description):
    folder = tmp_path / "deep" / "cache"
    cache = pc.DescriptionCache(str(folder))
    store(cache, description)
    assert folder.stat().st_mode & 0o777 == 0o700
    for path in folder.iterdir():
        assert path.stat().st_mode & 0o777 == 0o600


def test_an_unusable_folder_costs_speed_only(tmp_path, description):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    cache = pc.DescriptionCache(str(blocker / "cache"))
    assert cache.load(str(description), BASE, True) is None
    cache.store(str(description), BASE, True, *prepared(description))
    assert "cannot be used" in cache.warnings[0]


def test_default_folder_follows_the_environment():
    assert pc.default_cache_dir({"HSA_CACHE_DIR": "/x"}) == "/x"
    assert pc.default_cache_dir({"XDG_CACHE_HOME": "/c"}) == "/c/webcert-siths-toolkit"
    assert pc.default_cache_dir({}).endswith("/.cache/webcert-siths-toolkit")


def test_a_folder_others_may_read_is_tightened_and_a_symlinked_one_is_not_used(tmp_path):
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    assert pc.DescriptionCache(str(folder)).usable()
    assert folder.stat().st_mode & 0o777 == 0o700
    link = tmp_path / "link"
    link.symlink_to(folder)
    cache = pc.DescriptionCache(str(link))
    assert not cache.usable() and "symbolic link" in cache.warnings[0]


def test_code_that_cannot_be_read_turns_the_cache_off_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(pc, "_code_digest", None)
    monkeypatch.setattr(pc, "CODE_MODULES", ("no_such_module_here",))
    cache = pc.DescriptionCache(str(tmp_path / "cache"))
    assert cache.load(str(tmp_path), BASE, True) is None
    assert not cache.usable() and "cannot be used" in cache.warnings[0]
