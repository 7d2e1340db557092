"""Build the collection webcert_siths.onboarding from the files git knows.

``ansible-galaxy collection build`` packs every file of the folder that galaxy.yml's
``build_ignore`` does not name, including whatever happens to lie around in a working
checkout. This script builds from a copy of the files git knows instead (tracked, plus new
files that .gitignore does not ignore), so a local build equals a build on a clean clone:

    python tools/collection_build.py [--output-path DIR]     # prints the tarball's path

Used by ``make collection``, tools/run_ansible_test.py and the collection install test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def collection_name(root: Path = ROOT) -> tuple[str, str, str]:
    """(namespace, name, version) from galaxy.yml."""
    meta = yaml.safe_load((root / "galaxy.yml").read_text(encoding="utf-8"))
    return meta["namespace"], meta["name"], str(meta["version"])


def tracked_files(root: Path = ROOT) -> list[str]:
    """Files git knows in ``root``: tracked and new-but-not-ignored (deleted ones left out)."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=root, check=True, capture_output=True).stdout
    names = sorted({n.decode() for n in out.split(b"\0") if n})
    return [n for n in names if (root / n).is_file() or (root / n).is_symlink()]


def export_tracked(dest: Path, root: Path = ROOT, under: tuple[str, ...] = ()) -> Path:
    """Copy the files git knows (only those below ``under`` when given) to ``dest``."""
    for rel in tracked_files(root):
        if under and not any(rel == u or rel.startswith(u.rstrip("/") + "/") for u in under):
            continue
        source, target = root / rel, dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
    return dest


def ansible_galaxy() -> str:
    here = Path(sys.executable).with_name("ansible-galaxy")
    return str(here) if here.exists() else "ansible-galaxy"


def build(output: Path, root: Path = ROOT) -> Path:
    """Build the tarball from the files git knows; return its path in ``output``."""
    namespace, name, version = collection_name(root)
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="collection-build-") as work:
        source = export_tracked(Path(work) / "src", root)
        subprocess.run([ansible_galaxy(), "collection", "build", "--force", "--output-path",
                        str(output.resolve()), str(source)], check=True, stdout=subprocess.DEVNULL)
    tarball = output / f"{namespace}-{name}-{version}.tar.gz"
    if not tarball.is_file():
        raise SystemExit(f"ansible-galaxy collection build did not write {tarball}")
    return tarball


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output-path", type=Path, default=ROOT / "build")
    args = parser.parse_args(argv)
    print(build(args.output_path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
