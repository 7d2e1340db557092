"""Operating hsa.yml at scale: concurrent runs and rollback, on the real sandbox directory.

Concurrency: the reconciler takes no lock. It stays safe because every write is conditional
on what it read: an add fails when the entry exists (entryAlreadyExists), a modify deletes
the exact old values before adding the new ones (noSuchAttribute when someone changed
them), a delete or rename fails when the entry is gone. A run that meets such a result stops
and reports a *conflict*; it never overwrites. These tests start two ansible-playbook
processes at the same time and check the directory afterwards.

Rollback: ``hsa_backup_file`` writes the subtree as LDIF before an apply; restoring is the
procedure in docs/operations.md (delete the provider subtree, ``ldapadd -c`` the backup).
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.model import (
    load_provider,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.gateway import (
    apply_plan,
    read_entries,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.mapping import (
    desired_entries,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.plan import (
    make_plan,
)

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
EXAMPLE = ROOT / "inventories" / "example" / "provider"
PROVIDER_DN = "o=Sjöviks Vårdcentraler AB,c=SE"
NORR_DN = f"ou=Vårdcentralen Sjövik Norr,{PROVIDER_DN}"
NORR_MAIL = "norr@sjovikvard.example.se"


def start_apply(provider: Path, env: dict, *extra: str) -> subprocess.Popen:
    run_env = dict(os.environ, **env, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
                   PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.Popen([str(BIN / "ansible-playbook"), "playbooks/hsa.yml", "-e",
                             f"hsa_provider_path={provider}", *extra],
                            cwd=ROOT, env=run_env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def finish(proc: subprocess.Popen) -> tuple[int, str]:
    out, _ = proc.communicate(timeout=300)
    return proc.returncode, out


def apply(provider: Path, env: dict, *extra: str) -> tuple[int, str]:
    return finish(start_apply(provider, env, *extra))


def plan_against(sandbox, provider: Path):
    """The plan that would bring the directory to ``provider`` (no write)."""
    loaded = load_provider(str(provider))
    assert loaded.model is not None, loaded.errors
    conn = sandbox.connect()
    try:
        actual = read_entries(conn, sandbox.base_dn)
    finally:
        conn.unbind()
    return make_plan(desired_entries(loaded.model, sandbox.base_dn), actual, sandbox.base_dn)


def hsa_ids(sandbox) -> list[str]:
    r = sandbox.ldap_tool("ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-b", sandbox.base_dn,
                          "(hsaIdentity=*)", "hsaIdentity")
    return [line.split(": ", 1)[1] for line in r.stdout.splitlines()
            if line.startswith("hsaIdentity: ")]


def values(sandbox, dn: str, attribute: str) -> list[str]:
    r = sandbox.ldap_tool("ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-s", "base", "-b", dn,
                          "(objectClass=*)", attribute)
    return [line.split(": ", 1)[1] for line in r.stdout.splitlines()
            if line.lower().startswith(attribute.lower() + ": ")]


def decode_line(line: str) -> str:
    """``attr:: <base64>`` (how ldapsearch prints non-ASCII values) as ``attr: value``."""
    name, sep, value = line.partition(":: ")
    if not sep:
        return line
    return f"{name}: {base64.b64decode(value).decode('utf-8', 'backslashreplace')}"


def content_dump(sandbox) -> str:
    """User attributes of every entry (no entryUUID/entryCSN: a restore makes new ones)."""
    r = sandbox.ldap_tool("ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-b", sandbox.base_dn,
                          "(objectClass=*)", "*")
    blocks = []
    for block in r.stdout.strip().split("\n\n"):
        lines = [decode_line(line) for line in block.splitlines()]
        blocks.append("\n".join(lines[:1] + sorted(lines[1:])))
    return "\n\n".join(sorted(blocks))


def copy_with(tmp_path: Path, name: str, edits: dict[str, tuple[str, str]]) -> Path:
    """A copy of the example description with text replacements per file."""
    dest = tmp_path / name
    shutil.copytree(EXAMPLE, dest)
    for rel, (old, new) in edits.items():
        path = dest / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{rel} no longer contains {old!r}; update this test"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return dest


def assert_conflict_or_success(rc: int, out: str) -> None:
    if rc != 0:
        # Swedish by default: "... på grund av en konflikt: Någon annan har ändrat posten
        # sedan den lästes; inget skrevs över."
        assert "på grund av en konflikt" in out and "inget skrevs över" in out, out[-4000:]


# --------------------------------------------------------------------------- concurrency


def test_two_simultaneous_applies_of_one_description_leave_it_intact(hsa_sandbox):
    hsa_sandbox.reset()
    a = start_apply(EXAMPLE, hsa_sandbox.env)
    b = start_apply(EXAMPLE, hsa_sandbox.env)
    results = [finish(a), finish(b)]
    assert any(rc == 0 for rc, _ in results), [out[-3000:] for _, out in results]
    for rc, out in results:
        assert_conflict_or_success(rc, out)
    ids = hsa_ids(hsa_sandbox)
    duplicates = [i for i, n in Counter(ids).items() if n > 1]
    assert duplicates == []
    assert len(ids) == 24  # provider + 4 units + 15 people + 4 commissions
    assert plan_against(hsa_sandbox, EXAMPLE).operations == []


def test_two_simultaneous_applies_that_disagree_never_merge_values(tmp_path, hsa_sandbox):
    hsa_sandbox.reset()
    assert apply(EXAMPLE, hsa_sandbox.env)[0] == 0
    one = copy_with(tmp_path, "one", {"units/norr.yml": (NORR_MAIL, "one@example.se")})
    two = copy_with(tmp_path, "two", {"units/norr.yml": (NORR_MAIL, "two@example.se")})
    a, b = start_apply(one, hsa_sandbox.env), start_apply(two, hsa_sandbox.env)
    (rc_a, out_a), (rc_b, out_b) = finish(a), finish(b)
    assert_conflict_or_success(rc_a, out_a)
    assert_conflict_or_success(rc_b, out_b)
    mail = values(hsa_sandbox, NORR_DN, "mail")
    # one value, from one of the descriptions: never both, never the old one
    assert len(mail) == 1 and mail[0] in ("one@example.se", "two@example.se"), mail
    winner = one if mail[0] == "one@example.se" else two
    assert plan_against(hsa_sandbox, winner).operations == []


def test_a_plan_made_before_someone_else_wrote_is_a_conflict_not_an_overwrite(
        tmp_path, hsa_sandbox):
    hsa_sandbox.reset()
    assert apply(EXAMPLE, hsa_sandbox.env)[0] == 0
    mine = copy_with(tmp_path, "mine", {"units/norr.yml": (NORR_MAIL, "mine@example.se")})
    stale = plan_against(hsa_sandbox, mine)  # read + plan ...
    assert len(stale.operations) == 1
    # ... meanwhile another admin changes the same attribute
    hsa_sandbox.ldap_tool("ldapmodify", input=f"dn: {NORR_DN}\nchangetype: modify\n"
                          "replace: mail\nmail: theirs@example.se\n")
    conn = hsa_sandbox.connect()
    try:
        result, conn = apply_plan(conn, stale, retries=0)
    finally:
        conn.unbind()
    assert result.conflict, result.to_dict()
    assert result.failed.message.startswith(
        "Någon annan har ändrat posten sedan den lästes; inget skrevs över. För IT: modify "
        ), result.failed.message
    assert values(hsa_sandbox, NORR_DN, "mail") == ["theirs@example.se"]


# --------------------------------------------------------------------------- rollback


def restore(sandbox, backup: Path, provider_hsa_id: str) -> None:
    """docs/operations.md, "Rollback": delete the provider subtree, ldapadd -c the backup."""
    r = sandbox.ldap_tool("ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-b", sandbox.base_dn,
                          f"(hsaIdentity={provider_hsa_id})", "1.1")
    dns = [decode_line(line)[4:] for line in r.stdout.splitlines() if line.startswith("dn:")]
    assert len(dns) == 1, r.stdout
    sandbox.ldap_tool("ldapdelete", "-r", dns[0])
    added = sandbox.ldap_tool("ldapadd", "-c", "-f", str(backup), check=False)
    # -c goes on past entries that still exist (the base DN); everything else must be added
    errors = [line for line in added.stderr.splitlines() if line.startswith("ldap_add:")]
    assert all("Already exists (68)" in e for e in errors), added.stderr
    assert added.stdout.count("adding new entry") >= 24


def test_export_before_apply_and_restore_from_it(tmp_path, hsa_sandbox):
    hsa_sandbox.reset()
    assert apply(EXAMPLE, hsa_sandbox.env)[0] == 0
    before = content_dump(hsa_sandbox)

    changed = copy_with(tmp_path, "changed", {
        "units/norr.yml": (NORR_MAIL, "ny-adress@example.se"),
        "units/soder.yml": ("name: Vårdcentralen Sjövik Söder",
                            "name: Vårdcentralen Sjövik Centrum"),
        "provider.yml": ("name: Sjöviks Vårdcentraler AB", "name: Sjöviks Vård AB"),
    })
    backup = tmp_path / "before-apply.ldif"
    rc, out = apply(changed, hsa_sandbox.env, "-e", f"hsa_backup_file={backup}")
    assert rc == 0, out[-4000:]
    assert backup.is_file() and oct(backup.stat().st_mode & 0o777) == "0o600"
    after = content_dump(hsa_sandbox)
    assert after != before and "Sjöviks Vård AB" in after and "ny-adress@example.se" in after

    restore(hsa_sandbox, backup, "SE5599123451-VG01")
    assert content_dump(hsa_sandbox) == before
    assert plan_against(hsa_sandbox, EXAMPLE).operations == []
