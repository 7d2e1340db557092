"""The execution environment renders, and every step of its build that needs no container passes.

``ansible-builder create`` turns execution-environment.yml into a build context (a
Containerfile and ``_build/``). Building the image needs Podman and the network; this test
does what can be done without them, with the files of a real render:

* the Containerfile has the expected stages and steps (the built collection copied into the
  context, installed by the galaxy stage without Galaxy, the final checks);
* the galaxy stage's install commands, run here against a temporary folder standing in for
  ``/usr/share/ansible``, install the collection from the rendered context;
* ansible-builder's own checks (check_galaxy, check_ansible) and the builder stage's
  introspection of requirements run here too;
* every RUN step that execution-environment.yml appends to the final stage runs here, with
  this machine's Python for ``/usr/bin/python3.11`` and the temporary collections folder.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import collection_build  # noqa: E402

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
IMAGE_PYTHON = "/usr/bin/python3.11"
IMAGE_ANSIBLE = "/usr/share/ansible"


def stages(containerfile: str) -> dict[str, list[str]]:
    """Instruction lines of each build stage, by stage name."""
    out: dict[str, list[str]] = {}
    current = None
    for line in containerfile.splitlines():
        match = re.match(r"FROM \S+ AS (\w+)", line)
        if match:
            current = match.group(1)
            out[current] = []
        elif current and line.strip() and not line.startswith("#"):
            out[current].append(line.strip())
    return out


def arg_defaults(containerfile: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in
            re.finditer(r'^ARG (\w+)="([^"]*)"', containerfile, flags=re.M)}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict:
    """execution-environment.yml and its files rendered by ansible-builder create."""
    base = tmp_path_factory.mktemp("ee")
    project = base / "project"
    for rel in ("execution-environment.yml", "requirements-ee.txt", "bindep.txt"):
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, project / rel)
    tarball = collection_build.build(project / "build")  # what `make collection` does
    context = base / "context"
    proc = subprocess.run([str(BIN / "ansible-builder"), "create", "-f",
                           str(project / "execution-environment.yml"), "--context", str(context)],
                          cwd=project, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (containerfile,) = [p for p in (context / "Containerfile", context / "Dockerfile")
                        if p.is_file()]
    text = containerfile.read_text(encoding="utf-8")
    image = base / "image"  # stands for the image's /usr/share/ansible
    home = base / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ANSIBLE_", "HSA_")) and k != "PYTHONPATH"}
    env.update(HOME=str(home), PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
               ANSIBLE_COLLECTIONS_PATH=str(image / "collections"), ANSIBLE_NOCOLOR="1")
    return {"context": context, "text": text, "stages": stages(text), "tarball": tarball,
            "args": arg_defaults(text), "image": image, "env": env, "workdir": home}


def in_this_machine(command: str, rendered: dict) -> str:
    """A RUN command with the image's paths replaced by this machine's."""
    command = command.replace("$PYCMD", sys.executable)
    for name, value in rendered["args"].items():
        command = command.replace(f"${name}", value)
    return (command.replace(IMAGE_PYTHON, sys.executable)
            .replace(IMAGE_ANSIBLE, str(rendered["image"]))
            .replace("/output/scripts/", f"{rendered['context']}/_build/scripts/")
            .replace("/tmp/src/", f"{rendered['image'].parent}/src/"))


def step(rendered: dict, stage: str, contains: str) -> str:
    (found,) = [line[4:] for line in rendered["stages"][stage]
                if line.startswith("RUN ") and contains in line]
    return found


def run(command: str, rendered: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["/bin/sh", "-c", command], cwd=cwd, env=rendered["env"],
                          capture_output=True, text=True, timeout=300, check=False)


def galaxy_steps(rendered: dict) -> list[str]:
    return [line[4:] for line in rendered["stages"]["galaxy"]
            if line.startswith("RUN ") and "ansible-galaxy" in line and " install " in line]


def appended_steps() -> list[str]:
    ee = yaml.safe_load((ROOT / "execution-environment.yml").read_text(encoding="utf-8"))
    steps = ee["additional_build_steps"]["append_final"]
    assert all(step.startswith("RUN ") for step in steps)
    return [step[4:] for step in steps]


@pytest.fixture(scope="module")
def installed(rendered) -> dict:
    """The galaxy stage's install commands, run from the rendered context."""
    steps = galaxy_steps(rendered)
    assert len(steps) == 2, steps  # roles, then collections
    for step in steps:
        proc = run(in_this_machine(step, rendered), rendered, rendered["context"] / "_build")
        assert proc.returncode == 0, f"{step}\n{proc.stdout}{proc.stderr}"
    return rendered


def test_the_containerfile_has_the_expected_stages_and_steps(rendered):
    assert list(rendered["stages"]) == ["base", "galaxy", "builder", "final"]
    galaxy = rendered["stages"]["galaxy"]
    assert "COPY _build /build" in galaxy
    assert any('collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml '
               '--collections-path "/usr/share/ansible/collections"' in line for line in galaxy)
    # No Galaxy needed: the dependencies come with the `ansible` package.
    assert rendered["args"]["ANSIBLE_GALAXY_CLI_COLLECTION_OPTS"] == "--no-deps"
    assert "COPY --from=galaxy /usr/share/ansible /usr/share/ansible" in \
        rendered["stages"]["final"]
    final = [line[4:] for line in rendered["stages"]["final"] if line.startswith("RUN ")]
    appended = appended_steps()
    assert final[-len(appended) - 1:-1] == appended  # in order, just before the clean-up
    assert any("import" in step and "kerberos" in step for step in appended)
    for name in ("webcert_siths.onboarding", "ansible.windows", "community.windows",
                 "community.general"):
        assert any(re.match(rf"ansible-galaxy collection list {re.escape(name)} \|", step)
                   for step in appended), name


def test_the_context_holds_the_built_collection_and_the_requirements(rendered):
    build = rendered["context"] / "_build"
    requirements = yaml.safe_load((build / "requirements.yml").read_text(encoding="utf-8"))
    (entry,) = requirements["collections"]
    assert entry["type"] == "file"
    assert (build / entry["name"]).read_bytes() == rendered["tarball"].read_bytes()
    namespace, name, version = collection_build.collection_name()
    assert Path(entry["name"]).name == f"{namespace}-{name}-{version}.tar.gz"
    assert (build / "requirements.txt").read_text(encoding="utf-8") == \
        (ROOT / "requirements-ee.txt").read_text(encoding="utf-8")
    assert (build / "bindep.txt").read_text(encoding="utf-8") == \
        (ROOT / "bindep.txt").read_text(encoding="utf-8")


def test_the_galaxy_stage_installs_the_collection_without_galaxy(installed):
    target = installed["image"] / "collections" / "ansible_collections" / "webcert_siths"
    assert (target / "onboarding" / "playbooks" / "validate.yml").is_file()
    assert (target / "onboarding" / "MANIFEST.json").is_file()


def test_the_builder_scripts_checks_pass_here(installed):
    # galaxy stage: ansible-galaxy works; final stage: ansible and ansible-runner are there.
    for stage, contains in (("galaxy", "check_galaxy"), ("final", "check_ansible")):
        command = step(installed, stage, contains)
        proc = run(in_this_machine(command, installed), installed, installed["workdir"])
        assert proc.returncode == 0, f"{command}\n{proc.stdout}{proc.stderr}"


def test_the_builder_stage_introspection_merges_the_requirements(installed):
    # The builder stage reads requirements-ee.txt, bindep.txt and those the installed
    # collections ship (ours ships bindep.txt), for the wheels and packages of the image.
    command = step(installed, "builder", "introspect.py introspect")
    collections = installed["image"] / "collections"
    proc = run(f"{in_this_machine(command, installed)} {collections}", installed,
               installed["context"] / "_build")
    assert proc.returncode == 0, f"{command}\n{proc.stdout}{proc.stderr}"
    src = installed["image"].parent / "src"
    pip = (src / "requirements.txt").read_text(encoding="utf-8")
    for wanted in ("ansible>=12.0,<13", "python-ldap", "pywinrm[kerberos,credssp]", "cryptography"):
        assert wanted in pip, wanted
    bindep = (src / "bindep.txt").read_text(encoding="utf-8")
    for wanted in ("krb5-devel", "openldap-devel", "openldap-clients", "cyrus-sasl-devel"):
        assert wanted in bindep, wanted
    assert "webcert_siths.onboarding" in bindep  # the collection's own bindep.txt was read


@pytest.mark.parametrize("command", appended_steps())
def test_every_appended_final_step_passes_here(installed, command):
    proc = run(in_this_machine(command, installed), installed, installed["workdir"])
    assert proc.returncode == 0, f"{command}\n{proc.stdout}{proc.stderr}"


def test_the_collection_checks_fail_for_a_missing_collection(installed):
    # `ansible-galaxy collection list NAME` alone exits 0 when NAME is missing, and the old
    # step with three names in one call was a usage error: both must not pass for a check.
    (general,) = [s for s in appended_steps() if "list community.general" in s]
    missing = general.replace("community.general", "community.nothere").replace(
        "community\\.general", "community\\.nothere")
    assert run(in_this_machine(missing, installed), installed, installed["workdir"]).returncode
    old = "ansible-galaxy collection list ansible.windows community.windows community.general"
    assert run(old, installed, installed["workdir"]).returncode != 0
    bare = subprocess.run(shlex.split("ansible-galaxy collection list community.nothere"),
                          env=installed["env"], cwd=installed["workdir"], capture_output=True,
                          text=True, timeout=120, check=False)
    assert bare.returncode == 0  # why the grep is needed
