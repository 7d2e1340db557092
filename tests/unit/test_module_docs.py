"""What module documentation needs beyond ``ansible-test sanity``.

``make sanity`` (validate-modules, ansible-doc) checks that DOCUMENTATION, EXAMPLES and
RETURN exist, parse, render, and agree with each module's argument_spec (names, types,
defaults, required, choices, elements). Not checked there, and checked here:

* ansible-doc finds every module by its FQCN through this checkout's ansible.cfg (the
  ``.cache/collections`` link), which is how people working on the toolkit read the docs;
* EXAMPLES call the module, and always by its FQCN, as the playbooks must;
* README.md lists every module (by FQCN) and every playbook.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py"))
FQCN = "webcert_siths.onboarding."


def examples_of(name: str) -> list:
    """The EXAMPLES of a module, read from its source without running it."""
    source = (ROOT / "plugins" / "modules" / f"{name}.py").read_text(encoding="utf-8")
    namespace: dict = {}
    start = source.index('EXAMPLES = r"""')
    end = source.index('"""', start + len('EXAMPLES = r"""')) + 3
    exec(source[start:end], namespace)  # noqa: S102 - a string literal from our own file
    return yaml.safe_load(namespace["EXAMPLES"]) or []


def test_ansible_doc_finds_every_module_through_the_checkout_link():
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_HOME=str(ROOT / ".cache" / "ansible"))
    ansible_doc = Path(sys.executable).with_name("ansible-doc")
    proc = subprocess.run([str(ansible_doc), "-t", "module", "--list", "--json", FQCN[:-1]],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(json.loads(proc.stdout)) == [FQCN + m for m in MODULES]


@pytest.mark.parametrize("name", MODULES)
def test_examples_call_the_module_by_its_fqcn(name):
    calls = [key for task in examples_of(name) for key in task
             if key == name or key.endswith("." + name)]
    assert calls, f"{name}: no example calls the module"
    assert set(calls) == {FQCN + name}, f"{name}: examples call {sorted(set(calls))}"


def test_the_readme_lists_every_module_and_playbook():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in MODULES:
        assert f"`{FQCN}{name}`" in readme, f"README.md does not list the module {name}"
    for playbook in sorted((ROOT / "playbooks").glob("*.yml")):
        assert f"`playbooks/{playbook.name}`" in readme, \
            f"README.md does not list playbooks/{playbook.name}"
