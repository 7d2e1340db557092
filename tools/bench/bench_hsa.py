#!/usr/bin/env python3
"""Performance of the HSA reconciler against baselines measured in the same run.

Usage: bench_hsa.py [--people N] [--units N] [--commissions N] [--loop-people N] [--no-loop]

On a private sandbox slapd (tools/hsa-sandbox, temporary folder), with a generated
provider (default 10,000 people, 200 units, 1,000 commissions). Measured as a user runs
it (``ansible-playbook playbooks/hsa.yml``), each playbook figure minus Ansible's own
floor (a playbook that runs one ``ansible.builtin.ping``, run right before each measured
playbook run and subtracted from it):

1. initial apply (empty directory, empty description cache) vs ``ldapadd`` of the same
   entries from an LDIF file (goal: <= 2x; alternating, median of three each);
2. a no-change plan (``--check``, description unchanged since the last run: it comes
   from the description cache; the directory is read, decoded and compared) vs one
   ``ldapsearch`` dump of the subtree (goal: <= 4x; alternating, median of five each);
3. peak memory (VmHWM) of the hsa_reconcile module process, apply and plan (goal:
   <= 300 MB);
4. at 1,000 people: ``ansible-playbook playbooks/hsa.yml`` vs an ``ansible-playbook``
   loop of ``community.general.ldap_entry`` over the same entries (goal: >= 50x faster).

Also printed, without goals: the module process alone (apply, no-change plan, and a plan
with ``cache: false``) and where a no-change plan spends its time, in process.
Each figure and ratio is printed on its own line. Exit status 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import hsa_sandbox as sb  # noqa: E402

sys.path.insert(0, str(ROOT / "tools"))
import collection_path  # noqa: E402

collection_path.ensure()

from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.model import (  # noqa: E402
    load_provider,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.description_cache import (  # noqa: E402
    DescriptionCache,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.mapping import (  # noqa: E402  # noqa: E402
    DirectoryEntry,
    desired_entries,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.plan_ldif import (  # noqa: E402
    render_entries_ldif,
)

MU = "ansible_collections.webcert_siths.onboarding.plugins.module_utils"
median = statistics.median
ORG = "SE5599123451"
RUNS = 5  # runs per figure; the median is printed
APPLY_RUNS = 3  # initial applies
PYTHON = sys.executable
# The module's own peak memory: VmHWM of its process at exit (the rusage of a child also
# counts the pages of this, the parent, process it was forked from).
RUNNER = f"""
import atexit, os, sys, runpy
def _hwm():
    with open("/proc/self/status") as fh, open(os.environ["BENCH_HWM_FILE"], "w") as out:
        out.write(next(line.split()[1] for line in fh if line.startswith("VmHWM:")))
atexit.register(_hwm)
sys.path.insert(0, {str(ROOT / ".cache" / "collections")!r})
sys.argv = ["hsa_reconcile", sys.argv[1]]
runpy.run_path({str(ROOT / "plugins" / "modules" / "hsa_reconcile.py")!r}, run_name="__main__")
"""


# --------------------------------------------------------------------------- data


def write_provider(folder: Path, people: int, units: int, commissions: int) -> None:
    """One file per unit: the unit, its people, its commissions (members spread evenly)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "provider.yml").write_text(
        f'provider:\n  hsa_id: {ORG}-VG01\n  name: Bench Vård AB\n  org_no: "559912-3451"\n',
        encoding="utf-8")
    per_unit = -(-people // units)
    com_per_unit = -(-commissions // units)
    made_c = 0
    for u in range(units):
        uid = f"{ORG}-E{u:05d}"
        members = [n for n in range(u * per_unit, min(people, (u + 1) * per_unit))]
        out = ["units:", f"  - hsa_id: {uid}", f"    name: Enhet {u} Sjövik",
               f"    email: enhet{u}@example.se", f'    workplace_codes: ["{4700000 + u}"]']
        out.append("people:" if members else "people: []")
        for n in members:
            doctor = n % 3 == 0
            out += [f"  - hsa_id: {ORG}-P{n:06d}", "    given_name: Åsa",
                    f"    surname: Öberg{n}",
                    f"    titles: [{'Läkare' if doctor else 'Sjuksköterska'}]",
                    f"    unit: {uid}", f"    mail: p{n}@example.se"]
            if doctor:
                out += [f'    prescriber_code: "{1000000 + n}"',
                        "    specialities:",
                        '      - {code: "1020", name: Allmänmedicin, licence_code: LK}']
        coms = []
        for k in range(com_per_unit):
            if made_c >= commissions or not members:
                break
            chunk = members[k::com_per_unit] or members[:1]
            coms += [f"  - hsa_id: {ORG}-M{made_c:05d}", f"    name: Vård och behandling {k}",
                     f"    unit: {uid}", "    members:",
                     *(f"      - {ORG}-P{n:06d}" for n in chunk)]
            made_c += 1
        out += ["commissions:", *coms] if coms else ["commissions: []"]
        (folder / f"unit_{u:05d}.yml").write_text("\n".join(out) + "\n", encoding="utf-8")


def content_ldif(model, base_dn: str) -> str:
    return render_entries_ldif(
        DirectoryEntry(e.dn, {"objectClass": e.object_classes,
                              **{k: v for k, v in e.attributes.items() if v}})
        for e in desired_entries(model, base_dn).entries)


# --------------------------------------------------------------------------- runners


def ldap_tool(info, tool: str, *args: str, stdin=None) -> float:
    env = dict(os.environ, LDAPTLS_CACERT=info.ca_file, LDAPTLS_REQCERT="demand")
    cmd = [tool, "-x", "-ZZ", "-H", info.uri, "-D", info.bind_dn, "-y",
           str(Path(info.dir) / "bind.pw"), *args]
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=stdin or subprocess.DEVNULL,
                   stderr=subprocess.PIPE)
    return time.perf_counter() - start


def wipe(info, provider_dn: str) -> None:
    env = dict(os.environ, LDAPTLS_CACERT=info.ca_file, LDAPTLS_REQCERT="demand")
    subprocess.run(["ldapdelete", "-x", "-ZZ", "-H", info.uri, "-D", info.bind_dn, "-y",
                    str(Path(info.dir) / "bind.pw"), "-r", provider_dn], env=env,
                   capture_output=True, check=False)


def run_module(info, provider: Path, tmp: Path, check: bool = False,
               cache: bool = True) -> tuple[float, float, dict]:
    """Run hsa_reconcile as its own process; (seconds, peak RSS MB, result)."""
    args = {"ANSIBLE_MODULE_ARGS": {
        "provider_path": str(provider), "uri": info.uri, "bind_dn": info.bind_dn,
        "bind_password": info.bind_password, "base_dn": info.base_dn, "ca_file": info.ca_file,
        "cache": cache, "_ansible_check_mode": check, "_ansible_diff": False}}
    argfile = tmp / "args.json"
    argfile.write_text(json.dumps(args), encoding="utf-8")
    out = tmp / "out.json"
    hwm = tmp / "hwm.txt"
    start = time.perf_counter()
    with out.open("w") as fh:
        proc = subprocess.run([PYTHON, "-c", RUNNER, str(argfile)], stdout=fh,
                              stderr=subprocess.PIPE, env=dict(os.environ, BENCH_HWM_FILE=str(hwm)),
                              check=False)
    elapsed = time.perf_counter() - start
    result = json.loads(out.read_text(encoding="utf-8") or "{}")
    if proc.returncode != 0 or result.get("failed"):
        raise SystemExit(f"hsa_reconcile failed: {result.get('msg')}")
    return elapsed, int(hwm.read_text(encoding="utf-8")) / 1024, result


def plan_breakdown(info, provider: Path) -> dict[str, float]:
    """Where a no-change plan spends its time, measured in this process (seconds)."""
    import gc

    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.client import (
        LdapSettings,
        connect,
    )
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.mapping import (
        READ_ATTRIBUTES,
        make_entry,
    )
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.plan import (
        make_plan,
    )

    imports = (f"import sys; sys.path.insert(0, {str(ROOT / '.cache' / 'collections')!r}); "
               "import ansible.module_utils.basic; "
               + "; ".join(f"import {MU}.directory.{name}"
                           for name in ("module_args", "reconciler", "description_cache")))
    settings = LdapSettings(uri=info.uri, base_dn=info.base_dn, bind_dn=info.bind_dn,
                            bind_password=info.bind_password, ca_file=info.ca_file)

    def timed(fn):
        start = time.perf_counter()
        value = fn()
        return time.perf_counter() - start, value

    out = {"interpreter start and the module's imports (own process)": median(
        timed(lambda: subprocess.run([PYTHON, "-c", imports], check=True))[0]
        for _ in range(5))}
    gc.disable()  # as in the module process
    try:
        t, model = timed(lambda: load_provider(provider).model)
        out["YAML load and validation (without the description cache)"] = t
        t, desired = timed(lambda: desired_entries(model, info.base_dn))
        out["desired entries (without the description cache)"] = t
        cache = DescriptionCache(os.environ["HSA_CACHE_DIR"])
        t, cached = timed(lambda: cache.load(str(provider), info.base_dn, True, language="sv"))
        assert cached is not None, "the description cache holds no description"
        out["description from the description cache"] = t
        t, conn = timed(lambda: connect(settings))
        out["connect, StartTLS and bind"] = t
        t, raw = timed(lambda: list(conn.search(info.base_dn, attributes=READ_ATTRIBUTES)))
        out["directory read (paged search, python-ldap)"] = t
        conn.close()
        t, actual = timed(lambda: [make_entry(dn, attrs) for dn, attrs in raw])
        out["decode"] = t
        t, plan = timed(lambda: make_plan(desired, actual, info.base_dn))
        out["diff"] = t
        assert not plan.operations, plan.counts
    finally:
        gc.enable()
    return out


def loop_baseline(info, model, tmp: Path) -> float:
    """ansible-playbook looping community.general.ldap_entry over the same entries."""
    items = []
    for e in desired_entries(model, info.base_dn).entries:
        attrs = {k: list(v) for k, v in e.attributes.items() if v}
        items.append({"dn": e.dn, "objectClass": list(e.object_classes), "attributes": attrs})
    (tmp / "entries.json").write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    playbook = tmp / "loop.yml"
    playbook.write_text(f"""---
- name: Baseline - one ldap_entry task per entry
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    entries: "{{{{ lookup('ansible.builtin.file', '{tmp / 'entries.json'}') | from_json }}}}"
  tasks:
    - name: Ensure each entry
      community.general.ldap_entry:
        server_uri: "{info.uri}"
        start_tls: true
        bind_dn: "{info.bind_dn}"
        bind_pw: "{info.bind_password}"
        dn: "{{{{ item.dn }}}}"
        objectClass: "{{{{ item.objectClass }}}}"
        attributes: "{{{{ item.attributes }}}}"
      loop: "{{{{ entries }}}}"
      loop_control:
        label: "{{{{ item.dn }}}}"
      environment:
        LDAPTLS_CACERT: "{info.ca_file}"
""", encoding="utf-8")
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), LDAPTLS_CACERT=info.ca_file)
    start = time.perf_counter()
    r = subprocess.run([str(Path(PYTHON).parent / "ansible-playbook"), str(playbook),
                        "-e", f"ansible_python_interpreter={PYTHON}"],
                       env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if r.returncode != 0:
        raise SystemExit(f"baseline playbook failed:\n{r.stdout[-2000:]}")
    return elapsed


def playbook_run(info, provider: Path, tmp: Path, *args: str) -> tuple[float, str]:
    """``ansible-playbook playbooks/hsa.yml`` as a user runs it (the default output);
    (seconds, its output). The plan's summary line is in the output."""
    env = dict(os.environ, **info.env, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_NOCOLOR="1")
    start = time.perf_counter()
    r = subprocess.run([str(Path(PYTHON).parent / "ansible-playbook"),
                        str(ROOT / "playbooks" / "hsa.yml"), "-e", f"hsa_provider_path={provider}",
                        "-e", f"hsa_report_dir={tmp / 'reports'}",
                        "-e", f"ansible_python_interpreter={PYTHON}", *args],
                       env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if r.returncode != 0:
        raise SystemExit(f"playbooks/hsa.yml failed:\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    return elapsed, r.stdout


def planned(output: str) -> str:
    """The plan's summary line ("Plan: 11201 läggs till, 0 ändras, ...") in the output."""
    line = next((x for x in output.splitlines() if "Plan: " in x), "")
    return line[line.index("Plan: "):].rstrip('",') if line else ""


def entries_below(info, dn: str) -> int:
    env = dict(os.environ, LDAPTLS_CACERT=info.ca_file, LDAPTLS_REQCERT="demand")
    r = subprocess.run(["ldapsearch", "-x", "-ZZ", "-LLL", "-H", info.uri, "-D", info.bind_dn,
                        "-y", str(Path(info.dir) / "bind.pw"), "-b", dn, "(objectClass=*)", "1.1"],
                       env=env, capture_output=True, text=True, check=False)
    return r.stdout.count("dn:")


def floor_run(tmp: Path) -> float:
    """Ansible's own floor: a playbook that runs one ansible.builtin.ping on localhost."""
    playbook = tmp / "ping.yml"
    playbook.write_text("""---
- name: Ansible's floor
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Ping
      ansible.builtin.ping:
""", encoding="utf-8")
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    start = time.perf_counter()
    subprocess.run([str(Path(PYTHON).parent / "ansible-playbook"), str(playbook),
                    "-e", f"ansible_python_interpreter={PYTHON}"],
                   env=env, capture_output=True, check=True)
    return time.perf_counter() - start


# --------------------------------------------------------------------------- main


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=10_000)
    ap.add_argument("--units", type=int, default=200)
    ap.add_argument("--commissions", type=int, default=1_000)
    ap.add_argument("--loop-people", type=int, default=1_000)
    ap.add_argument("--no-loop", action="store_true", help="skip the ldap_entry baseline")
    a = ap.parse_args(argv)
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-hsa-") as t:
        tmp = Path(t)
        cache_dir = tmp / "description-cache"  # the runs' description cache, not ~/.cache
        os.environ["HSA_CACHE_DIR"] = str(cache_dir)
        info = sb.start(tmp / "sandbox")
        try:
            provider = tmp / "provider"
            write_provider(provider, a.people, a.units, a.commissions)
            loaded = load_provider(provider)
            if loaded.model is None:
                raise SystemExit("generated provider is invalid: "
                                 + "; ".join(str(f) for f in loaded.errors[:5]))
            model = loaded.model
            n = 1 + len(model.units) + len(model.people) + len(model.commissions)
            pdn = desired_entries(model, info.base_dn).entries[0].dn
            print(f"hsa: {len(model.people)} people, {len(model.units)} units, "
                  f"{len(model.commissions)} commissions = {n} entries")
            ldif = tmp / "load.ldif"
            ldif.write_text(content_ldif(model, info.base_dn), encoding="utf-8")

            # Ansible's floor is measured right before each playbook run and subtracted from
            # that run (the load of a shared machine changes within minutes).
            floors = []

            def minus_floor(*args: str) -> tuple[float, str]:
                floors.append(floor_run(tmp))
                t_run, out = playbook_run(info, *args)
                return t_run - floors[-1], out

            # ldapadd and the playbook's initial apply alternate, each into an empty tree
            # (the playbook with an empty description cache: YAML to directory).
            adds, applies = [], []
            for _ in range(APPLY_RUNS):
                adds.append(ldap_tool(info, "ldapadd", "-f", str(ldif)))
                wipe(info, pdn)
                shutil.rmtree(cache_dir, ignore_errors=True)
                t_run, out = minus_floor(provider, tmp)
                assert planned(out).startswith(f"Plan: {n} läggs till, 0 ändras"), planned(out)
                assert entries_below(info, pdn) == n
                applies.append(t_run)
                wipe(info, pdn)
            t_ldapadd = median(adds)
            t_apply = median(applies)
            print(f"hsa: baseline ldapadd of the same entries {t_ldapadd:.2f} s "
                  f"(median of {APPLY_RUNS})")
            print(f"hsa: initial apply, ansible-playbook playbooks/hsa.yml minus the floor "
                  f"{t_apply:.2f} s (median of {APPLY_RUNS}, each minus the floor run before it)")
            ratio = t_apply / t_ldapadd
            ok &= ratio <= 2
            print(f"hsa: initial apply / ldapadd ratio {ratio:.2f}x (goal <= 2x)")

            # The module process alone, and its peak memory (apply into an empty tree).
            shutil.rmtree(cache_dir, ignore_errors=True)
            t_mod_apply, rss_apply, res = run_module(info, provider, tmp)
            assert res["counts"]["add"] == n, res["counts"]
            print(f"hsa: initial apply, module process alone {t_mod_apply:.2f} s "
                  f"= {t_mod_apply / t_ldapadd:.2f}x ldapadd")

            def dump() -> float:
                with (tmp / "dump.ldif").open("w") as fh:
                    return ldap_tool(info, "ldapsearch", "-LLL", "-b", info.base_dn,
                                     "(objectClass=*)", stdin=fh)

            # No-change plans: the description is unchanged since the last run (the
            # apply above stored it), the directory is read and compared every time.
            searches, plans = [], []
            for _ in range(RUNS):
                searches.append(dump())
                t_run, out = minus_floor(provider, tmp, "--check")
                assert planned(out).startswith("Plan: 0 läggs till, 0 ändras, 0 flyttas"), planned(out)
                plans.append(t_run)
            t_search = median(searches)
            t_plan = median(plans)
            print(f"hsa: Ansible's floor (ansible-playbook with one ansible.builtin.ping) "
                  f"{median(floors):.2f} s (median of {len(floors)}, from "
                  f"{min(floors):.2f} to {max(floors):.2f} s)")
            print(f"hsa: baseline ldapsearch dump of the subtree {t_search:.3f} s "
                  f"(median of {RUNS})")
            print(f"hsa: no-change plan, ansible-playbook playbooks/hsa.yml --check minus the "
                  f"floor {t_plan:.3f} s (median of {RUNS}, each minus the floor run before it)")
            ratio = t_plan / t_search
            ok &= ratio <= 4
            print(f"hsa: no-change plan / ldapsearch ratio {ratio:.2f}x (goal <= 4x)")

            mod_plans = [run_module(info, provider, tmp, check=True) for _ in range(3)]
            for _, _, res in mod_plans:
                assert not any(res["counts"].values()), res["counts"]
                assert res["cache"] == {"description": "hit"}, res["cache"]
            t_mod_plan = median(t for t, _, _ in mod_plans)
            rss_plan = max(r for _, r, _ in mod_plans)
            print(f"hsa: no-change plan, module process alone {t_mod_plan:.3f} s "
                  f"= {t_mod_plan / t_search:.2f}x ldapsearch (median of 3)")
            t_off = median(run_module(info, provider, tmp, check=True, cache=False)[0]
                           for _ in range(3))
            print(f"hsa: no-change plan, module process alone, cache: false (description "
                  f"read and validated too) {t_off:.3f} s = {t_off / t_search:.2f}x "
                  f"(median of 3)")
            for stage, seconds in plan_breakdown(info, provider).items():
                print(f"hsa: no-change plan, in process: {stage} {seconds:.3f} s")
            peak = max(rss_apply, rss_plan)
            ok &= peak <= 300
            print(f"hsa: peak memory of the module process {peak:.0f} MB "
                  f"(apply {rss_apply:.0f} MB, plan {rss_plan:.0f} MB; goal <= 300 MB)")
            wipe(info, pdn)

            if not a.no_loop:
                small = tmp / "provider-small"
                write_provider(small, a.loop_people, max(1, a.units * a.loop_people // a.people),
                               max(1, a.commissions * a.loop_people // a.people))
                small_model = load_provider(small).model
                m = (1 + len(small_model.units) + len(small_model.people)
                     + len(small_model.commissions))
                t_ours, _ = playbook_run(info, small, tmp)
                print(f"hsa: {a.loop_people} people ({m} entries): "
                      f"ansible-playbook playbooks/hsa.yml {t_ours:.2f} s")
                wipe(info, desired_entries(small_model, info.base_dn).entries[0].dn)
                t_loop = loop_baseline(info, small_model, tmp)
                ratio = t_loop / t_ours
                ok &= ratio >= 50
                print(f"hsa: baseline ldap_entry loop {t_loop:.2f} s")
                print(f"hsa: speed-up over the ldap_entry loop {ratio:.1f}x (goal >= 50x)")
        finally:
            sb.stop(tmp / "sandbox")
    print(f"hsa: {'all goals met' if ok else 'GOAL MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
