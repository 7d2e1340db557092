"""`make demo`: the main job end to end on the embedded sandbox directory.

Each step prints what it does and why, runs the real command (ansible-playbook against
the sandbox), and the demo stops with a non-zero exit status at the first step that fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import collection_path  # noqa: E402
import hsa_sandbox as sb  # noqa: E402

collection_path.ensure()
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import (  # noqa: E402
    _,
    use_language,
)

# The demo speaks the toolkit's language: Swedish unless WEBCERT_LANGUAGE=en.
LANGUAGE = os.environ.get("WEBCERT_LANGUAGE", "sv") or "sv"

DEMO_DIR = ROOT / ".sandbox" / "demo"
REPORTS = ROOT / "reports" / "demo"
PROVIDER = ROOT / "inventories" / "demo" / "provider"

BOLD = "\033[1m" if sys.stdout.isatty() else ""
RESET = "\033[0m" if sys.stdout.isatty() else ""


class StepFailed(Exception):
    pass


def step(n: int, title: str, why: str) -> None:
    print(f"\n{BOLD}== " + _("Step %(n)s: %(title)s", n=n, title=title) + f"{RESET}\n   {why}",
          flush=True)


def run(cmd: list[str], env: dict[str, str], ok_codes=(0,)) -> subprocess.CompletedProcess:
    print("   $ " + " ".join(str(c) for c in cmd), flush=True)
    r = subprocess.run(cmd, env=env, cwd=ROOT, check=False)
    if r.returncode not in ok_codes:
        raise StepFailed(_("%(cmd)s exited with %(rc)s", cmd=cmd[0], rc=r.returncode))
    return r


PLAYBOOK = str(ROOT / ".venv" / "bin" / "ansible-playbook")
# Demo people and the certificate each gets (tools/siths_testpki.py scenarios).
DEMO_CERTS = [
    "SE5599001236-P001:valid:Åsa Öberg",
    "SE5599001236-P002:valid:Björn Ek",
    "SE5599001236-P003:expired:David Lind",
    "SE5599001236-P004:valid:Elin Sandberg",
    "SE5599001236-P005:valid:Greta Ström",
    "SE5599001236-P006:expiring:Cecilia Holm",
    "SE5599001236-P007:valid:Fredrik Nord",
]


def run_capture(cmd: list[str], env: dict[str, str]) -> str:
    print("   $ " + " ".join(str(c) for c in cmd), flush=True)
    r = subprocess.run(cmd, env=env, cwd=ROOT, check=False, capture_output=True, text=True)
    print(r.stdout[-3000:], end="")
    if r.returncode:
        print(r.stderr[-3000:], end="", file=sys.stderr)
        raise StepFailed(_("%(cmd)s exited with %(rc)s", cmd=cmd[0], rc=r.returncode))
    return r.stdout


def ldap_tool(info: sb.SandboxInfo, tool: str, ldif: str, env: dict[str, str]) -> None:
    tool_env = dict(env, LDAPTLS_CACERT=info.ca_file, LDAPTLS_REQCERT="demand")
    cmd = [tool, "-x", "-ZZ", "-H", info.uri, "-D", info.bind_dn, "-y",
           str(Path(info.dir) / "bind.pw")]
    print("   $ " + " ".join(cmd), flush=True)
    r = subprocess.run(cmd, input=ldif, text=True, env=tool_env, check=False)
    if r.returncode:
        raise StepFailed(_("%(cmd)s exited with %(rc)s", cmd=tool, rc=r.returncode))


def main() -> int:
    with use_language(LANGUAGE):
        return demo()


def demo() -> int:
    started = time.monotonic()
    env = dict(os.environ)
    env["ANSIBLE_CONFIG"] = str(ROOT / "ansible.cfg")
    try:
        step(1, _("Start the HSA sandbox directory"),
             _("A private OpenLDAP slapd with the HSA schema on 127.0.0.1, TLS on "
               "(tools/hsa-sandbox). Every demo starts from an empty directory."))
        sb.destroy(DEMO_DIR)
        info = sb.start(DEMO_DIR)
        env.update(info.env)
        print("   " + _("running on %(uri)s (StartTLS) and %(ldaps)s; CA %(ca)s", uri=info.uri,
                          ldaps=info.ldaps_uri, ca=info.ca_file))
        provider = ["-e", f"hsa_provider_path={PROVIDER}", "-e", f"hsa_report_dir={REPORTS}",
                    "-e", f"webcert_language={LANGUAGE}"]
        REPORTS.mkdir(parents=True, exist_ok=True)

        step(2, _("Check the provider description"),
             _("inventories/demo/provider/: a care provider, two care units, seven people. "
               "Two warnings are there on purpose."))
        run([PLAYBOOK, "playbooks/validate.yml", *provider], env)

        step(3, _("Plan the directory changes (--check --diff: nothing is written)"),
             _("Objects are matched by HSA-id; the plan lists every attribute before -> after."))
        run([PLAYBOOK, "playbooks/hsa.yml", "--check", "--diff", *provider], env)

        step(4, _("Apply the plan to the directory"),
             _("The plan is shown first; then the care provider and care units, then people, "
               "then commissions (medarbetaruppdrag)."))
        run([PLAYBOOK, "playbooks/hsa.yml", *provider], env)

        step(5, _("Apply again: nothing to do"), _("A second run must report changed=0."))
        out = run_capture([PLAYBOOK, "playbooks/hsa.yml", *provider], env)
        if "changed=0" not in out:
            raise StepFailed(_("the second apply changed something: not idempotent"))
        print("   " + _("second run: changed=0"))

        step(6, _("Issue SITHS test certificates and publish them in the directory"),
             _("A demo PKI generated here with SITHS's CA names (no real SITHS keys); David "
               "Lind's card has expired and Cecilia Holm's expires within the warning window."))
        pki = DEMO_DIR / "pki"
        run([sys.executable, "tools/siths_testpki.py", "--out", str(pki), "--prefix", "",
             "--publish-ldap", "--people", *DEMO_CERTS], env)

        step(7, _("Verify every clinician's SITHS card"),
             _("Chain by signature, CRL, validity, expiry ahead, HSA-id in the subject "
               "serialNumber."))
        run([PLAYBOOK, "playbooks/siths.yml", *provider, "-e", f"siths_trust_bundle={pki}/trust",
             "-e", json.dumps({"siths_crl_files": [str(pki / "crl")]}),
             "-e", "siths_warn_only=true"], env)

        step(8, _("Someone changes HSA behind the toolkit's back"),
             _("The workplace code (arbetsplatskod) of Demo Barnmorskemottagning is deleted "
               "directly in the directory (as an HSA Admin user might); the plan shows it."))
        unit_dn = f"ou=Demo Barnmorskemottagning,o=Demo Vård AB,{info.base_dn}"
        ldap_tool(info, "ldapmodify", f"dn: {unit_dn}\nchangetype: modify\n"
                  "delete: unitPrescriptionCode\n", env)
        run([PLAYBOOK, "playbooks/hsa.yml", "--check", "--diff", *provider], env)

        step(9, _("Webcert status: who can log in and sign tomorrow, and why not"),
             _("Reads the ACTUAL directory, the SITHS card check and the description."))
        run([PLAYBOOK, "playbooks/readiness.yml", *provider, "-e", "readiness_warn_only=true"],
            env)
        report = json.loads((REPORTS / "readiness.json").read_text(encoding="utf-8"))
        people = report.get("people", [])
        blocked = [p["name"] for p in people if p.get("status") == "blocked"]
        ready = [p["name"] for p in people if p.get("status") == "ready"]
        if not people or not blocked or not ready:
            raise StepFailed(_("the Webcert status should show both ready and blocked people"))
        print("\n   " + _("Ready: %(names)s", names=", ".join(ready)))
        print("   " + _("Blocked: %(names)s", names=", ".join(blocked)))
        print("   " + _("HTML report: %(path)s", path=REPORTS / "readiness.html"))
    except (StepFailed, sb.SandboxError) as exc:
        print("\n" + _("DEMO FAILED: %(error)s", error=exc), file=sys.stderr)
        return 1
    print("\n" + _("Demo finished in %(seconds)s s. The sandbox keeps running:",
                   seconds=round(time.monotonic() - started, 1)))
    print(f"  tools/hsa-sandbox env --dir {DEMO_DIR.relative_to(ROOT)}   # "
          + _("connection settings"))
    print(f"  tools/hsa-sandbox stop --dir {DEMO_DIR.relative_to(ROOT)}  # " + _("stop it"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
