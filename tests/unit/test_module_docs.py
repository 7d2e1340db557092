"""Every custom module's documentation renders with ansible-doc and agrees with the
argument spec the module really uses (names, types, defaults, required, choices)."""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py"))
FQCN = "webcert_siths.onboarding."


@pytest.fixture(scope="module")
def docs() -> dict:
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_HOME=str(ROOT / ".cache" / "ansible"))
    ansible_doc = Path(sys.executable).with_name("ansible-doc")
    names = [FQCN + m for m in MODULES]
    proc = subprocess.run([str(ansible_doc), "-t", "module", "--json", *names], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


class _Stop(Exception):
    pass


def argument_spec(name: str) -> dict:
    """The argument_spec the module hands AnsibleModule (its main() is stopped there)."""
    seen: dict = {}

    def fake(*args, **kwargs):
        seen.update(kwargs.get("argument_spec") or args[0])
        raise _Stop

    with mock.patch("ansible.module_utils.basic.AnsibleModule", fake):
        namespace = runpy.run_path(str(ROOT / "plugins" / "modules" / f"{name}.py"))
        with pytest.raises(_Stop):
            namespace["main"]()
    return seen


@pytest.mark.parametrize("name", MODULES)
def test_documentation_renders_and_matches_the_argument_spec(docs, name):
    doc = docs[FQCN + name]["doc"]
    for section in ("short_description", "description", "options"):
        assert doc.get(section), f"{name}: DOCUMENTATION has no {section}"
    assert docs[FQCN + name].get("examples") and docs[FQCN + name].get("return"), name
    spec = argument_spec(name)
    assert set(doc["options"]) == set(spec), name
    for option, want in spec.items():
        have = doc["options"][option]
        where = f"{name}.{option}"
        assert have.get("type", "str") == want.get("type", "str"), where
        assert have.get("default") == want.get("default"), where
        assert bool(have.get("required")) == bool(want.get("required")), where
        assert have.get("choices") == want.get("choices"), where
        if want.get("type") == "list":
            assert have.get("elements") == want.get("elements"), where
        assert have.get("description"), where
