"""What a TLS relying party checks beyond the Webcert basics (issue 15), on the test PKI.

Each test names a certificate the verifier once reported as ok although a relying
party such as Webcert's login refuses it (or the reverse).
"""

from __future__ import annotations

import datetime as dt

import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import (
    use_language,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.siths.verify import (
    PersonRef,
    build_trust,
    load_crls,
    parse_certificates,
    render_table,
    verify,
)
from cryptography.hazmat.primitives import serialization
from siths_testpki import TestPki

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
PEM = serialization.Encoding.PEM



@pytest.fixture(autouse=True)
def english():
    """The messages are checked in English (the catalog's msgids); Swedish is the default."""
    with use_language("en"):
        yield

@pytest.fixture(scope="module")
def pki() -> TestPki:
    return TestPki(now=NOW)


@pytest.fixture(scope="module")
def trust(pki):
    return build_trust([("bundle.pem", pki.trust_bundle_pem())])


def crls_of(pki, trust, *crls):
    return load_crls([(f"crl{i}.pem", c.public_bytes(PEM)) for i, c in enumerate(crls)],
                     trust, NOW)


def fresh_crls(pki, trust):
    return crls_of(pki, trust, pki.crl(pki.root), pki.crl(pki.issuing), pki.crl(pki.reserve))


def check(pki, trust, scenario, crls=None, n=1, **kwargs):
    person = PersonRef(f"SE5565594230-R{n:04d}", f"Person {scenario}")
    recs = []
    for c in pki.person(person.hsa_id, person.full_name, scenario):
        recs += parse_certificates(c.pem(), f"file:{c.usage}.pem")
    return verify([person], recs, trust, crls, NOW, **kwargs)["people"][0]


def codes(person, severity=None):
    return {f["code"] for f in person["findings"] if severity in (None, f["severity"])}


def test_a_valid_card_with_fresh_crls_for_every_ca_is_ok(pki, trust):
    p = check(pki, trust, "valid", fresh_crls(pki, trust))
    assert p["status"] == "ok", p["findings"]
    assert p["card"] == "card"


# 1. a revoked issuing CA ----------------------------------------------------------
def test_a_revoked_issuing_ca_is_noticed():
    pki = TestPki(now=NOW)
    trust = build_trust([("b", pki.trust_bundle_pem())])
    crls = crls_of(pki, trust, pki.crl(pki.root, {pki.issuing.cert.serial_number}),
                   pki.crl(pki.issuing))
    p = check(pki, trust, "valid", crls)
    assert p["status"] == "error"
    assert "ca_revoked" in codes(p, "error")
    assert any("The issuing CA 'SITHS e-id Person HSA-id 3 CA v1' has been revoked" in x
               for x in p["problems"]), p["problems"]
    assert p["auth"]["chain_ok"] is False


def test_without_the_roots_crl_ca_revocation_is_reported_unchecked(pki, trust):
    p = check(pki, trust, "valid", crls_of(pki, trust, pki.crl(pki.issuing)))
    assert p["status"] == "warning"
    assert any("no valid CRL supplied for 'SITHS e-id Root CA v2'" in w for w in p["warnings"])


# 2. path length ------------------------------------------------------------------------
def test_a_sub_ca_below_a_path_length_zero_ca_is_refused():
    pki = TestPki(now=NOW)
    sub = pki.intermediate("Exempel Sub CA", pki.issuing)  # issuing has pathLenConstraint 0
    trust = build_trust([("b", pki.trust_bundle_pem() + sub.pem())])
    person = PersonRef("SE5565594230-R0100", "Sub Person")
    cert = pki.issue(sub, hsa_id=person.hsa_id, full_name=person.full_name, usage="auth",
                     not_before=NOW - dt.timedelta(days=1), not_after=NOW + dt.timedelta(days=99))
    p = verify([person], parse_certificates(cert.public_bytes(PEM), "file:a"), trust, None,
               NOW)["people"][0]
    assert "path_length" in codes(p, "error")
    assert any("'SITHS e-id Person HSA-id 3 CA v1' allows no further CA below it" in x
               for x in p["problems"]), p["problems"]


def test_a_ca_without_key_cert_sign_cannot_issue():
    pki = TestPki(now=NOW)
    bad = pki.intermediate("Exempel No-Sign CA", pki.root, key_cert_sign=False)
    trust = build_trust([("b", pki.trust_bundle_pem() + bad.pem())])
    person = PersonRef("SE5565594230-R0101", "No Sign")
    cert = pki.issue(bad, hsa_id=person.hsa_id, full_name=person.full_name, usage="auth",
                     not_before=NOW - dt.timedelta(days=1), not_after=NOW + dt.timedelta(days=99))
    p = verify([person], parse_certificates(cert.public_bytes(PEM), "file:a"), trust, None,
               NOW)["people"][0]
    assert "ca_key_usage" in codes(p, "error")


# 3. extended key usage ------------------------------------------------------------------
def test_an_authentication_certificate_without_client_auth_is_an_error(pki, trust):
    p = check(pki, trust, "no_client_auth", n=3)
    assert p["status"] == "error"
    finding = next(f for f in p["findings"] if f["code"] == "eku_client_auth")
    assert finding["certificate"] == "auth"
    assert "cannot be used to log in to Webcert" in finding["message"]
    assert "emailProtection (1.3.6.1.5.5.7.3.4)" in finding["it"]
    assert "clientAuth (1.3.6.1.5.5.7.3.2)" in finding["it"]
    assert "1.3.6" not in finding["message"]  # OIDs only in the IT line


def test_an_authentication_certificate_without_any_eku_is_a_warning(pki, trust):
    p = check(pki, trust, "no_eku", n=4)
    assert p["status"] == "warning"
    assert "eku_missing" in codes(p, "warning")


def test_a_signing_certificate_needs_no_client_auth(pki, trust):
    p = check(pki, trust, "valid", n=5)
    assert not any(f["certificate"] == "sign" and f["code"].startswith("eku")
                   for f in p["findings"])


# 4. weak keys -----------------------------------------------------------------------------
@pytest.mark.parametrize("scenario, text", [("weak_rsa", "RSA 1024 bits"),
                                            ("weak_ec", "EC 224 bits")])
def test_weak_keys_are_errors_that_say_which(pki, trust, scenario, text):
    p = check(pki, trust, scenario, n=6)
    assert p["status"] == "error"
    assert any(f"too weak ({text}" in x for x in p["problems"]), p["problems"]


def test_a_weak_ca_key_breaks_the_chain():
    pki = TestPki(now=NOW)
    weak = pki.intermediate("Exempel Weak CA", pki.root, key=__import__(
        "siths_testpki").new_key("rsa1024"))
    trust = build_trust([("b", pki.trust_bundle_pem() + weak.pem())])
    person = PersonRef("SE5565594230-R0102", "Weak Ca")
    cert = pki.issue(weak, hsa_id=person.hsa_id, full_name=person.full_name, usage="auth",
                     not_before=NOW - dt.timedelta(days=1), not_after=NOW + dt.timedelta(days=99))
    p = verify([person], parse_certificates(cert.public_bytes(PEM), "file:a"), trust, None,
               NOW)["people"][0]
    assert any("The CA 'Exempel Weak CA' has a key that is too weak (RSA 1024 bits)" in x
               for x in p["problems"]), p["problems"]


# 5. stale CRLs ------------------------------------------------------------------------------
def test_a_stale_crl_gives_the_person_a_warning_on_their_own_row(pki, trust):
    stale = pki.crl(pki.issuing, next_update=NOW - dt.timedelta(days=3))
    p = check(pki, trust, "valid", crls_of(pki, trust, pki.crl(pki.root), stale), n=7)
    assert p["status"] == "warning"
    assert "crl_stale" in codes(p, "warning")
    assert any("could not be established with a current CRL" in w for w in p["warnings"])


def test_a_crl_stale_past_the_grace_is_an_error(pki, trust):
    stale = pki.crl(pki.issuing, next_update=NOW - dt.timedelta(days=10))
    crls = crls_of(pki, trust, pki.crl(pki.root), stale)
    assert check(pki, trust, "valid", crls, n=8)["status"] == "error"
    assert check(pki, trust, "valid", crls, n=9, crl_grace_days=30)["status"] == "warning"


def test_a_revocation_on_a_stale_crl_still_counts(pki, trust):
    person_certs = pki.person("SE5565594230-R0010", "Stale Revoked", "revoked")
    stale = pki.crl(pki.issuing, next_update=NOW - dt.timedelta(days=3))
    recs = [r for c in person_certs for r in parse_certificates(c.pem(), "file:x")]
    p = verify([PersonRef("SE5565594230-R0010", "Stale Revoked")], recs, trust,
               crls_of(pki, trust, pki.crl(pki.root), stale), NOW)["people"][0]
    assert p["auth"]["revoked"] is True and p["status"] == "error"


# 6. SHA-1 ------------------------------------------------------------------------------------
def test_sha1_is_named_not_called_a_forgery(pki, trust):
    p = check(pki, trust, "sha1", n=11)
    assert p["status"] == "error"
    assert any("is signed with SHA-1, which is no longer accepted" in x for x in p["problems"])
    assert not any("forged" in x or "does not match" in x for x in p["problems"]), p["problems"]


def test_a_sha1_signed_ca_is_named_too():
    pki = TestPki(now=NOW)
    old = pki.intermediate("Exempel SHA-1 CA", pki.root, sha1=True)
    trust = build_trust([("b", pki.trust_bundle_pem() + old.pem())])
    person = PersonRef("SE5565594230-R0103", "Sha Ca")
    cert = pki.issue(old, hsa_id=person.hsa_id, full_name=person.full_name, usage="auth",
                     not_before=NOW - dt.timedelta(days=1), not_after=NOW + dt.timedelta(days=99))
    p = verify([person], parse_certificates(cert.public_bytes(PEM), "file:a"), trust, None,
               NOW)["people"][0]
    assert any("The CA certificate 'Exempel SHA-1 CA' is signed with SHA-1" in x
               for x in p["problems"]), p["problems"]


# 7. legacy trees named correctly -----------------------------------------------------------
def test_siths_ca_v3_is_its_own_legacy_tree(pki, trust):
    p = check(pki, trust, "carelink", n=12)
    assert p["status"] == "error" and p["auth"]["legacy"] is True
    text = " ".join(p["problems"])
    assert "the old SITHS CA v3 tree (Carelink)" in text
    assert "Root CA v1" not in text


def test_type_3_ca_is_named_part_of_the_root_ca_v1_tree(pki, trust):
    p = check(pki, trust, "legacy", n=13)
    assert any("part of the old SITHS Root CA v1 tree" in x for x in p["problems"])


def test_a_trusted_carelink_ca_is_named_with_its_tree(pki):
    trust = build_trust([("b", pki.trust_bundle_pem(include_legacy=True))])
    messages = [x.message for x in trust.problems]
    assert any("'SITHS CA v3' of the old SITHS CA v3 tree" in m for m in messages), messages


# reserve cards --------------------------------------------------------------------------------
def test_a_reserve_card_is_valid_and_reported_as_one(pki, trust):
    p = check(pki, trust, "reserve", fresh_crls(pki, trust), n=14)
    assert p["status"] == "ok", p["findings"]
    assert p["card"] == "reserve_card" and p["auth"]["card"] == "reserve_card"
    assert p["auth"]["issuer"].startswith("CN=SITHS e-id Person HSA-id 2 CA v1")


def test_the_table_names_the_kind_of_card(pki, trust):
    people = [PersonRef("SE5565594230-R0020", "Res Erv"), PersonRef("SE5565594230-R0021", "Or Din")]
    recs = [r for c in pki.person("SE5565594230-R0020", "Res Erv", "reserve")
            + pki.person("SE5565594230-R0021", "Or Din") for r in parse_certificates(c.pem(), "f")]
    lines = render_table(verify(people, recs, trust, None, NOW))
    assert "Card" in lines[0].split()
    assert any("SE5565594230-R0020" in x and "reserve card" in x for x in lines)
    assert any("SE5565594230-R0021" in x and "SITHS card" in x for x in lines)
    with use_language("sv"):  # in Swedish, in the words of Inera's guide
        lines = render_table(verify(people, recs, trust, None, NOW))
    assert any("SE5565594230-R0020" in x and "reservkort" in x for x in lines)
    assert any("SE5565594230-R0021" in x and "SITHS-kort" in x for x in lines)
    assert "2 personer: 2 ok" in lines[-1], lines


def test_a_revoked_certificate_says_a_new_card_is_needed(pki, trust):
    certs = pki.person("SE5565594230-R0015", "Re Voked", "revoked")
    recs = [r for c in certs for r in parse_certificates(c.pem(), "file:x")]
    p = verify([PersonRef("SE5565594230-R0015", "Re Voked")], recs, trust,
               fresh_crls(pki, trust), NOW)["people"][0]
    fix = next(f["fix"] for f in p["findings"] if f["code"] == "revoked")
    assert "needs a new SITHS card" in fix and "minasidor" not in fix
