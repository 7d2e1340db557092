"""Run ``ansible-test`` (sanity, units) on the collection webcert_siths.onboarding.

ansible-test must run from ``.../ansible_collections/<namespace>/<name>`` and resolves
symbolic links, so the link in ``.cache/collections`` (tools/collection_path.py) is not
enough. This script checks what users install: it builds the collection from the files git
knows (tools/collection_build.py), unpacks the tarball into
``<temporary folder>/ansible_collections/webcert_siths/onboarding`` (outside the checkout, so
ansible-test does not see this repository's git), adds the ansible-test files that are not
shipped (``tests/sanity``, ``tests/unit/plugins``) and runs ansible-test there with
``--venv``: ansible-test installs the pinned checkers it needs from PyPI into
``~/.ansible/test/venv`` (once per machine, reused afterwards).

    python tools/run_ansible_test.py sanity            # every sanity check that applies
    python tools/run_ansible_test.py units             # tests/unit/plugins under ansible-test
    python tools/run_ansible_test.py sanity --test validate-modules   # arguments pass through

The results (``tests/output``: JUnit XML for CI) are copied to ``.cache/ansible-test/<command>``.

ansible-test starts each of its virtual environments with pip's ``get-pip.py``, which it
downloads from ci-files.testing.ansible.com. Where only PyPI is reachable (our CI), this
script puts the same pip release's wheel from PyPI into ansible-test's cache with a few-line
``get_pip_<version>.py`` that runs pip from that wheel (pip documents running
``python pip.whl/pip install ...`` from its wheel as a way to bootstrap pip).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import collection_build

ROOT = collection_build.ROOT
PYTHON = "3.11"
RESULTS = ROOT / ".cache" / "ansible-test"
# ansible-test's own files, kept in the repository but not in the tarball (galaxy.yml).
TEST_FILES = ("tests/sanity", "tests/unit/plugins", "tests/unit/requirements.txt")

# Sanity checks that do not apply, with the reason (also in docs/testing.md).
SKIPPED_SANITY = {
    # No PowerShell modules or module_utils: the PowerShell scripts under roles/*/files run
    # through ansible.windows.win_powershell; pwsh/PSScriptAnalyzer are not on CI machines.
    "pslint": "no PowerShell modules; pwsh is not installed on CI",
}


def pip_bootstrap_version() -> str:
    """The pip release ansible-test bootstraps its virtual environments with."""
    from ansible_test._internal.python_requirements import get_venv_packages

    class _Python:  # get_venv_packages reads only .version
        version = PYTHON

    return get_venv_packages(_Python())["pip"]


GET_PIP = """\\
# Stand-in for get-pip.py, written by tools/run_ansible_test.py: run pip {version} from its wheel.
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "{wheel}"))
from pip._internal.cli.main import main
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", "--upgrade", "--force-reinstall", *args]))
"""


def ensure_pip_bootstrap(cache: Path | None = None) -> Path:
    """``~/.ansible/test/cache/get_pip_<version>.py``, made from PyPI's pip wheel if missing."""
    cache = cache or Path.home() / ".ansible" / "test" / "cache"
    version = pip_bootstrap_version()
    script = cache / f"get_pip_{version.replace('.', '_')}.py"
    if script.is_file():
        return script
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                    "--only-binary=:all:", "-d", str(cache), f"pip=={version}"], check=True)
    wheel = f"pip-{version}-py3-none-any.whl"
    if not (cache / wheel).is_file():
        raise SystemExit(f"pip download did not leave {wheel} in {cache}")
    script.write_text(GET_PIP.format(version=version, wheel=wheel), encoding="utf-8")
    return script


def unpack_collection(base: Path) -> Path:
    """The built collection plus ansible-test's files in base/ansible_collections/<ns>/<name>."""
    namespace, name, _version = collection_build.collection_name()
    copy = base / "ansible_collections" / namespace / name
    tarball = collection_build.build(base / "dist")
    copy.mkdir(parents=True)
    with tarfile.open(tarball) as tar:
        tar.extractall(copy, filter="data")
    collection_build.export_tracked(copy, under=TEST_FILES)
    return copy


def command(kind: str, extra: list[str]) -> list[str]:
    ansible_test = str(Path(sys.executable).with_name("ansible-test"))
    cmd = [ansible_test, kind, "--python", PYTHON, "--venv", "--color", "no"]
    if kind == "sanity":
        cmd += ["--junit"]
        if not any(a in ("--test", "-t") for a in extra):
            for name in sorted(SKIPPED_SANITY):
                cmd += ["--skip-test", name]
    return cmd + extra


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("sanity", "units"):
        print(__doc__, file=sys.stderr)
        return 2
    ensure_pip_bootstrap()
    # The copy must be found through its own path only, not through this checkout's config.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.pop("PYTHONPATH", None)
    cmd = command(argv[0], argv[1:])
    with tempfile.TemporaryDirectory(prefix="ansible-test-") as base:
        copy = unpack_collection(Path(base))
        print("+", " ".join([Path(cmd[0]).name, *cmd[1:]]), flush=True)
        code = subprocess.call(cmd, cwd=copy, env=env)
        output = copy / "tests" / "output"
        if output.is_dir():
            target = RESULTS / argv[0]
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(output, target, symlinks=True,
                            ignore=shutil.ignore_patterns(".tmp"))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
