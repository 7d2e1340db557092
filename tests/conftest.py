"""Shared pytest set-up.

* Makes the project's ``plugins/module_utils`` importable as
  ``ansible.module_utils.<name>`` (exactly how Ansible modules import them), so
  the tested core is the shipped core.
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

import ansible.module_utils  # noqa: E402

_MU = str(ROOT / "plugins" / "module_utils")
if _MU not in ansible.module_utils.__path__:
    ansible.module_utils.__path__.append(_MU)

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
