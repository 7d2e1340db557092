#!/usr/bin/env python3
"""Performance of the HSA reconciler against baselines measured in the same run.

Usage: bench_hsa.py [--people N] [--units N] [--commissions N] [--loop-people N] [--no-loop]

On a private sandbox slapd (tools/hsa-sandbox, temporary folder), with a generated
provider (default 10,000 people, 200 units, 1,000 commissions):

1. initial apply (the hsa_reconcile module process, YAML to directory, empty plan cache)
   vs ``ldapadd`` of the same entries from an LDIF file (goal: ≤ 2×; alternating, median
   of three each);
2. a no-change plan (module in check mode) vs one ``ldapsearch`` dump of the subtree
   (goal: ≤ 3×). The goal is checked on the steady state: the run after a run that read
   the same description and directory (the plan cache knows both, docs/hsa.md). Also
   printed, without a goal: the first plan after the apply (description from the cache,
   every entry compared) and a plan with ``cache: false`` (everything read, validated
   and compared). Each figure, the baseline too, is the median of several runs;
3. peak memory (max RSS) of the module process (goal: ≤ 300 MB);
4. at 1,000 people: ``ansible-playbook playbooks/hsa.yml`` end to end vs an
   ``ansible-playbook`` loop of ``community.general.ldap_entry`` over the same entries
   (goal: ≥ 50× faster). That baseline needs python-ldap: it is pip-installed into the
   virtualenv here when missing (it compiles against libldap2-dev and libsasl2-dev).

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
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.mapping import (  # noqa: E402
    desired_entries,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.plan_ldif import (  # noqa: E402
    ldif_line,
)

MU = "ansible_collections.webcert_siths.onboarding.plugins.module_utils"
median = statistics.median
ORG = "SE5599123451"
RUNS = 7  # runs per figure; the median is printed
APPLY_RUNS = 3  # initial applies (each about 5 s at 10,000 people)
PYTHON = sys.executable
RUNNER = f"""
import sys, runpy
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
    out = []
    for e in desired_entries(model, base_dn).entries:
        out.append(ldif_line("dn", e.dn))
        out.extend(ldif_line("objectClass", c) for c in e.object_classes)
        for name, values in e.attributes.items():
            out.extend(ldif_line(name, v) for v in values)
        out.append("")
    return "\n".join(out) + "\n"


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
    start = time.perf_counter()
    with out.open("w") as fh:
        proc = subprocess.Popen([PYTHON, "-c", RUNNER, str(argfile)], stdout=fh,
                                stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    result = json.loads(out.read_text(encoding="utf-8") or "{}")
    if proc.returncode != 0 or result.get("failed"):
        raise SystemExit(f"hsa_reconcile failed: {result.get('msg')}")
    return elapsed, usage.ru_maxrss / 1024, result


def plan_breakdown(info, provider: Path, cache_dir: Path) -> dict[str, float]:
    """Where a no-change plan spends its time, measured in this process (seconds): the
    steps of a plan without the cache, then those of the steady state."""
    import gc

    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.ldap import (
        LdapSettings,
    )
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.mapping import (
        READ_ATTRIBUTES,
        make_entry,
    )
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.plan import (
        make_plan,
    )
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.plan_cache import (
        PlanCache,
    )
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.wire import (
        decode_entry,
        open_wire,
    )

    imports = (f"import sys; sys.path.insert(0, {str(ROOT / '.cache' / 'collections')!r}); "
               "import ansible.module_utils.basic; "
               + "; ".join(f"import {MU}.directory.{name}"
                           for name in ("module_args", "reconciler", "plan_cache", "wire")))
    settings = LdapSettings(uri=info.uri, base_dn=info.base_dn, bind_dn=info.bind_dn,
                            bind_password=info.bind_password, ca_file=info.ca_file)

    def timed(fn):
        start = time.perf_counter()
        value = fn()
        return time.perf_counter() - start, value

    out = {"interpreter start and the steady state's imports (own process)": median(
        timed(lambda: subprocess.run([PYTHON, "-c", imports], check=True))[0]
        for _ in range(5))}
    gc.disable()  # as in the module process
    try:
        t, model = timed(lambda: load_provider(provider).model)
        out["without the cache: YAML load and validation"] = t
        t, desired = timed(lambda: desired_entries(model, info.base_dn))
        out["without the cache: desired entries"] = t

        def read():
            with open_wire(settings) as wire:
                return wire.search(info.base_dn, READ_ATTRIBUTES)
        t, ops = timed(read)
        out["without the cache: directory read (hsa_wire)"] = t
        t, actual = timed(lambda: [make_entry(*decode_entry(op)) for op in ops])
        out["without the cache: decode"] = t
        t, plan = timed(lambda: make_plan(desired, actual, info.base_dn))
        out["without the cache: diff"] = t
        assert not plan.operations, plan.counts

        cache = PlanCache(str(cache_dir))
        t, cached = timed(lambda: cache.load_description(str(provider), info.base_dn, True))
        assert cached is not None, "the plan cache holds no description"
        out["steady state: description from the cache"] = t
        t, seen = timed(lambda: cache.load_seen(info.uri, info.base_dn, READ_ATTRIBUTES,
                                                cached.fingerprints))
        assert seen is not None, "the plan cache holds no read in sync"
        out["steady state: last read in sync from the cache"] = t

        def compare():
            with open_wire(settings) as wire:
                return wire.read(info.base_dn, READ_ATTRIBUTES, expected=seen[0])
        t, answer = timed(compare)
        assert answer.unchanged, "the directory changed"
        out["steady state: directory read, compared with the last read (hsa_wire)"] = t
    finally:
        gc.enable()
    return out


def ensure_python_ldap() -> bool:
    try:
        import ldap  # noqa: F401
        return True
    except ImportError:
        pass
    print("hsa: installing python-ldap into the virtualenv for the ldap_entry baseline")
    r = subprocess.run([PYTHON, "-m", "pip", "install", "-q", "python-ldap"],
                       capture_output=True, text=True, check=False)
    if r.returncode != 0:
        print("hsa: python-ldap could not be installed (needs libldap2-dev and libsasl2-dev):"
              f" {r.stderr.strip().splitlines()[-1:]}")
        return False
    return True


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


def playbook_run(info, provider: Path) -> float:
    env = dict(os.environ, **info.env, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    start = time.perf_counter()
    r = subprocess.run([str(Path(PYTHON).parent / "ansible-playbook"),
                        str(ROOT / "playbooks" / "hsa.yml"), "-e", f"hsa_provider_path={provider}",
                        "-e", f"ansible_python_interpreter={PYTHON}"],
                       env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if r.returncode != 0:
        raise SystemExit(f"playbooks/hsa.yml failed:\n{r.stdout[-2000:]}")
    return elapsed


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
        cache_dir = tmp / "plan-cache"  # the module runs' plan cache, not ~/.cache
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

            # ldapadd and the module's initial apply alternate (each into an empty tree, the
            # module with an empty plan cache: YAML to directory); medians of the runs.
            adds, applies = [], []
            for k in range(APPLY_RUNS):
                adds.append(ldap_tool(info, "ldapadd", "-f", str(ldif)))
                wipe(info, pdn)
                shutil.rmtree(cache_dir, ignore_errors=True)
                applies.append(run_module(info, provider, tmp))
                assert applies[-1][2]["counts"]["add"] == n, applies[-1][2]["counts"]
                if k < APPLY_RUNS - 1:
                    wipe(info, pdn)
            t_ldapadd = median(adds)
            t_apply = median(t for t, _, _ in applies)
            rss_apply = max(r for _, r, _ in applies)
            print(f"hsa: baseline ldapadd of the same LDIF {t_ldapadd:.2f} s "
                  f"(median of {APPLY_RUNS})")
            ratio = t_apply / t_ldapadd
            ok &= ratio <= 2
            print(f"hsa: initial apply (module process) {t_apply:.2f} s "
                  f"(median of {APPLY_RUNS})")
            print(f"hsa: initial apply / ldapadd ratio {ratio:.2f}x (goal <= 2x)")

            def dump() -> float:
                with (tmp / "dump.ldif").open("w") as fh:
                    return ldap_tool(info, "ldapsearch", "-LLL", "-b", info.base_dn,
                                     "(objectClass=*)", stdin=fh)

            t_first, rss_plan, res = run_module(info, provider, tmp, check=True)
            assert not any(res["counts"].values()), res["counts"]
            assert res["cache"]["description"] == "hit", res["cache"]
            run_module(info, provider, tmp, check=True)  # the read is now known in sync
            # Baseline and plan runs alternate, so a change in the machine's load while
            # the bench runs weighs on both alike; each figure is the median of its runs.
            searches, runs = [], []
            for _ in range(RUNS):
                searches.append(dump())
                runs.append(run_module(info, provider, tmp, check=True))
            t_search = median(searches)
            print(f"hsa: baseline ldapsearch dump of the subtree {t_search:.3f} s "
                  f"(median of {RUNS})")
            print(f"hsa: first no-change plan after the apply (description from the cache, "
                  f"every entry compared) {t_first:.2f} s = {t_first / t_search:.2f}x")
            t_off = median(run_module(info, provider, tmp, check=True, cache=False)[0]
                           for _ in range(3))
            print(f"hsa: no-change plan with cache: false (everything read, validated and "
                  f"compared) {t_off:.2f} s = {t_off / t_search:.2f}x (median of 3)")
            for _, _, res in runs:
                assert not any(res["counts"].values()), res["counts"]
                assert res["cache"]["entries_compared"] == 0, res["cache"]
            t_plan = median(t for t, _, _ in runs)
            rss_plan = max(rss_plan, *(r for _, r, _ in runs))
            ratio = t_plan / t_search
            ok &= ratio <= 3
            print(f"hsa: no-change plan (module process, check mode, steady state) "
                  f"{t_plan:.3f} s (median of {RUNS})")
            print(f"hsa: no-change plan / ldapsearch ratio {ratio:.2f}x (goal <= 3x)")
            for stage, seconds in plan_breakdown(info, provider, cache_dir).items():
                print(f"hsa: no-change plan, in process: {stage} {seconds:.3f} s")
            peak = max(rss_apply, rss_plan)
            ok &= peak <= 300
            print(f"hsa: peak memory of the module process {peak:.0f} MB (goal <= 300 MB)")
            wipe(info, pdn)

            if not a.no_loop:
                small = tmp / "provider-small"
                write_provider(small, a.loop_people, max(1, a.units * a.loop_people // a.people),
                               max(1, a.commissions * a.loop_people // a.people))
                small_model = load_provider(small).model
                m = (1 + len(small_model.units) + len(small_model.people)
                     + len(small_model.commissions))
                t_ours = playbook_run(info, small)
                print(f"hsa: {a.loop_people} people ({m} entries): "
                      f"ansible-playbook playbooks/hsa.yml {t_ours:.2f} s")
                wipe(info, desired_entries(small_model, info.base_dn).entries[0].dn)
                if ensure_python_ldap():
                    t_loop = loop_baseline(info, small_model, tmp)
                    ratio = t_loop / t_ours
                    ok &= ratio >= 50
                    print(f"hsa: baseline ldap_entry loop {t_loop:.2f} s")
                    print(f"hsa: speed-up over the ldap_entry loop {ratio:.1f}x (goal >= 50x)")
                else:
                    print("hsa: ldap_entry baseline skipped (python-ldap unavailable)")
        finally:
            sb.stop(tmp / "sandbox")
    print(f"hsa: {'all goals met' if ok else 'GOAL MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
