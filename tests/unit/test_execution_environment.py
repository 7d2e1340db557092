"""The execution environment (execution-environment.yml) has what the project's code needs.

AWX / Automation Platform run the playbooks inside the image ansible-builder makes from
execution-environment.yml. A module that imports a library the image lacks fails only there,
at 2 a.m., on the scheduled job. These tests read the definition and the code instead:

* the definition parses, is ansible-builder format version 3 and names files that exist;
* it installs the collection from the tarball of galaxy.yml's version, its dependencies
  coming with the `ansible` package (tests/integration/test_execution_environment_build.py
  renders it with ansible-builder and runs its final checks);
* bindep.txt is well-formed bindep;
* requirements-ee.txt keeps every requirement of requirements.txt (same ranges), adds the
  WinRM Kerberos/CredSSP extras, and pins ansible-core like the definition does;
* every third-party import in plugins/**/*.py is provided by a
  distribution listed in requirements-ee.txt (ansible.* by ansible-core, collections by
  collections/requirements.yml, project module_utils by the project itself).
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import ansible
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
EE_FILE = ROOT / "execution-environment.yml"
EE_REQUIREMENTS = ROOT / "requirements-ee.txt"

# Import name (top-level package) -> distribution that provides it.
IMPORT_TO_DISTRIBUTION = {
    "ldap": "python-ldap",
    "ldif": "python-ldap",
    "ldapurl": "python-ldap",
    "openpyxl": "openpyxl",
    "ruamel": "ruamel.yaml",
    "cryptography": "cryptography",
    "yaml": "pyyaml",
    "jinja2": "jinja2",
    "winrm": "pywinrm",
    "spnego": "pywinrm",  # pyspnego comes with pywinrm
    "requests": "pywinrm",  # a dependency of pywinrm
    "markupsafe": "jinja2",
    "packaging": "ansible-core",
    "ansible": "ansible-core",
}

V3_TOP_LEVEL = {"version", "images", "dependencies", "options", "build_arg_defaults",
                "additional_build_files", "additional_build_steps"}
V3_DEPENDENCIES = {"python", "system", "galaxy", "ansible_core", "ansible_runner",
                   "python_interpreter", "exclude"}


# --------------------------------------------------------------------------- helpers


def load_ee() -> dict:
    return yaml.safe_load(EE_FILE.read_text(encoding="utf-8"))


def read_requirements(path: Path) -> dict[str, Requirement]:
    """Requirement lines of a pip requirements file, keyed by canonical distribution name."""
    out: dict[str, Requirement] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        assert not line.startswith("-"), f"{path.name}:{number}: pip options ({line}) are not " \
            "copied into the ansible-builder context; list the requirement itself"
        req = Requirement(line)
        out[canonicalize_name(req.name)] = req
    return out


_BINDEP_LINE = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9.+_-]*)"
    r"(?:\s+(?P<version>(?:[<>]=?|==|!=)\s*[\w.+~-]+(?:\s*,\s*(?:[<>]=?|==|!=)\s*[\w.+~-]+)*))?"
    r"(?:\s+\[(?P<selectors>[^\[\]]+)\])?\s*$"
)
_SELECTOR = re.compile(r"^!?(?:platform:[a-z0-9._-]+|[a-z0-9_-]+|\([a-z0-9_ -]+\))$")


def bindep_problems(text: str) -> list[str]:
    """Line-format problems of a bindep file (name, optional version, optional [selectors])."""
    problems = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _BINDEP_LINE.match(line)
        if not match:
            problems.append(f"line {number}: {raw!r} is not 'package [selectors]'")
            continue
        selectors = match.group("selectors")
        if selectors is None:
            continue
        for token in re.findall(r"\([^)]*\)|\S+", selectors):
            if not _SELECTOR.match(token):
                problems.append(f"line {number}: selector {token!r} is not a profile or "
                                "platform:<name>")
    return problems


@dataclass(frozen=True)
class Import:
    file: str
    line: int
    module: str


def imports_of(path: Path) -> list[Import]:
    """Absolute imports of a Python file (also inside try/except and functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(str(path), node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "__future__":
                continue
            if node.module == "ansible.module_utils":
                # "from ansible.module_utils import basic" names a submodule
                found += [Import(str(path), node.lineno, f"ansible.module_utils.{a.name}")
                          for a in node.names]
            else:
                found.append(Import(str(path), node.lineno, node.module))
    return found


def galaxy_collections(root: Path) -> set[str]:
    data = yaml.safe_load((root / "collections" / "requirements.yml").read_text("utf-8"))
    return {c["name"] if isinstance(c, dict) else c for c in data.get("collections", [])}


def _in_ansible_core(module: str) -> bool:
    base = Path(ansible.__file__).resolve().parent.parent
    rel = Path(*module.split("."))
    return (base / rel).with_suffix(".py").is_file() or (base / rel / "__init__.py").is_file()


def own_collection(root: Path) -> str | None:
    """``namespace.name`` from root/galaxy.yml (None without one)."""
    galaxy = root / "galaxy.yml"
    if not galaxy.is_file():
        return None
    meta = yaml.safe_load(galaxy.read_text(encoding="utf-8"))
    return f"{meta['namespace']}.{meta['name']}"


def missing_imports(root: Path, ee_requirements: dict[str, Requirement]) -> list[str]:
    """Imports in root/library and root/plugins that the EE would not provide."""
    local_utils = {p.stem for p in (root / "plugins" / "module_utils").glob("*.py")}
    local_utils |= {p.name for p in (root / "plugins" / "module_utils").iterdir() if p.is_dir()} \
        if (root / "plugins" / "module_utils").is_dir() else set()
    collections = galaxy_collections(root)
    files = sorted((root / "plugins").rglob("*.py"))
    local_top = {p.stem for p in files}  # sibling helper files imported by name
    problems = []
    for path in files:
        for imp in imports_of(path):
            where = f"{Path(imp.file).relative_to(root)}:{imp.line}"
            top = imp.module.split(".")[0]
            if top in sys.stdlib_module_names:
                continue
            if top == "ansible":
                parts = imp.module.split(".")
                if parts[:2] == ["ansible", "module_utils"] and len(parts) > 2 \
                        and parts[2] in local_utils:
                    continue  # project module_utils, shipped by AnsiballZ
                if "ansible-core" not in ee_requirements:
                    problems.append(f"{where}: imports {imp.module} but requirements-ee.txt "
                                    "has no ansible-core")
                elif not _in_ansible_core(imp.module):
                    problems.append(f"{where}: imports {imp.module}, which is neither in "
                                    "plugins/module_utils nor in ansible-core")
                continue
            if top == "ansible_collections":
                name = ".".join(imp.module.split(".")[1:3])
                if name == own_collection(root):
                    continue  # this collection: the EE installs its built tarball
                if name not in collections:
                    problems.append(f"{where}: imports {imp.module}, but collection {name} is "
                                    "not in collections/requirements.yml")
                continue
            if top in local_top:
                continue
            dist = IMPORT_TO_DISTRIBUTION.get(top)
            if dist is None:
                problems.append(f"{where}: imports {top}, which no distribution in "
                                "requirements-ee.txt is known to provide (add it there and to "
                                "IMPORT_TO_DISTRIBUTION)")
            elif canonicalize_name(dist) not in ee_requirements:
                problems.append(f"{where}: imports {top} (distribution {dist}), which is "
                                "missing from requirements-ee.txt")
    return problems


# --------------------------------------------------------------------------- the definition


def test_definition_parses_as_builder_version_3():
    ee = load_ee()
    assert ee["version"] == 3
    assert set(ee) <= V3_TOP_LEVEL, f"unknown top-level keys: {set(ee) - V3_TOP_LEVEL}"
    assert set(ee["dependencies"]) <= V3_DEPENDENCIES
    assert ee["images"]["base_image"]["name"].count(":") == 1, "pin the base image tag"


def test_definition_names_files_that_exist():
    deps = load_ee()["dependencies"]
    named = [deps["python"], deps["system"]]
    assert named == ["requirements-ee.txt", "bindep.txt"]
    for rel in named:
        assert (ROOT / rel).is_file(), f"execution-environment.yml names {rel}, which is missing"


def test_definition_installs_the_built_collection_of_this_version():
    """The galaxy stage installs the tarball `make collection` builds (galaxy.yml's version)."""
    ee = load_ee()
    meta = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))
    tarball = f"{meta['namespace']}-{meta['name']}-{meta['version']}.tar.gz"
    (copied,) = ee["additional_build_files"]
    assert copied == {"src": f"build/{tarball}", "dest": "collections"}
    assert ee["dependencies"]["galaxy"] == {
        "collections": [{"name": f"collections/{tarball}", "type": "file"}]}
    # Its dependencies come with the `ansible` package, not from Galaxy.
    assert ee["build_arg_defaults"]["ANSIBLE_GALAXY_CLI_COLLECTION_OPTS"] == "--no-deps"
    assert "ansible" in read_requirements(EE_REQUIREMENTS)
    assert set(meta["dependencies"]) <= galaxy_collections(ROOT)


def test_galaxy_requirements_have_the_windows_collections():
    # collections/requirements.yml: for control nodes with ansible-core alone (not the EE).
    assert {"ansible.windows", "community.windows", "community.general"} <= \
        galaxy_collections(ROOT)


def test_bindep_file_is_well_formed_and_has_kerberos_and_ldap_tools():
    text = (ROOT / "bindep.txt").read_text(encoding="utf-8")
    assert bindep_problems(text) == []
    names = {line.split()[0] for line in text.splitlines()
             if line.strip() and not line.startswith("#")}
    assert {"krb5-devel", "libkrb5-dev", "gcc", "openldap-clients", "ldap-utils"} <= names
    assert "python3.11-devel" in names  # matches python_interpreter below
    assert load_ee()["dependencies"]["python_interpreter"]["package_system"] == "python3.11"


def test_bindep_checker_rejects_malformed_lines():
    bad = "gcc [compile platform:rpm\nkrb5 [Platform:RPM]\n lib ssl\n"
    problems = bindep_problems(bad)
    assert len(problems) == 3
    assert problems[0].startswith("line 1:")


# --------------------------------------------------------------------------- requirements


def test_ee_requirements_keep_every_runtime_requirement_with_the_same_range():
    runtime = read_requirements(ROOT / "requirements.txt")
    ee = read_requirements(EE_REQUIREMENTS)
    for name, req in runtime.items():
        assert name in ee, f"{req} from requirements.txt is missing in requirements-ee.txt"
        assert ee[name].specifier == req.specifier, \
            f"{name}: requirements-ee.txt has {ee[name].specifier}, requirements.txt " \
            f"{req.specifier}"


def test_ee_requirements_add_winrm_kerberos_and_credssp():
    ee = read_requirements(EE_REQUIREMENTS)
    assert {"kerberos", "credssp"} <= ee["pywinrm"].extras


def test_ansible_core_pin_matches_the_definition_and_the_tested_version():
    ee = read_requirements(EE_REQUIREMENTS)
    in_definition = Requirement(load_ee()["dependencies"]["ansible_core"]["package_pip"])
    assert in_definition.specifier == ee["ansible-core"].specifier
    # The version the test suite runs on must be inside every range the EE allows.
    for name, req in ee.items():
        installed = metadata.version(name)
        assert req.specifier.contains(installed, prereleases=True), \
            f"{name} {installed} (tested here) is outside {req} in requirements-ee.txt"


# --------------------------------------------------------------------------- imports


def test_every_module_import_is_provided_by_the_execution_environment():
    assert missing_imports(ROOT, read_requirements(EE_REQUIREMENTS)) == []


@pytest.fixture
def fake_project(tmp_path):
    (tmp_path / "plugins" / "modules").mkdir(parents=True)
    (tmp_path / "plugins" / "module_utils").mkdir()
    (tmp_path / "plugins" / "filter").mkdir()
    (tmp_path / "collections").mkdir()
    (tmp_path / "collections" / "requirements.yml").write_text(
        "collections:\n  - name: ansible.windows\n", encoding="utf-8")
    (tmp_path / "plugins" / "module_utils" / "local_core.py").write_text(
        "import json\n", encoding="utf-8")
    (tmp_path / "plugins" / "modules" / "good.py").write_text(
        "from __future__ import annotations\nimport json\n"
        "from ansible.module_utils.basic import AnsibleModule\n"
        "from ansible.module_utils.local_core import x\n"
        "from ansible_collections.ansible.windows.plugins.module_utils import y\n"
        "try:\n    import ldap\nexcept ImportError:\n    ldap = None\n",
        encoding="utf-8")
    return tmp_path


def test_import_check_passes_a_module_the_ee_covers(fake_project):
    assert missing_imports(fake_project, read_requirements(EE_REQUIREMENTS)) == []


def test_import_check_fails_for_a_library_the_ee_lacks(fake_project):
    (fake_project / "plugins" / "filter" / "extra.py").write_text(
        "import json\n\ndef f():\n    import numpy\n    return numpy\n", encoding="utf-8")
    problems = missing_imports(fake_project, read_requirements(EE_REQUIREMENTS))
    assert problems == ["plugins/filter/extra.py:4: imports numpy, which no distribution in "
                        "requirements-ee.txt is known to provide (add it there and to "
                        "IMPORT_TO_DISTRIBUTION)"]


def test_import_check_fails_when_a_known_distribution_is_dropped(fake_project):
    ee = read_requirements(EE_REQUIREMENTS)
    del ee["python-ldap"]
    problems = missing_imports(fake_project, ee)
    assert len(problems) == 1 and "ldap" in problems[0] and "plugins/modules/good.py:7" in problems[0]


def test_import_check_fails_for_unknown_module_utils_and_collections(fake_project):
    (fake_project / "plugins" / "modules" / "bad.py").write_text(
        "from ansible.module_utils.not_here import z\n"
        "from ansible_collections.community.vmware.plugins.module_utils import v\n",
        encoding="utf-8")
    problems = missing_imports(fake_project, read_requirements(EE_REQUIREMENTS))
    assert [p.split(":")[1] for p in problems] == ["1", "2"]
    assert "not_here" in problems[0] and "community.vmware" in problems[1]
