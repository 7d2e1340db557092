"""Shared helpers for the adversarial suite (tests/adversarial/).

* ``run_module(name, args)`` runs one of the project's Ansible modules as a subprocess,
  exactly as Ansible would (real argument spec, env fallbacks, no_log, exit codes), but in
  ~0.4 s instead of a whole ``ansible-playbook`` run. A handful of tests use the real
  playbooks (``run_playbook``) to prove the same end to end.
* ``provider_files()`` is a small valid provider description (YAML text per file) that
  the tests then break in one place.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
PASSWORD = "Kn0wn-P@ss-4711"  # recognisable: grep every output for it

ORG = "5565594230"
PROVIDER_ID = f"SE{ORG}-VG1"
UNIT_ID = f"SE{ORG}-E1"

_RUNNER = textwrap.dedent(
    f"""
    import runpy, sys
    sys.path.insert(0, {str(ROOT / ".cache" / "collections")!r})
    path = sys.argv.pop(1)
    runpy.run_path(path, run_name="__main__")
    """
)


def person_yaml(n: int, unit: str = UNIT_ID, given: str = "Åsa", surname: str | None = None,
                extra: str = "") -> str:
    surname = surname if surname is not None else f"Öberg{n}"
    text = (f"  - hsa_id: SE{ORG}-P{n}\n"
            f"    given_name: {json.dumps(given, ensure_ascii=False)}\n"
            f"    surname: {json.dumps(surname, ensure_ascii=False)}\n"
            f"    titles: [Läkare]\n"
            f"    unit: {unit}\n")
    return text + extra


def provider_files(people: int = 3, name: str = "Adversarial Vård AB",
                   unit_name: str = "Mottagning Ett") -> dict[str, str]:
    """A valid description: provider.yml and units/ett.yml with ``people`` people."""
    provider = textwrap.dedent(
        f"""\
        provider:
          hsa_id: {PROVIDER_ID}
          name: {json.dumps(name, ensure_ascii=False)}
          org_no: "556559-4230"
        """
    )
    unit = textwrap.dedent(
        f"""\
        units:
          - hsa_id: {UNIT_ID}
            name: {json.dumps(unit_name, ensure_ascii=False)}
            email: ett@example.se
            workplace_codes: ["1234567"]
        people:
        """
    ) + "".join(person_yaml(i) for i in range(1, people + 1))
    return {"provider.yml": provider, "units/ett.yml": unit}


def write_tree(folder: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        p = folder / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    return folder


def run_module(name: str, args: dict, *, check: bool = False, diff: bool = False,
               env: dict | None = None, timeout: float = 120) -> tuple[int, dict, str]:
    """Run plugins/modules/<name>.py as Ansible does. Returns (exit code, result, stdout + stderr)."""
    payload = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
    proc = subprocess.run(
        [PYTHON, "-c", _RUNNER, str(ROOT / "plugins" / "modules" / f"{name}.py"),
         json.dumps({"ANSIBLE_MODULE_ARGS": payload})],
        capture_output=True, text=True, env=env if env is not None else dict(os.environ),
        timeout=timeout, check=False, cwd=ROOT,
    )
    out = proc.stdout + proc.stderr
    try:
        result = json.loads(proc.stdout[proc.stdout.index("{"):])
    except ValueError:
        result = {}
    return proc.returncode, result, out


def start_module(name: str, args: dict, *, env: dict | None = None) -> subprocess.Popen:
    """Start plugins/modules/<name>.py as ``run_module`` does, without waiting (to signal it).

    SIGINT starts with its default action, as for a command in a terminal: pytest run as
    a background job (``pytest &`` without job control) ignores SIGINT, and children
    would inherit that.
    """
    payload = dict(args, _ansible_check_mode=False, _ansible_diff=False)
    return subprocess.Popen(
        [PYTHON, "-c", _RUNNER, str(ROOT / "plugins" / "modules" / f"{name}.py"),
         json.dumps({"ANSIBLE_MODULE_ARGS": payload})],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env if env is not None else dict(os.environ), cwd=ROOT,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def module_result(stdout: str) -> dict:
    try:
        return json.loads(stdout[stdout.index("{"):])
    except ValueError:
        return {}


def read_apply_report(path: Path) -> list[list[dict]]:
    """The runs in an apply report (JSON lines): one list of records per ``start`` line."""
    runs: list[list[dict]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("event") == "start":
            runs.append([record])
        else:
            assert runs, f"{path}: a line before the start line: {line[:200]}"
            runs[-1].append(record)
    return runs


def what_was_applied(run: list[dict]) -> tuple[set, set, set]:
    """HSA-ids (applied, may or may not be applied, not applied) of one run of an apply
    report, from its start, sent and per-operation lines only: never the end line, which
    a killed process does not write."""
    plan = {p["n"]: p["hsa_id"] for p in run[0]["plan"]}
    ops = [r for r in run if "n" in r]  # the per-operation lines
    applied = {r["n"] for r in ops if r["status"] == "applied"}
    answered = {r["n"] for r in ops}
    sent = set()
    for r in run:
        if r.get("event") == "sent":
            sent.update(range(r["from"], r["to"] + 1))
    maybe = sent - answered
    rest = set(plan) - applied - maybe
    return ({plan[n] for n in applied}, {plan[n] for n in maybe}, {plan[n] for n in rest})


def ldap_args(box, **overrides) -> dict:
    args = {"uri": box.uri, "base_dn": box.base_dn, "bind_dn": box.bind_dn,
            "bind_password": box.bind_password, "ca_file": box.ca_file}
    args.update(overrides)
    return {k: v for k, v in args.items() if v is not None}


def playbook_env(box=None, **extra) -> dict:
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
           "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default", "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_HOME": str(ROOT / ".cache" / "ansible"),
           "ANSIBLE_LOCAL_TEMP": str(ROOT / ".cache" / "ansible" / "tmp")}
    for k in list(env):
        if k.startswith("HSA_LDAP_"):
            del env[k]
    if box is not None:
        env.update(box.env)
    env.update(extra)
    return env


def playbook_cmd(playbook: str, *args: str) -> list[str]:
    return [str(VENV_BIN / "ansible-playbook"), str(ROOT / "playbooks" / playbook), *args]


def run_playbook(playbook: str, *args: str, box=None, env_extra: dict | None = None,
                 timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(playbook_cmd(playbook, *args), cwd=ROOT,
                          env=playbook_env(box, **(env_extra or {})),
                          capture_output=True, text=True, check=False, timeout=timeout)


def hsa_entries(box, base: str | None = None) -> list[tuple[str, str]]:
    """(hsaIdentity, dn) of every entry with an hsaIdentity, sorted."""
    r = box.ldap_tool("ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-b", base or box.base_dn,
                      "(hsaIdentity=*)", "hsaIdentity")
    out = []
    for block in r.stdout.strip().split("\n\n"):
        dn = ident = None
        for line in block.splitlines():
            if line.startswith("dn: "):
                dn = line[4:]
            elif line.startswith("dn:: "):
                import base64

                dn = base64.b64decode(line[5:]).decode()
            elif line.lower().startswith("hsaidentity: "):
                ident = line.split(": ", 1)[1]
            elif line.lower().startswith("hsaidentity:: "):
                import base64

                ident = base64.b64decode(line.split(":: ", 1)[1]).decode()
        if dn:
            out.append((ident, dn))
    return sorted(out, key=lambda t: (t[0] or "", t[1]))


def ldif_add(box, ldif: str) -> None:
    box.ldap_tool("ldapadd", input=ldif)
