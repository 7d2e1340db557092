"""Every tag named in docs/workstations.md and the Windows role READMEs selects real tasks.

Runs ``ansible-playbook --list-tasks --tags X`` on playbooks/workstations.yml with the example
inventory for each documented tag and asserts that tasks carrying that tag are listed (not only
the checks tagged ``always``).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = str(Path(sys.executable).with_name("ansible-playbook"))
ROLES = ("siths_trust", "siths_eid_app", "netid", "smartcard", "webcert_browser", "workstation_common")


def documented_tags() -> set[str]:
    tags: set[str] = set()
    doc = (ROOT / "docs" / "workstations.md").read_text(encoding="utf-8")
    tags.update(re.findall(r"--tags[ =]([a-z_,]+)", doc))
    for role in ROLES:
        readme = (ROOT / "roles" / role / "README.md").read_text(encoding="utf-8")
        # "Tags: `a`, `b`" paragraphs (until a blank line) and "(`tag`)" in control tables.
        for block in re.findall(r"^Tags:(.*?)(?:\n\s*\n|\Z)", readme, re.S | re.M):
            tags.update(re.findall(r"`([a-z_]+)`", block))
        tags.update(re.findall(r"^\| [A-Z_]+ \(`([a-z_]+)`\)", readme, re.M))
    split = set()
    for tag in tags:
        split.update(t for t in tag.split(",") if t)
    return split


def test_the_docs_name_tags_at_all():
    tags = documented_tags()
    assert {"webcert_browser_autoselect", "smartcard_certprop", "siths_trust_import"} <= tags
    assert len(tags) >= 20


@pytest.mark.parametrize("tag", sorted(documented_tags()))
def test_documented_tag_lists_tasks(tag):
    proc = subprocess.run(
        [PLAYBOOK, "-i", "inventories/example", "playbooks/workstations.yml", "--list-tasks", "--tags", tag],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    tagged = [
        line
        for line in proc.stdout.splitlines()
        if "TAGS: [" in line and tag in re.search(r"TAGS: \[([^\]]*)\]", line).group(1).split(", ")
    ]
    assert tagged, f"--tags {tag} lists no task carrying that tag:\n{proc.stdout[-2000:]}"
