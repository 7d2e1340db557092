"""The bind password never shows: not in stdout/stderr (also -vvv), the Ansible log,
diffs, exported files (plan.ldif, change request), backups, reports (siths.json,
readiness.json/html), the support bundle, or exception messages.

A private sandbox runs with the recognisable password ``Kn0wn-P@ss-4711`` (written to its
``bind.pw`` before the start). Every playbook the operator runs against it is run with
``-vvv`` and every file it writes is searched for the password in plain text and in the
encodings a file format could hide it in (base64, URL, JSON escapes).
"""

from __future__ import annotations

import base64
import io
import subprocess
import tarfile
import urllib.parse
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import hsa_sandbox as sb
import pytest
from adversarial_support import (
    ORG,
    PASSWORD,
    ROOT,
    UNIT_ID,
    ldif_add,
    playbook_cmd,
    playbook_env,
    provider_files,
    write_tree,
)

FORMS = {
    "plain": PASSWORD,
    "base64": base64.b64encode(PASSWORD.encode()).decode(),
    "url": urllib.parse.quote(PASSWORD),
    "url-plus": urllib.parse.quote_plus(PASSWORD),
    "base64-in-ldif": base64.b64encode(f"userPassword: {PASSWORD}".encode()).decode()[:12],
}


def leaks(text: str) -> list[str]:
    return [name for name, form in FORMS.items() if form and form in text]


def _texts(path: Path) -> dict[str, str]:
    """Every file below path as text, archives opened."""
    out = {}
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        data = f.read_bytes()
        if f.name.endswith(".tar.gz"):
            with tarfile.open(fileobj=io.BytesIO(data)) as tf:
                for m in tf:
                    if m.isfile():
                        out[f"{f}!{m.name}"] = tf.extractfile(m).read().decode("utf-8", "replace")
        elif f.suffix == ".zip":
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                for n in zf.namelist():
                    out[f"{f}!{n}"] = zf.read(n).decode("utf-8", "replace")
        out[str(f)] = data.decode("utf-8", "replace")
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Run every job against a sandbox with the known password; keep all output."""
    from sandbox_fixtures import Sandbox

    base = tmp_path_factory.mktemp("secrets")
    d = base / "sandbox"
    d.mkdir()
    (d / "bind.pw").write_text(PASSWORD, encoding="utf-8")
    (d / "bind.pw").chmod(0o600)
    box = Sandbox(sb.start(d))
    assert box.bind_password == PASSWORD
    # a service account in the tree whose password is the bind password (a common set-up)
    ldif_add(box, f"dn: cn=sync,c=SE\nobjectClass: person\nobjectClass: simpleSecurityObject\n"
                  f"cn: sync\nsn: sync\nuserPassword: {PASSWORD}\n")
    folder = write_tree(base / "provider", provider_files(people=3))
    out_dir = base / "out"
    reports = out_dir / "reports"
    env = playbook_env(box, ANSIBLE_LOG_PATH=str(out_dir / "ansible.log"))

    def run(name, playbook, *args, extra_env=None):
        r = subprocess.run(playbook_cmd(playbook, "-vvv", "-e", f"hsa_provider_path={folder}",
                                        "-e", f"hsa_report_dir={reports}", *args),
                           cwd=ROOT, env={**env, **(extra_env or {})}, capture_output=True,
                           text=True, timeout=300, check=False)
        return name, r

    results = {}
    try:
        with ThreadPoolExecutor(3) as pool:
            for name, r in pool.map(lambda a: run(*a), [
                ("check-diff", "hsa.yml", "--check", "--diff"),
                ("export", "hsa.yml", "-e", f"hsa_export_dir={out_dir / 'export'}"),
                ("wrong-dn", "hsa.yml", "-e", "hsa_ldap_bind_dn=cn=nobody,c=SE"),
                ("unreachable", "hsa.yml", "-e", "hsa_ldap_uri=ldap://127.0.0.1:9"),
            ]):
                results[name] = r
        name, results["apply"] = run("apply", "hsa.yml", "--diff",
                                     "-e", f"hsa_backup_file={out_dir / 'backup.ldif'}")
        with ThreadPoolExecutor(2) as pool:
            for name, r in pool.map(lambda a: run(*a), [
                ("siths", "siths.yml", "-e", f"siths_trust_bundle={box.ca_file}",
                 "-e", "siths_warn_only=true"),
                ("readiness", "readiness.yml", "-e", "readiness_warn_only=true"),
            ]):
                results[name] = r
        name, results["bundle"] = run(
            "bundle", "support_bundle.yml", "-e", f"support_person=SE{ORG}-P1",
            "-e", f"support_unit={UNIT_ID}", "-e", "support_error='Inloggningen misslyckades'")
        yield {"box": box, "results": results, "out": out_dir}
    finally:
        sb.stop(d)


def test_every_job_ran(runs):
    r = runs["results"]
    for name in ("check-diff", "export", "apply", "siths", "readiness", "bundle"):
        assert r[name].returncode == 0, (name, [line for line in r[name].stdout.splitlines()
                                                if "fatal" in line or '"msg"' in line][-4:])
    for name in ("wrong-dn", "unreachable"):
        assert r[name].returncode != 0 and "Traceback" not in r[name].stdout, name
    files = _texts(runs["out"])
    names = "\n".join(files)
    for expected in ("plan.ldif", "change-request.md", "change-request.csv",
                     "change-request.html", "backup.ldif",
                     "siths.json", "readiness.json", "readiness.html", "ansible.log", ".tar.gz"):
        assert expected in names, (expected, names)


def test_password_is_not_in_any_output_of_any_job(runs):
    found = {name: leaks(r.stdout + r.stderr) for name, r in runs["results"].items()}
    assert not any(found.values()), {k: v for k, v in found.items() if v}


def test_password_is_not_in_any_file_written(runs):
    found = {}
    for name, text in _texts(runs["out"]).items():
        if leaks(text):
            found[name] = leaks(text)
    assert not found, found


def test_backup_does_not_copy_password_attributes(runs):
    """Found by this suite: the backup asked for every attribute ('*') of the whole base DN
    and so copied userPassword values (here the bind password) into backup.ldif."""
    text = next(t for n, t in _texts(runs["out"]).items() if n.endswith("backup.ldif"))
    assert not leaks(text) and "userpassword" not in text.lower()


def test_exception_messages_and_reprs_never_hold_the_password(runs, tmp_path):
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.client import (
        LdapConnectError,
        LdapSettings,
        connect,
    )

    box = runs["box"]
    attempts = [
        box.settings(bind_dn="cn=nobody,c=SE"),  # refused bind
        box.settings(uri="ldap://127.0.0.1:9"),  # nothing listens
        box.settings(ca_file=None),  # untrusted certificate
        box.settings(uri=f"ldap://localhost.invalid:{box.port}"),
    ]
    for s in attempts:
        assert PASSWORD not in repr(s) and PASSWORD not in str(s)
        with pytest.raises(LdapConnectError) as err:
            connect(s)
        text = f"{err.value!s} {err.value!r} {err.value.__context__!r}"
        assert not leaks(text), text
    assert PASSWORD not in repr(LdapSettings(uri="ldap://x", base_dn="c=SE",
                                             bind_password=PASSWORD))
