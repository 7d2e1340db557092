"""Shared pytest set-up.

* Makes the project's ``plugins/module_utils`` importable as
  ``ansible.module_utils.<name>`` (exactly how Ansible modules import them), so
  the tested core is the shipped core.
* Provides ``hsa_sandbox``: one real OpenLDAP ``slapd`` per test session, started
  by ``tools/hsa-sandbox`` in a temporary folder, with the project's HSA schema.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "tests"))

import ansible.module_utils  # noqa: E402

_MU = str(ROOT / "plugins" / "module_utils")
if _MU not in ansible.module_utils.__path__:
    ansible.module_utils.__path__.append(_MU)

pytest_plugins = ["sandbox_fixtures"]
