"""The toolkit as a user gets it: built with ``ansible-galaxy collection build`` and installed
with ``ansible-galaxy collection install`` into a folder outside this checkout.

``installed_collection`` (session fixture) builds the collection from this checkout once
and returns an ``Installed`` with the tarball and a collections folder it was installed
into. ``user_env(...)`` is the environment of a user's shell: the virtualenv's programs
on PATH, nothing that points Ansible at this checkout (no ANSIBLE_CONFIG, no
collections path of ours), and a private Ansible home.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Installed:
    tarball: Path
    collections: Path  # a folder holding ansible_collections/webcert_siths/onboarding

    def install_into(self, collections: Path) -> None:
        """``ansible-galaxy collection install <tarball> -p <collections>`` (as a user would)."""
        run([str(BIN / "ansible-galaxy"), "collection", "install", "--no-deps", "--force",
             "-p", str(collections), str(self.tarball)], cwd=collections.parent,
            env=user_env(collections.parent / ".ansible-home"))


def user_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ANSIBLE_", "HSA_LDAP_", "MOLECULE_"))}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        ANSIBLE_HOME=str(home),
        ANSIBLE_LOCAL_TEMP=str(home / "tmp"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
    )
    if "HSA_CACHE_DIR" in os.environ:  # the session's plan cache (tests/conftest.py)
        env["HSA_CACHE_DIR"] = os.environ["HSA_CACHE_DIR"]
    env.update(extra)
    return env


def run(cmd, cwd: Path, env: dict[str, str], check: bool = True,
        timeout: int = 600) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} exited with {proc.returncode}:\n"
                             f"{proc.stdout[-6000:]}\n{proc.stderr[-4000:]}")
    return proc


@pytest.fixture(scope="session")
def installed_collection(tmp_path_factory) -> Installed:
    work = tmp_path_factory.mktemp("collection")
    env = user_env(work / ".ansible-home")
    run([BIN / "ansible-galaxy", "collection", "build", "--output-path", work, ROOT],
        cwd=work, env=env)
    tarball = next(work.glob("webcert_siths-onboarding-*.tar.gz"))
    installed = Installed(tarball, work / "collections")
    installed.install_into(installed.collections)
    assert (installed.collections / "ansible_collections" / "webcert_siths" / "onboarding"
            / "MANIFEST.json").is_file()
    return installed
