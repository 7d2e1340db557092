"""Differential test: the verifier against ``openssl verify`` as a TLS relying party.

Every generated chain is judged by both; the verdict on the *authentication*
certificate (what Webcert's login sees) must agree, or the case is in ``ALLOWED``
with the reason the toolkit rightly differs.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from dataclasses import dataclass, field

import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.siths.verify import (
    PersonRef,
    build_trust,
    load_crls,
    parse_certificates,
    verify,
)
from cryptography import x509
from siths_testpki import Ca, TestPki, new_key, pem_of

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
OPENSSL = shutil.which("openssl")
OPENSSL_ARGS = ["-x509_strict", "-crl_check_all", "-purpose", "sslclient", "-auth_level", "2"]

# case -> why the toolkit's verdict differs from OpenSSL's (and should)
ALLOWED = {
    "legacy_trusted": "OpenSSL knows no CA names: the old SITHS Root CA v1 tree was withdrawn "
                      "on 2022-11-07, so a card under it is refused even when an old trust "
                      "store still holds its CAs",
    "carelink_trusted": "the same for the older SITHS CA v3 (Carelink) tree",
    "weak_ec_224": "security level 2 accepts P-224 (112 bits); the toolkit asks for EC >= 256 "
                   "bits, the smallest curve SITHS uses",
    "crl_stale_in_grace": "a CRL out of date for less than the grace (7 days) is a warning, not "
                          "a refusal: the card is most likely fine and the operator must "
                          "refresh the CRL",
    "root_crl_missing": "without the root's CRL the issuing CA's status is unknown: a warning "
                        "(supply the root CRL), not a refusal of every card",
    "forged_newer_crl": "OpenSSL picks the newest CRL, which is forged, and fails; the toolkit "
                        "ignores a CRL whose signature does not verify and uses the genuine one",
}

# why OpenSSL refuses (so a refusal for an unrelated reason does not count as agreement)
OPENSSL_REASONS = {
    "expired": "certificate has expired",
    "not_yet_valid": "certificate is not yet valid",
    "fake_issuer": "unable to get local issuer certificate",
    "weak_rsa": "EE certificate key too weak",
    "sha1": "digest algorithm too weak",
    "no_client_auth": "unsuitable certificate purpose",
    "revoked": "certificate revoked",
    "legacy_untrusted": "unable to get local issuer certificate",
    "issuing_ca_revoked": "certificate revoked",
    "path_length": "path length constraint exceeded",
    "ca_without_key_cert_sign": "invalid CA certificate",
    "weak_ca_key": "CA certificate key too weak",
    "sha1_ca": "digest algorithm too weak",
    "crl_stale_in_grace": "CRL has expired",
    "crl_stale_past_grace": "CRL has expired",
    "root_crl_missing": "unable to get certificate CRL",
    "forged_newer_crl": "CRL signature failure",
}


@dataclass
class Case:
    name: str
    leaf: x509.Certificate
    cas: list[Ca]
    crls: list[x509.CertificateRevocationList] = field(default_factory=list)


def _cases() -> list[Case]:
    pki = TestPki(now=NOW)
    base = [pki.root, pki.issuing, pki.reserve]
    day = dt.timedelta(days=1)

    def fresh(cas, **overrides):
        return [overrides.get(ca.name) or pki.crl(ca) for ca in cas]

    def auth(scenario, n):
        return pki.person(f"SE5565594230-D{n:04d}", f"Diff Person {n}", scenario)[0].cert

    def leaf_under(ca, n):
        return pki.issue(ca, hsa_id=f"SE5565594230-D{n:04d}", full_name=f"Diff {n}",
                         usage="auth", not_before=NOW - day, not_after=NOW + 300 * day)

    cases = []
    for n, scenario in enumerate(["valid", "expired", "not_yet_valid", "fake_issuer",
                                  "weak_rsa", "sha1", "no_client_auth", "no_eku", "reserve",
                                  "revoked"]):
        cases.append(Case(scenario, auth(scenario, n), base, []))
    for c in cases:
        c.crls = fresh(base)  # after "revoked" was issued, so its CRL lists it
    cases.append(Case("weak_ec_224", auth("weak_ec", 20), base, fresh(base)))
    cases.append(Case("legacy_untrusted", auth("legacy", 21), base, fresh(base)))
    legacy = [pki.legacy_root, pki.legacy_issuing]
    cases.append(Case("legacy_trusted", auth("legacy", 22), base + legacy,
                      fresh(base + legacy)))
    cases.append(Case("carelink_trusted", auth("carelink", 23), [*base, pki.carelink],
                      fresh([*base, pki.carelink])))
    # a revoked issuing CA
    other = TestPki(now=NOW)
    revoked_ca = [other.root, other.issuing]
    cases.append(Case("issuing_ca_revoked", leaf_under(other.issuing, 30), revoked_ca,
                      [other.crl(other.root, {other.issuing.cert.serial_number}),
                       other.crl(other.issuing)]))
    # path length: a sub-CA below the pathLenConstraint 0 issuing CA
    sub = pki.intermediate("Diff Sub CA", pki.issuing)
    cases.append(Case("path_length", leaf_under(sub, 31), [*base, sub], fresh([*base, sub])))
    no_sign = pki.intermediate("Diff No-Sign CA", pki.root, key_cert_sign=False)
    cases.append(Case("ca_without_key_cert_sign", leaf_under(no_sign, 32), [*base, no_sign],
                      fresh([*base, no_sign])))
    weak_ca = pki.intermediate("Diff Weak CA", pki.root, key=new_key("rsa1024"))
    cases.append(Case("weak_ca_key", leaf_under(weak_ca, 33), [*base, weak_ca],
                      fresh([*base, weak_ca])))
    sha1_ca = pki.intermediate("Diff SHA-1 CA", pki.root, sha1=True)
    cases.append(Case("sha1_ca", leaf_under(sha1_ca, 34), [*base, sha1_ca],
                      fresh([*base, sha1_ca])))
    # CRL freshness
    stale3 = pki.crl(pki.issuing, next_update=NOW - 3 * day)
    stale10 = pki.crl(pki.issuing, next_update=NOW - 10 * day)
    cases.append(Case("crl_stale_in_grace", auth("valid", 40), base,
                      fresh(base, **{pki.issuing.name: stale3})))
    cases.append(Case("crl_stale_past_grace", auth("valid", 41), base,
                      fresh(base, **{pki.issuing.name: stale10})))
    cases.append(Case("root_crl_missing", auth("valid", 42), base,
                      fresh([pki.issuing, pki.reserve])))
    genuine = fresh(base)
    forged = pki.crl(pki.issuing, set(), signer=pki.fake_issuing.key,
                     next_update=NOW + 9 * day, last_update=NOW - dt.timedelta(hours=1))
    cases.append(Case("forged_newer_crl", auth("valid", 43), base, [*genuine, forged]))
    return cases


CASES = _cases()


def toolkit_accepts(case: Case) -> tuple[bool, list[str]]:
    trust = build_trust([("bundle", b"".join(ca.pem() for ca in case.cas))])
    crls = load_crls([("crls", b"".join(pem_of(c) for c in case.crls))], trust, NOW)
    recs = parse_certificates(pem_of(case.leaf), "file:leaf.pem")
    serial = recs[0].serial_number
    report = verify([PersonRef(serial, "x")], recs, trust, crls, NOW)
    auth = report["people"][0]["auth"]
    return not auth["problems"], auth["problems"]


def openssl_accepts(case: Case, tmp_path) -> tuple[bool, str]:
    assert OPENSSL, "openssl is missing: tools/ensure-system-deps installs it (bindep.txt)"
    (tmp_path / "ca.pem").write_bytes(b"".join(ca.pem() for ca in case.cas))
    (tmp_path / "crl.pem").write_bytes(b"".join(pem_of(c) for c in case.crls))
    (tmp_path / "leaf.pem").write_bytes(pem_of(case.leaf))
    run = subprocess.run(
        [OPENSSL, "verify", *OPENSSL_ARGS, "-attime", str(int(NOW.timestamp())),
         "-CAfile", str(tmp_path / "ca.pem"), "-CRLfile", str(tmp_path / "crl.pem"),
         str(tmp_path / "leaf.pem")],
        capture_output=True, text=True, timeout=60, check=False)
    return run.returncode == 0, (run.stdout + run.stderr).strip()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_verifier_agrees_with_openssl_or_says_why_not(case, tmp_path):
    ours, problems = toolkit_accepts(case)
    theirs, output = openssl_accepts(case, tmp_path)
    if not theirs and case.name in OPENSSL_REASONS:
        assert OPENSSL_REASONS[case.name] in output, output
    if case.name in ALLOWED:
        assert ours != theirs, (
            f"{case.name} is allowlisted but both now say {ours}: remove it from ALLOWED")
    else:
        assert ours == theirs, (
            f"{case.name}: toolkit {'accepts' if ours else 'refuses'} ({problems}), "
            f"openssl {'accepts' if theirs else 'refuses'} ({output})")


def test_the_cases_cover_both_verdicts():
    names = {c.name for c in CASES}
    assert set(ALLOWED) <= names
    assert {"valid", "no_eku", "reserve"} <= names  # accepted by both
