"""Make this checkout importable as the collection ``webcert_siths.onboarding``.

The repository root is also an Ansible collection. Ansible, the tests and the tools
find it through ``.cache/collections/ansible_collections/webcert_siths/onboarding``,
a symbolic link to the checkout that ``make`` (and :func:`ensure`) creates; ansible.cfg
names ``.cache/collections`` in ``collections_path``. Nothing is copied.
"""

from __future__ import annotations

import sys
from pathlib import Path

NAMESPACE = "webcert_siths"
NAME = "onboarding"
ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS = ROOT / ".cache" / "collections"
LINK = COLLECTIONS / "ansible_collections" / NAMESPACE / NAME


def ensure(add_to_sys_path: bool = True) -> Path:
    """Create the link when missing; put its collections folder first on sys.path."""
    if not LINK.is_symlink():
        LINK.parent.mkdir(parents=True, exist_ok=True)
        LINK.symlink_to(ROOT, target_is_directory=True)
    elif LINK.resolve() != ROOT:
        raise SystemExit(f"{LINK} points to {LINK.resolve()}, not to this checkout {ROOT}")
    if add_to_sys_path and str(COLLECTIONS) not in sys.path:
        sys.path.insert(0, str(COLLECTIONS))
    return COLLECTIONS


if __name__ == "__main__":
    print(ensure(add_to_sys_path=False))
