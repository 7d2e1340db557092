"""Shared pytest set-up.

* Makes this checkout importable as the collection ``webcert_siths.onboarding``
  (``tools/collection_path.py``), so the tests import the core exactly as the modules
  do (``ansible_collections.webcert_siths.onboarding.plugins.module_utils...``).
* Provides ``hsa_sandbox``: one real OpenLDAP ``slapd`` per test session, started
  by ``tools/hsa-sandbox`` in a temporary folder, with the project's HSA schema.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "tests"))

import collection_path  # noqa: E402

collection_path.ensure()

pytest_plugins = ["sandbox_fixtures"]


def pytest_configure(config):
    # The plan cache (hsa_reconcile's cache option) of every module and playbook the
    # tests run: a folder of this session, never the user's ~/.cache.
    if "HSA_CACHE_DIR" not in os.environ:
        folder = tempfile.mkdtemp(prefix="hsa-plan-cache-")
        os.environ["HSA_CACHE_DIR"] = folder
        config._hsa_cache_dir = folder


def pytest_unconfigure(config):
    folder = getattr(config, "_hsa_cache_dir", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
