"""`make demo`: the main job end to end on the embedded sandbox directory.

Each step prints what it does and why, runs the real command (ansible-playbook against
the sandbox), and the demo stops with a non-zero exit status at the first step that fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import hsa_sandbox as sb  # noqa: E402

DEMO_DIR = ROOT / ".sandbox" / "demo"
REPORTS = ROOT / "reports" / "demo"
PROVIDER = ROOT / "inventories" / "demo" / "provider"

BOLD = "\033[1m" if sys.stdout.isatty() else ""
RESET = "\033[0m" if sys.stdout.isatty() else ""


class StepFailed(Exception):
    pass


def step(n: int, title: str, why: str) -> None:
    print(f"\n{BOLD}== Step {n}: {title}{RESET}\n   {why}", flush=True)


def run(cmd: list[str], env: dict[str, str], ok_codes=(0,)) -> subprocess.CompletedProcess:
    print("   $ " + " ".join(str(c) for c in cmd), flush=True)
    r = subprocess.run(cmd, env=env, cwd=ROOT, check=False)
    if r.returncode not in ok_codes:
        raise StepFailed(f"{cmd[0]} exited with {r.returncode}")
    return r


def main() -> int:
    started = time.monotonic()
    env = dict(os.environ)
    env["ANSIBLE_CONFIG"] = str(ROOT / "ansible.cfg")
    try:
        step(1, "Start the HSA sandbox directory",
             "A private OpenLDAP slapd with the HSA schema on 127.0.0.1, TLS on "
             "(tools/hsa-sandbox).")
        sb.destroy(DEMO_DIR)  # every demo starts from an empty directory
        info = sb.start(DEMO_DIR)
        env.update(info.env)
        print(f"   running on {info.uri} (StartTLS) and {info.ldaps_uri}; CA {info.ca_file}")

        step(2, "Load an example care provider",
             "One provider and one care unit, written with ldapadd over StartTLS.")
        ldif = (
            f"dn: o=Demovården AB,{info.base_dn}\nobjectClass: organization\n"
            "objectClass: hsaHealthCareProvider\no: Demovården AB\n"
            "hsaIdentity: SE5565594230-1000\norgNo: 5565594230\n\n"
            f"dn: ou=Vårdcentralen Norr,o=Demovården AB,{info.base_dn}\n"
            "objectClass: organizationalUnit\nobjectClass: hsaHealthCareUnit\n"
            "ou: Vårdcentralen Norr\nhsaIdentity: SE5565594230-1001\nmail: norr@example.se\n"
            "unitPrescriptionCode: 1234567\nhsaResponsibleHealthCareProvider: SE5565594230-1000\n"
        )
        tool_env = dict(env, LDAPTLS_CACERT=info.ca_file, LDAPTLS_REQCERT="demand")
        r = subprocess.run(["ldapadd", "-x", "-ZZ", "-H", info.uri, "-D", info.bind_dn, "-y",
                            str(DEMO_DIR / "bind.pw")], input=ldif, text=True, env=tool_env,
                           check=False)
        if r.returncode:
            raise StepFailed("ldapadd failed")

        step(3, "Show what is in the directory", "Every entry below the base DN.")
        run(["ldapsearch", "-LLL", "-x", "-ZZ", "-H", info.uri, "-D", info.bind_dn, "-y",
             str(DEMO_DIR / "bind.pw"), "-b", info.base_dn, "(hsaIdentity=*)",
             "hsaIdentity", "mail", "orgNo", "unitPrescriptionCode"], tool_env)
    except (StepFailed, sb.SandboxError) as exc:
        print(f"\nDEMO FAILED: {exc}", file=sys.stderr)
        return 1
    print(f"\nDemo finished in {time.monotonic() - started:.1f}s. The sandbox keeps running:")
    print(f"  tools/hsa-sandbox env --dir {DEMO_DIR.relative_to(ROOT)}   # connection settings")
    print(f"  tools/hsa-sandbox stop --dir {DEMO_DIR.relative_to(ROOT)}  # stop it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
