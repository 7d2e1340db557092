"""SITHS certificate verification on a SITHS-shaped test PKI (tools/siths_testpki.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import (
    use_language,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.siths.verify import (
    PersonRef,
    build_trust,
    classify_usage,
    load_crls,
    mask_personnummer,
    parse_certificates,
    render_table,
    verify,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from siths_testpki import SCENARIOS, TestPki

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
CERT_KEYS = {"source", "subject", "issuer", "serial_number", "usage", "not_before", "not_after",
             "days_left", "chain_ok", "legacy", "revoked", "problems"}
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


def _pid(n: int) -> str:
    return f"SE5565594230-P{n:04d}"


def records_of(certs, prefix="file:"):
    out = []
    for c in certs:
        out += parse_certificates(c.pem(), f"{prefix}{c.hsa_id}-{c.usage}.pem")
    return out


def run_one(pki, trust, scenario, *, crls=None, warn_days=60, person=None):
    hsa_id = _pid(SCENARIOS.index(scenario) + 1 if scenario in SCENARIOS else 99)
    person = person or PersonRef(hsa_id, f"Person {scenario}")
    certs = pki.person(person.hsa_id, person.full_name, scenario)
    report = verify([person], records_of(certs), trust, crls, NOW, warn_days)
    return report["people"][0], report


def crl_index(pki, trust, *crls):
    return load_crls([(f"crl{i}.pem", c.public_bytes(PEM)) for i, c in enumerate(crls)],
                     trust, NOW)


# -- the scenarios the issue names ---------------------------------------------------
def test_valid_pair_is_ok(pki, trust):
    p, report = run_one(pki, trust, "valid")
    assert p["status"] == "ok", p
    assert p["auth"]["usage"] == "auth" and p["sign"]["usage"] == "sign"
    assert p["auth"]["chain_ok"] and p["sign"]["chain_ok"]
    assert p["auth"]["serial_number"] == p["hsa_id"]
    assert p["problems"] == [] and p["warnings"] == []
    assert set(p["auth"]) >= CERT_KEYS
    assert report["summary"] == {"people": 1, "ok": 1, "warning": 0, "error": 0,
                                 "unmatched": 0, "blocking": 0}
    assert report["generated"] == NOW.isoformat()


def test_expired_certificate_is_an_error(pki, trust):
    p, _ = run_one(pki, trust, "expired")
    assert p["status"] == "error"
    assert p["auth"]["days_left"] < 0
    assert any("expired on 2026-11-16" in x for x in p["problems"]), p["problems"]


def test_not_yet_valid_certificate_is_an_error(pki, trust):
    p, _ = run_one(pki, trust, "not_yet_valid")
    assert p["status"] == "error"
    assert any("not valid until 2026-12-06" in x for x in p["problems"])


def test_expiring_soon_is_a_warning_with_days_left(pki, trust):
    p, _ = run_one(pki, trust, "expiring")
    assert p["status"] == "warning"
    assert p["auth"]["days_left"] == 20
    assert "authentication certificate: expires in 20 days (2026-12-16)" in p["warnings"]


def test_expiring_outside_the_threshold_is_ok(pki, trust):
    p, report = run_one(pki, trust, "expiring", warn_days=10)
    assert p["status"] == "ok"
    assert report["warn_days"] == 10


def test_wrong_hsa_id_in_serial_number_is_an_error(pki, trust):
    p, _ = run_one(pki, trust, "wrong_hsa_id")
    assert p["status"] == "error"
    expected = p["hsa_id"]
    assert any(f"is {expected}X, expected {expected}" in x for x in p["problems"]), p["problems"]
    assert p["auth"]["chain_ok"]  # the chain is fine: only the identity is wrong


def test_missing_signing_certificate(pki, trust):
    p, _ = run_one(pki, trust, "missing_sign")
    assert p["status"] == "error"
    assert p["sign"] is None and p["auth"] is not None
    assert "no signing certificate found (key usage nonRepudiation)" in p["problems"]


def test_fake_issuer_with_the_right_name_fails_the_signature_check(pki, trust):
    p, _ = run_one(pki, trust, "fake_issuer")
    assert p["auth"]["issuer"] == "CN=SITHS e-id Person HSA-id 3 CA v1,O=Inera AB,C=SE"
    assert p["auth"]["chain_ok"] is False
    assert p["status"] == "error"
    assert any("signature does not match the trusted CA" in x for x in p["problems"])


def test_legacy_chain_is_named_legacy_when_not_trusted(pki, trust):
    p, _ = run_one(pki, trust, "legacy")
    assert p["auth"]["legacy"] is True and p["auth"]["chain_ok"] is False
    assert p["status"] == "error"
    assert "legacy CA 'SITHS Type 3 CA v1'" in p["problems"][0]


def test_legacy_chain_stays_an_error_even_when_trusted(pki):
    trust = build_trust([("all.pem", pki.trust_bundle_pem(include_legacy=True))])
    p, report = run_one(pki, trust, "legacy")
    assert p["auth"]["chain_ok"] is True and p["auth"]["legacy"] is True
    assert p["status"] == "error"
    assert any("legacy CA 'SITHS Root CA v1'" in x["message"]
               for x in report["inputs"]["problems"])


@pytest.mark.parametrize("prefix", ["TEST ", "PP ", "SYSTEMTEST "])
def test_legacy_test_chains_are_legacy_too(prefix):
    pki = TestPki(prefix=prefix, now=NOW)
    trust = build_trust([("b", pki.trust_bundle_pem())])
    p, _ = run_one(pki, trust, "legacy")
    assert p["auth"]["legacy"] is True
    q, _ = run_one(pki, trust, "valid")
    assert q["status"] == "warning"  # a test CA is reported, not silently accepted
    assert any("test CA" in w for w in q["warnings"])


def test_revoked_by_crl(pki, trust):
    person = PersonRef(_pid(500), "Rut Revoked")
    certs = pki.person(person.hsa_id, person.full_name, "revoked")
    crls = crl_index(pki, trust, pki.crl(pki.issuing))
    report = verify([person], records_of(certs), trust, crls, NOW)
    p = report["people"][0]
    assert p["auth"]["revoked"] is True and p["sign"]["revoked"] is True
    assert p["status"] == "error"
    assert any("was revoked on 2026-11-24" in x for x in p["problems"])
    revoked = [f for f in p["findings"] if f["code"] == "revoked"]
    assert revoked and all("reason key_compromise" in f["it"] for f in revoked)


def test_without_crl_a_revoked_certificate_is_not_known_revoked(pki, trust):
    person = PersonRef(_pid(501), "Rolf Revoked")
    certs = pki.person(person.hsa_id, person.full_name, "revoked")
    p = verify([person], records_of(certs), trust, None, NOW)["people"][0]
    assert p["auth"]["revoked"] is False and p["status"] == "ok"


def test_crl_signed_by_the_wrong_key_is_ignored_and_flagged(pki, trust):
    person = PersonRef(_pid(502), "Rakel Revoked")
    certs = pki.person(person.hsa_id, person.full_name, "revoked")
    forged = pki.crl(pki.issuing, signer=pki.fake_issuing.key)
    crls = crl_index(pki, trust, forged)
    report = verify([person], records_of(certs), trust, crls, NOW)
    p = report["people"][0]
    assert p["auth"]["revoked"] is False
    assert any("CRL signature does not verify" in x["message"] and x["severity"] == "error"
               for x in report["inputs"]["problems"])
    assert any("revocation not checked" in w for w in p["auth"]["warnings"])


def test_out_of_date_crl_is_used_but_flagged(pki, trust):
    person = PersonRef(_pid(503), "Stina Stale")
    certs = pki.person(person.hsa_id, person.full_name, "revoked")
    stale = pki.crl(pki.issuing, next_update=NOW - dt.timedelta(days=3))
    report = verify([person], records_of(certs), trust, crl_index(pki, trust, stale), NOW)
    assert report["people"][0]["auth"]["revoked"] is True
    assert any("out of date" in x["message"] for x in report["inputs"]["problems"])


def test_crl_from_an_untrusted_issuer_is_ignored(pki, trust):
    crls = crl_index(pki, trust, pki.crl(pki.legacy_issuing))
    assert not crls.covered
    assert "not in the trust bundle" in crls.problems[0].message


def test_unreadable_crl_is_an_input_problem(trust):
    crls = load_crls([("bad.crl", b"\x30\x82\x01"), ("x.pem", b"-----BEGIN X509 CRL-----\n!!\n"
                                                             b"-----END X509 CRL-----\n")],
                     trust, NOW)
    messages = [p.message for p in crls.problems]
    assert any("not a readable CRL" in m for m in messages)
    assert any("not base64" in m for m in messages)


# -- chains -------------------------------------------------------------------------
def test_issuing_ca_missing_from_the_bundle(pki):
    trust = build_trust([("root.pem", pki.root.pem())])
    p, _ = run_one(pki, trust, "valid")
    assert p["auth"]["chain_ok"] is False
    assert any("is not in the trust bundle" in x for x in p["problems"])


def test_root_missing_from_the_bundle(pki):
    trust = build_trust([("issuing.pem", pki.issuing.pem())])
    p, _ = run_one(pki, trust, "valid")
    assert p["auth"]["chain_ok"] is False
    assert any("the trust bundle lacks 'SITHS e-id Root CA v2'" in x for x in p["problems"])


def test_intermediate_signed_by_a_fake_root_is_rejected(pki):
    # the real root and the forged issuing CA (right name, signed by another root)
    trust = build_trust([("b.pem", pki.root.pem() + pki.fake_issuing.pem())])
    p, _ = run_one(pki, trust, "fake_issuer")
    assert p["auth"]["chain_ok"] is False
    assert any("is not signed by the trusted CA" in x for x in p["problems"])


def test_expired_ca_breaks_the_chain():
    pki = TestPki(now=NOW)
    later = NOW + dt.timedelta(days=3100)  # the issuing CA ends after 3000 days
    trust = build_trust([("b", pki.trust_bundle_pem())])
    person = PersonRef(_pid(600), "Ulla Late")
    cert = pki.issue(pki.issuing, hsa_id=person.hsa_id, full_name=person.full_name,
                     usage="auth", not_before=NOW, not_after=later + dt.timedelta(days=10))
    recs = parse_certificates(cert.public_bytes(PEM), "file:x")
    p = verify([person], recs, trust, None, later)["people"][0]
    assert p["auth"]["chain_ok"] is False
    assert any("CA 'SITHS e-id Person HSA-id 3 CA v1' expired" in x for x in p["problems"])


def test_trust_bundle_problems_are_reported_not_raised(pki):
    leaf = pki.person(_pid(700), "Leaf Only")[0]
    trust = build_trust([("junk.pem", b"junk"), ("leaf.pem", leaf.pem())])
    assert not trust.by_subject
    kinds = [p.severity for p in trust.problems]
    assert kinds.count("error") == 2 and "warning" in kinds


# -- corrupted input ------------------------------------------------------------------
def test_truncated_der_is_a_finding(pki, trust):
    der = pki.person(_pid(800), "Trunc")[0].der()
    recs = parse_certificates(der[: len(der) // 2], "file:trunc.der")
    report = verify([], recs, trust, None, NOW)
    assert report["summary"]["unmatched"] == 1
    assert "not a readable X.509 certificate" in report["unmatched"][0]["problems"][0]


def test_pem_with_junk_keeps_the_good_certificates(pki):
    a, s = pki.person(_pid(801), "Junk Bundle")
    data = (b"some notes\n" + a.pem() + b"-----BEGIN CERTIFICATE-----\nnot*base64\n"
            b"-----END CERTIFICATE-----\n" + s.pem() + b"-----BEGIN CERTIFICATE-----\nMIIB")
    recs = parse_certificates(data, "file:bundle.pem")
    assert [r.readable for r in recs] == [True, False, True, False]
    assert [r.source for r in recs] == [f"file:bundle.pem#{i}" for i in range(1, 5)]
    assert "not base64" in recs[1].problems[0]
    assert "cut off" in recs[3].problems[0]


@pytest.mark.parametrize("data, message", [
    (b"", "empty input"),
    (b"\x00\x01garbage", "not a readable X.509 certificate"),
    (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "no CERTIFICATE block"),
])
def test_garbage_never_raises(data, message):
    recs = parse_certificates(data, "file:g")
    assert len(recs) == 1 and not recs[0].readable
    assert message in recs[0].problems[0]


def _custom_cert(pki, attrs, key_usage=True, usage="auth"):
    key = ec.generate_private_key(ec.SECP256R1())
    b = (x509.CertificateBuilder().subject_name(x509.Name(attrs))
         .issuer_name(pki.issuing.cert.subject).public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(NOW - dt.timedelta(days=1))
         .not_valid_after(NOW + dt.timedelta(days=300)))
    if key_usage:
        b = b.add_extension(x509.KeyUsage(
            digital_signature=usage in ("auth", "both"),
            content_commitment=usage in ("sign", "both"),
            key_encipherment=False, data_encipherment=False, key_agreement=False,
            key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False),
            critical=True)
    return b.sign(pki.issuing.key, hashes.SHA256())


def test_unexpected_subject_without_serial_number_is_unmatched_with_a_problem(pki, trust):
    cert = _custom_cert(pki, [x509.NameAttribute(NameOID.COMMON_NAME, "Okänd Person")])
    recs = parse_certificates(cert.public_bytes(PEM), "file:odd.pem")
    report = verify([PersonRef(_pid(802), "Someone Else")], recs, trust, None, NOW)
    assert report["summary"]["unmatched"] == 1
    assert "no serialNumber" in report["unmatched"][0]["problems"][0]
    assert report["unmatched"][0]["chain_ok"] is True


def test_personnummer_in_subject_is_masked(pki, trust):
    cert = _custom_cert(pki, [x509.NameAttribute(NameOID.COMMON_NAME, "Per Person"),
                              x509.NameAttribute(NameOID.SERIAL_NUMBER, "197501011234")])
    report = verify([], parse_certificates(cert.public_bytes(PEM), "file:p"), trust, None, NOW)
    item = report["unmatched"][0]
    assert "1234" not in item["subject"] and item["serial_number"] == "19750101****"
    assert any("Person ID" in w for w in item["warnings"])
    assert mask_personnummer("id 19121212-1212 x") == "id 19121212-**** x"


@pytest.mark.parametrize("usage, expected", [
    ("auth", "auth"), ("sign", "sign"), ("both", "sign"), ("none", "unknown"),
])
def test_key_usage_tells_auth_from_sign(pki, usage, expected):
    attrs = [x509.NameAttribute(NameOID.SERIAL_NUMBER, _pid(803))]
    assert classify_usage(_custom_cert(pki, attrs, usage=usage)) == expected


def test_certificate_without_key_usage_is_unknown(pki):
    cert = _custom_cert(pki, [x509.NameAttribute(NameOID.SERIAL_NUMBER, _pid(804))],
                        key_usage=False)
    assert classify_usage(cert) == "unknown"
    rec = parse_certificates(cert.public_bytes(PEM), "file:k")[0]
    assert any("neither authentication" in p for p in rec.problems)


def test_unreadable_certificate_on_a_persons_entry_is_a_warning_for_them(pki, trust):
    person = PersonRef(_pid(805), "Eva Entry")
    certs = pki.person(person.hsa_id, person.full_name)
    recs = records_of(certs) + parse_certificates(b"\x30\x03\x02", "ldap:cn=x", owner=person.hsa_id)
    p = verify([person], recs, trust, None, NOW)["people"][0]
    assert p["status"] == "warning"
    assert any("unreadable certificate at ldap:cn=x" in w for w in p["warnings"])


# -- matching and selection -----------------------------------------------------------
def test_certificates_matching_nobody_are_listed(pki, trust):
    stranger = pki.person(_pid(900), "Stranger Danger")
    report = verify([PersonRef(_pid(901), "Known Person")], records_of(stranger), trust,
                    None, NOW)
    assert report["summary"]["unmatched"] == 2
    assert {u["serial_number"] for u in report["unmatched"]} == {_pid(900)}
    assert report["people"][0]["problems"][0].startswith("no SITHS certificate found")


def test_siths_serial_number_overrides_the_hsa_id(pki, trust):
    person = PersonRef(_pid(902), "Kim Kort", serial_number="SE5565594230-CARD9")
    certs = pki.person("SE5565594230-CARD9", person.full_name)
    p = verify([person], records_of(certs), trust, None, NOW)["people"][0]
    assert p["status"] == "ok" and p["auth"]["serial_number"] == "SE5565594230-CARD9"


def test_hsa_model_person_is_accepted(pki, trust):
    class Siths:
        serial_number = None
        card_number = "123"

    class ModelPerson:  # the attributes hsa_model.Person has
        hsa_id, full_name, uses_webcert, siths = _pid(903), "Mo Model", False, Siths()

    p = verify([ModelPerson()], records_of(pki.person(_pid(903), "Mo Model")), trust, None,
               NOW)["people"][0]
    assert p["status"] == "ok" and p["uses_webcert"] is False


def test_best_pair_wins_over_an_old_expired_pair(pki, trust):
    person = PersonRef(_pid(904), "Ny Kort")
    old = pki.person(person.hsa_id, person.full_name, "expired")
    new = pki.person(person.hsa_id, person.full_name, "valid")
    p = verify([person], records_of(old + new), trust, None, NOW)["people"][0]
    assert p["status"] == "ok"
    assert p["auth"]["not_after"] == new[0].cert.not_valid_after_utc.isoformat()
    assert p["certificates_seen"] == 4


def test_same_certificate_from_two_sources_is_counted_once(pki, trust):
    person = PersonRef(_pid(905), "Dubbel Dubbelsson")
    certs = pki.person(person.hsa_id, person.full_name)
    recs = records_of(certs, "file:") + records_of(certs, "host:pc-01/")
    report = verify([person], recs, trust, None, NOW)
    p = report["people"][0]
    assert p["certificates_seen"] == 2 and len(p["auth"]["sources"]) == 2
    assert report["inputs"]["certificates"] == 2


def test_ca_certificates_among_inputs_are_skipped(pki, trust):
    recs = parse_certificates(pki.trust_bundle_pem(), "host:pc/Root")
    report = verify([], recs, trust, None, NOW)
    assert report["unmatched"] == [] and report["inputs"]["ca_certificates_skipped"] == len(pki.current_cas())


def test_people_not_using_webcert_are_not_blocking(pki, trust):
    person = PersonRef(_pid(906), "Admin Adminsson", uses_webcert=False)
    report = verify([person], [], trust, None, NOW)
    assert report["people"][0]["status"] == "error"
    assert report["summary"]["blocking"] == 0 and report["summary"]["error"] == 1


def test_table_has_a_row_per_person_and_the_summary(pki, trust):
    people = [PersonRef(_pid(907), "Tabell Ett"), PersonRef(_pid(908), "Tabell Två")]
    recs = records_of(pki.person(_pid(907), "Tabell Ett", "expiring"))
    lines = render_table(verify(people, recs, trust, None, NOW))
    assert lines[0].split()[:2] == ["HSA-id", "Name"]
    assert any(_pid(907) in x and "WARNING" in x for x in lines)
    assert any(_pid(908) in x and "ERROR" in x for x in lines)
    assert "2 people: 0 ok, 1 warning, 1 error" in lines[-1]


def test_a_thousand_people_in_one_run():
    pki = TestPki(now=NOW)
    trust = build_trust([("b", pki.trust_bundle_pem())])
    cycle = ["valid"] * 7 + ["expired", "expiring", "missing_sign"]
    people, recs = [], []
    for n in range(1000):
        person = PersonRef(_pid(n), f"Person {n}")
        people.append(person)
        recs += records_of(pki.person(person.hsa_id, person.full_name, cycle[n % 10]))
    report = verify(people, recs, trust, crl_index(pki, trust, pki.crl(pki.issuing), pki.crl(pki.root)), NOW)
    assert report["summary"] == {"people": 1000, "ok": 700, "warning": 100, "error": 200,
                                 "unmatched": 0, "blocking": 200}
    assert report["inputs"]["certificates"] == 1900
