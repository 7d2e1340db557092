"""The collection as users get it: built, installed, and run from their own folder.

``ansible-galaxy collection build`` (from the files git knows, tools/collection_build.py)
must leave the project's tooling out of the tarball; ``ansible-galaxy collection install``
must accept it; and ``ansible-playbook webcert_siths.onboarding.validate`` must work from a
folder outside this repository with its own ansible.cfg (no ANSIBLE_CONFIG, no link into
the checkout), against a copy of the example description, and fail on a broken one with
the file and line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import collection_build  # noqa: E402

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
# Never in the tarball: galaxy.yml's build_ignore must keep these out.
NOT_SHIPPED = (".cache", ".ci", ".venv", ".sandbox", "reports", "inventories", "molecule",
               "tests", "tools", "build", "Makefile", "ansible.cfg", "requirements.txt",
               "requirements-dev.txt", "requirements-ee.txt", "pytest.ini", "ruff.toml", "babel.cfg")
SHIPPED = ("galaxy.yml", "MANIFEST.json", "FILES.json", "README.md", "COPYING",
           "meta/runtime.yml", "playbooks/validate.yml", "playbooks/hsa.yml",
           "roles/hsa_validate/tasks/main.yml", "plugins/modules/provider_validate.py",
           "plugins/module_utils/description/model.py", "plugins/filter/paths.py")


def clean_env(home: Path) -> dict[str, str]:
    """The environment of a user who never saw this repository."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ANSIBLE_", "HSA_")) and k not in ("PYTHONPATH",)}
    env.update(HOME=str(home), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}")
    return env


@pytest.fixture(scope="module")
def tarball(tmp_path_factory) -> Path:
    return collection_build.build(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def installed(tarball, tmp_path_factory) -> dict:
    """The tarball installed into a user's project folder outside the repository."""
    base = tmp_path_factory.mktemp("user")
    home, project = base / "home", base / "project"
    home.mkdir()
    project.mkdir()
    collections = project / "collections"
    # Like a user's own repository: an ansible.cfg of its own, collections installed into it.
    (project / "ansible.cfg").write_text(
        "[defaults]\ncollections_path = ./collections\nretry_files_enabled = false\n"
        "stdout_callback = ansible.builtin.default\n", encoding="utf-8")
    # The modules run on the control node, with the Python that runs Ansible (README).
    (project / "hosts.yml").write_text(
        "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
        "      ansible_python_interpreter: '{{ ansible_playbook_python }}'\n", encoding="utf-8")
    env = clean_env(home)
    proc = subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "install", "--offline", "-p",
         str(collections), str(tarball)],
        cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {"project": project, "env": env, "collections": collections}


def run_playbook(installed: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", "hosts.yml", *args],
        cwd=installed["project"], env=installed["env"], capture_output=True, text=True,
        timeout=300, check=False)


def test_the_tarball_holds_the_collection_and_none_of_the_tooling(tarball):
    with tarfile.open(tarball) as tar:
        names = set(tar.getnames())
    missing = [n for n in SHIPPED if n not in names and n != "galaxy.yml"]
    assert missing == []
    leaked = sorted(n for n in names for top in NOT_SHIPPED
                    if n == top or n.startswith(top + "/"))
    assert leaked == []
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    with tarfile.open(tarball) as tar:
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    info = manifest["collection_info"]
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))
    assert (info["namespace"], info["name"], info["version"]) == \
        (galaxy["namespace"], galaxy["name"], galaxy["version"])
    assert set(info["dependencies"]) == {"ansible.windows", "community.windows",
                                         "community.general"}


def test_build_ignore_keeps_a_dirty_checkout_out_of_the_tarball(tmp_path):
    # What `ansible-galaxy collection build` does in a working checkout: caches, the venv,
    # reports, inventories and test data lying around must not end up in the tarball.
    source = collection_build.export_tracked(tmp_path / "src")
    for rel in (".venv/bin/python", ".cache/collections/x", "reports/readiness.json",
                ".sandbox/demo/slapd.conf", "build/old.tar.gz", "tests/output/junit.xml",
                "inventories/mine/provider/provider.yml", "molecule/x/molecule.yml",
                ".pytest_cache/v"):
        (source / rel).parent.mkdir(parents=True, exist_ok=True)
        (source / rel).write_text("x\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path",
                           str(out), str(source)], capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (built,) = out.glob("*.tar.gz")
    with tarfile.open(built) as tar:
        tops = {n.split("/")[0] for n in tar.getnames()}
    assert tops <= {"MANIFEST.json", "FILES.json", "README.md", "CHANGELOG.md", "COPYING",
                    "bindep.txt", "execution-environment.yml", "docs", "locale", "meta",
                    "playbooks", "plugins", "roles", "schema", "templates"}, tops


def test_the_installed_collection_is_the_one_found(installed):
    proc = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "list",
                           "webcert_siths.onboarding", "--format", "json"],
                          cwd=installed["project"], env=installed["env"], capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert list(found) == [str(installed["collections"] / "ansible_collections")]
    assert (installed["collections"] / "ansible_collections" / "webcert_siths" / "onboarding"
            / "playbooks" / "validate.yml").is_file()


def test_validate_runs_as_a_collection_playbook_from_outside_the_repository(installed):
    provider = installed["project"] / "provider"
    shutil.copytree(ROOT / "inventories" / "example" / "provider", provider)
    proc = run_playbook(installed, "webcert_siths.onboarding.validate",
                        "-e", f"hsa_provider_path={provider}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ("beskrivningen är giltig (vårdenheter: 4, personer: 15, medarbetaruppdrag: 4, "
            "varningar: 0)") in proc.stdout
    assert str(ROOT) not in proc.stdout + proc.stderr


def test_a_broken_description_fails_with_file_and_line(installed):
    provider = installed["project"] / "broken"
    shutil.copytree(ROOT / "inventories" / "example" / "provider", provider)
    norr = provider / "units" / "norr.yml"
    lines = norr.read_text(encoding="utf-8").splitlines()
    (number,) = [i for i, line in enumerate(lines, 1) if line.strip().startswith("email:")]
    lines[number - 1] = lines[number - 1].split("email:")[0] + "email: norr@"
    norr.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = run_playbook(installed, "webcert_siths.onboarding.validate",
                        "-e", f"hsa_provider_path={provider}")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert f"units/norr.yml:{number}" in out
    assert "email" in out


def test_every_playbook_passes_a_syntax_check_by_its_collection_name(installed):
    names = sorted(p.stem for p in (ROOT / "playbooks").glob("*.yml"))
    proc = run_playbook(installed, "--syntax-check",
                        *(f"webcert_siths.onboarding.{name}" for name in names))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    installed_playbooks = (installed["collections"] / "ansible_collections" / "webcert_siths"
                           / "onboarding" / "playbooks")
    for name in names:  # each found in the installed collection, not in this checkout
        assert f"playbook: {installed_playbooks / name}.yml" in proc.stdout, name
