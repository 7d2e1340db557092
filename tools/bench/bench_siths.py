#!/usr/bin/env python3
"""Time and peak memory of verifying many SITHS certificates.

Usage: bench_siths.py [CERTIFICATES]   (default 10000; half as many people, one pair each)

Builds a test PKI (tools/siths_testpki.py) with a mix of valid, expiring, expired and
revoked people plus a CRL, serialises every certificate to PEM, then measures:

* baseline: what cannot be avoided — parse each PEM and check its one signature against
  the issuing CA with ``cryptography`` directly;
* siths: ``parse_certificates`` + ``verify`` (chains, CRL, matching, report), whose CA
  chains are verified once per CA and cached.

Prints both times, the ratio, certificates per second and peak Python memory
(tracemalloc). Separately (not part of the figure above) it measures OCSP: certificates
carrying the address of a local responder (``siths_testpki.OcspResponder`` on
127.0.0.1) checked with ``revocation="ocsp"``, one request per certificate, 16 in
parallel. Exits 1 when a report is wrong (so the bench is also a check).
Part of `make bench`.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))


sys.path.insert(0, str(ROOT / "tools"))
import collection_path  # noqa: E402

collection_path.ensure()

from ansible_collections.webcert_siths.onboarding.plugins.module_utils.siths.verify import (  # noqa: E402
    PersonRef,
    build_trust,
    load_crls,
    parse_certificates,
    verify,
)
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from siths_testpki import OcspResponder, TestPki  # noqa: E402

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
CYCLE = ["valid"] * 16 + ["expiring", "expired", "revoked", "missing_sign"]


def build(count: int):
    pki = TestPki(now=NOW)
    people, pems = [], []
    n = 0
    while len(pems) < count:
        hsa_id = f"SE5565594230-B{n:06d}"
        people.append(PersonRef(hsa_id, f"Bench Person {n}"))
        for c in pki.person(hsa_id, f"Bench Person {n}", CYCLE[n % len(CYCLE)]):
            pems.append((f"file:{hsa_id}-{c.usage}.pem", c.pem()))
        n += 1
    crl = b"".join(pki.crl(ca).public_bytes(serialization.Encoding.PEM)
                  for ca in (pki.root, pki.issuing))
    return pki, people, pems[:count], crl


def baseline(pki: TestPki, pems) -> float:
    start = time.perf_counter()
    issuer = pki.issuing.cert
    for _, pem in pems:
        cert = x509.load_pem_x509_certificate(pem)
        try:
            cert.verify_directly_issued_by(issuer)
        except Exception:  # noqa: S112 - only the cost matters here
            continue
    return time.perf_counter() - start


def run(pki: TestPki, people, pems, crl):
    trust = build_trust([("bundle", pki.trust_bundle_pem())])
    crls = load_crls([("crl", crl)], trust, NOW)
    records = []
    for source, pem in pems:
        records.extend(parse_certificates(pem, source))
    return verify(people, records, trust, crls, NOW)


def ocsp_bench(count: int) -> tuple[float, int, dict]:
    """(seconds, requests served, summary) for ``count`` certificates checked by OCSP."""
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.siths.ocsp import (
        OcspClient,
    )

    pki = TestPki(now=NOW)
    with OcspResponder(pki) as responder:
        pki.ocsp_url = responder.url
        people, pems = [], []
        n = 0
        while len(pems) < count:
            hsa_id = f"SE5565594230-O{n:06d}"
            people.append(PersonRef(hsa_id, f"Ocsp Person {n}"))
            pems += [(f"file:{hsa_id}-{c.usage}.pem", c.pem())
                     for c in pki.person(hsa_id, f"Ocsp Person {n}")]
            n += 1
        trust = build_trust([("bundle", pki.trust_bundle_pem())])
        records = [r for source, pem in pems[:count] for r in parse_certificates(pem, source)]
        start = time.perf_counter()
        report = verify(people, records, trust, None, NOW, revocation="ocsp",
                        ocsp=OcspClient(NOW, timeout=10), require_status=True)
        elapsed = time.perf_counter() - start
        return elapsed, responder.requests, report["summary"]


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    t0 = time.perf_counter()
    pki, people, pems, crl = build(count)
    generated = time.perf_counter() - t0
    base = baseline(pki, pems)
    start = time.perf_counter()
    report = run(pki, people, pems, crl)
    elapsed = time.perf_counter() - start
    tracemalloc.start()
    run(pki, people, pems, crl)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    s = report["summary"]
    print(f"siths: {len(pems)} certificates, {len(people)} people "
          f"(test PKI generated in {generated:.2f} s)")
    print(f"siths: baseline (parse + one signature each) {base:.3f} s")
    print(f"siths: parse + verify + report {elapsed:.3f} s = {elapsed / base:.2f}x baseline, "
          f"{len(pems) / elapsed:,.0f} certificates/s")
    print(f"siths: peak Python memory {peak / 1048576:.1f} MB")
    print(f"siths: {s['ok']} ok, {s['warning']} warning, {s['error']} error, "
          f"{s['unmatched']} unmatched")
    expected_people = len(people)
    wrong = s["people"] != expected_people or s["unmatched"] != 0 or s["ok"] == 0
    ocsp_count = min(count, 1000)
    seconds, requests, summary = ocsp_bench(ocsp_count)
    print(f"siths-ocsp: {ocsp_count} certificates checked by OCSP against a local responder "
          f"in {seconds:.3f} s = {ocsp_count / seconds:,.0f} certificates/s "
          f"({requests} requests; {summary['ok']} people ok, {summary['warning']} warning)")
    wrong = wrong or requests < ocsp_count or summary["ok"] != summary["people"]
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
