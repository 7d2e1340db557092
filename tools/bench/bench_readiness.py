#!/usr/bin/env python3
"""Time and peak memory of the readiness computation for many people.

Usage: bench_readiness.py [PEOPLE]   (default 10000)

Generates the same description as bench_validate.py, turns it into directory entries and
back into the "actual" model (as the readiness job reads it from LDAP), makes certificate
findings for everyone, then times ``build_readiness`` and the HTML/JSON rendering alone
(no Ansible, no directory I/O). Baseline in the same run: loading the description, which
every job does first. Part of `make bench`.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))


sys.path.insert(0, str(ROOT / "tools"))
import collection_path  # noqa: E402

collection_path.ensure()

from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.model import (  # noqa: E402
    load_provider,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.mapping import (  # noqa: E402
    DirectoryEntry,
    desired_entries,
    entries_to_model,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.reports.readiness import (  # noqa: E402
    build_readiness,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.reports.readiness_render import (  # noqa: E402
    render_html,
)
from bench_validate import write_description  # noqa: E402

BASE_DN = "c=SE"
TODAY = dt.date(2026, 11, 26)


def certificate_findings(model) -> dict:
    """A valid pair for everyone but every 20th person (expired) - the siths.json shape."""
    people = []
    for i, person in enumerate(model.people):
        cert = {"usage": "auth", "not_after": "2028-01-01T00:00:00+00:00", "days_left": 400,
                "chain_ok": True, "legacy": False, "revoked": False, "problems": [],
                "warnings": [], "serial_number": person.hsa_id}
        expired = i % 20 == 0
        people.append({
            "hsa_id": person.hsa_id, "name": person.full_name, "uses_webcert": True,
            "status": "error" if expired else "ok",
            "auth": cert, "sign": dict(cert, usage="sign"),
            "problems": ["authentication certificate: expired on 2026-01-01"] if expired else [],
            "warnings": [],
        })
    return {"generated": "2026-11-26T00:00:00+00:00", "warn_days": 60, "people": people,
            "unmatched": [], "summary": {}}


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_description(folder, count)
        start = time.perf_counter()
        desired = load_provider(folder).model
        baseline = time.perf_counter() - start
    if desired is None:
        print("readiness: the generated description did not validate", file=sys.stderr)
        return 1
    state = desired_entries(desired, BASE_DN)
    actual = entries_to_model(
        [DirectoryEntry(e.dn, {**e.attributes, "objectClass": e.object_classes})
         for e in state.entries], BASE_DN)
    certificates = certificate_findings(desired)

    tracemalloc.start()
    start = time.perf_counter()
    report = build_readiness(desired, actual, TODAY, certificates=certificates)
    compute = time.perf_counter() - start
    start = time.perf_counter()
    html = render_html(report)
    text = json.dumps(report, ensure_ascii=False)
    render = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    statuses = {}
    for person in report["people"]:
        statuses[person["status"]] = statuses.get(person["status"], 0) + 1
    print(f"readiness: {len(report['people'])} people, {len(report['units'])} units: {statuses}")
    print(f"readiness: build_readiness {compute:.3f} s (under tracemalloc)")
    print(f"readiness: render HTML {len(html) / 1048576:.1f} MB + JSON "
          f"{len(text) / 1048576:.1f} MB in {render:.3f} s")
    print(f"readiness: baseline load_provider {baseline:.3f} s; "
          f"ratio compute/load {compute / baseline:.2f}x")
    print(f"readiness: peak Python memory {peak / 1048576:.1f} MB")
    expected_blocked = len(range(0, len(desired.people), 20))
    return 0 if statuses.get("blocked", 0) >= expected_blocked else 1


if __name__ == "__main__":
    sys.exit(main())
