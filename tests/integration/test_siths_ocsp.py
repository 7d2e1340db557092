"""OCSP revocation checks against a local responder on 127.0.0.1 (tools/siths_testpki.py)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import (
    use_language,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.siths.ocsp import (
    OcspClient,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.siths.verify import (
    PersonRef,
    build_trust,
    load_crls,
    parse_certificates,
    verify,
)
from cryptography.hazmat.primitives import serialization
from siths_testpki import OcspResponder, TestPki

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)



@pytest.fixture(autouse=True)
def english():
    """The messages are checked in English (the catalog's msgids); Swedish is the default."""
    with use_language("en"):
        yield

@pytest.fixture(scope="module")
def pki():
    return TestPki(now=NOW)


@pytest.fixture(scope="module")
def trust(pki):
    return build_trust([("bundle.pem", pki.trust_bundle_pem())])


@pytest.fixture
def responder(pki):
    with OcspResponder(pki) as r:
        pki.ocsp_url = r.url
        yield r
    pki.ocsp_url = None


_count = iter(range(1, 10_000))


def run(pki, trust, scenario="valid", *, mode="ocsp", crls=None, timeout=5.0, status=None,
        responder=None):
    n = next(_count)
    person = PersonRef(f"SE5565594230-O{n:04d}", f"Ocsp Person {n}")
    certs = pki.person(person.hsa_id, person.full_name, scenario)
    if status and responder is not None:
        for c in certs:
            responder.statuses[c.cert.serial_number] = status
    recs = [r for c in certs for r in parse_certificates(c.pem(), f"file:{c.usage}")]
    client = OcspClient(NOW, timeout=timeout)
    report = verify([person], recs, trust, crls, NOW, revocation=mode, ocsp=client,
                    require_status=True)
    return report["people"][0]


def finding(person, code):
    return next((f for f in person["findings"] if f["code"] == code), None)


def test_good_answer_is_ok(pki, trust, responder):
    p = run(pki, trust)
    assert p["status"] == "ok", p["findings"]
    assert responder.requests >= 2  # one request per certificate


def test_revoked_answer_is_an_error_that_asks_for_a_new_card(pki, trust, responder):
    p = run(pki, trust, status="revoked", responder=responder)
    assert p["status"] == "error" and p["auth"]["revoked"] is True
    f = finding(p, "revoked")
    assert "(OCSP http://127.0.0.1:" in f["message"] and "key_compromise" in f["it"]
    assert "needs a new SITHS card" in f["fix"]


def test_unknown_answer_is_an_error(pki, trust, responder):
    p = run(pki, trust, status="unknown", responder=responder)
    assert p["status"] == "error"
    assert finding(p, "ocsp_unknown") is not None


@pytest.mark.parametrize("behaviour, why", [
    ("stale", "out of date"),
    ("wrong_signer", "signature does not verify"),
    ("delegated_no_eku", "lacks the extended key usage OCSPSigning"),
    ("delegated_other_ca", "not issued by the certificate's CA"),
    ("wrong_nonce", "another nonce"),
    ("error", "INTERNAL_ERROR"),
])
def test_an_unusable_answer_is_a_warning_that_status_is_unknown(pki, trust, responder,
                                                                behaviour, why):
    responder.behaviour = behaviour
    p = run(pki, trust)
    assert p["status"] == "warning", p["findings"]
    f = finding(p, "revocation_unknown")
    assert f["message"].startswith("Could not establish the revocation status")
    assert why in f["it"], f["it"]


@pytest.mark.parametrize("behaviour", ["delegated", "no_nonce"])
def test_a_delegated_responder_and_a_responder_without_nonces_are_accepted(
        pki, trust, responder, behaviour):
    responder.behaviour = behaviour
    assert run(pki, trust)["status"] == "ok"


def test_a_wrongly_signed_answer_cannot_hide_a_revocation(pki, trust, responder):
    """A forged 'good' does not establish status; the CRL still tells (mode both)."""
    responder.behaviour = "wrong_signer"
    certs = pki.person("SE5565594230-O9001", "Both Modes", "revoked")
    crls = load_crls([("c", b"".join(pki.crl(ca).public_bytes(serialization.Encoding.PEM)
                                     for ca in (pki.root, pki.issuing)))], trust, NOW)
    recs = [r for c in certs for r in parse_certificates(c.pem(), "file:x")]
    p = verify([PersonRef("SE5565594230-O9001", "Both Modes")], recs, trust, crls, NOW,
               revocation="both", ocsp=OcspClient(NOW))["people"][0]
    assert p["auth"]["revoked"] is True and p["status"] == "error"


def test_both_modes_a_current_ocsp_answer_makes_up_for_a_stale_crl(pki, trust, responder):
    stale = pki.crl(pki.issuing, next_update=NOW - dt.timedelta(days=30))
    crls = load_crls([("c", b"".join(c.public_bytes(serialization.Encoding.PEM)
                                     for c in (pki.crl(pki.root), stale)))], trust, NOW)
    assert run(pki, trust, mode="both", crls=crls)["status"] == "ok"
    assert run(pki, trust, mode="crl", crls=crls)["status"] == "error"


def test_an_unreachable_responder_is_a_warning_within_the_timeout(pki, trust):
    with OcspResponder(pki) as r:
        url = r.url
    pki.ocsp_url = url  # nobody listens there any more
    try:
        start = time.monotonic()
        p = run(pki, trust, timeout=2.0)
        assert time.monotonic() - start < 10
    finally:
        pki.ocsp_url = None
    assert p["status"] == "warning"
    f = finding(p, "revocation_unknown")
    assert "could not be reached" in f["it"] and url in f["it"]


def test_a_responder_slower_than_the_timeout_is_a_warning(pki, trust, responder):
    responder.behaviour = "hang"
    start = time.monotonic()
    p = run(pki, trust, timeout=1.0)
    assert time.monotonic() - start < responder.hang_seconds * 2  # not one wait per retry
    assert p["status"] == "warning"
    assert "could not be reached" in finding(p, "revocation_unknown")["it"]


def test_an_unreachable_responder_costs_a_few_timeouts_not_one_per_certificate(pki, trust,
                                                                              responder):
    responder.behaviour = "hang"
    people, recs = [], []
    for n in range(20):
        person = PersonRef(f"SE5565594230-H{n:04d}", f"Hang {n}")
        people.append(person)
        recs += [r for c in pki.person(person.hsa_id, person.full_name)
                 for r in parse_certificates(c.pem(), "file:x")]
    client = OcspClient(NOW, timeout=0.5, workers=2)
    start = time.monotonic()
    report = verify(people, recs, trust, None, NOW, revocation="ocsp", ocsp=client,
                    require_status=True)
    assert time.monotonic() - start < 10  # 40 certificates x 0.5 s / 2 workers would be 10 s
    assert report["summary"]["warning"] == 20
    assert responder.requests < 10
    assert any("not asked again" in f["it"] for p in report["people"] for f in p["findings"])


def test_a_certificate_without_an_ocsp_address_in_ocsp_mode(pki, trust):
    person = PersonRef("SE5565594230-O9002", "No Aia")
    recs = [r for c in pki.person(person.hsa_id, person.full_name)
            for r in parse_certificates(c.pem(), "file:x")]
    strict = verify([person], recs, trust, None, NOW, revocation="ocsp", ocsp=OcspClient(NOW),
                    require_status=True)
    assert strict["people"][0]["status"] == "warning"
    relaxed = verify([person], recs, trust, None, NOW, revocation="ocsp", ocsp=OcspClient(NOW))
    assert relaxed["people"][0]["status"] == "ok"
    assert any("name no OCSP responder" in x["message"] for x in relaxed["inputs"]["problems"])


def test_a_ca_revoked_according_to_ocsp_breaks_every_card_under_it():
    pki = TestPki(now=NOW)
    with OcspResponder(pki, cas=[pki.root]) as responder:
        ca = pki.intermediate("Ocsp Issuing CA", pki.root, path_length=0, ocsp_url=responder.url)
        responder.statuses[ca.cert.serial_number] = "revoked"
        trust = build_trust([("b", pki.trust_bundle_pem() + ca.pem())])
        person = PersonRef("SE5565594230-O9003", "Ca Revoked")
        cert = pki.issue(ca, hsa_id=person.hsa_id, full_name=person.full_name, usage="auth",
                         not_before=NOW - dt.timedelta(days=1),
                         not_after=NOW + dt.timedelta(days=99))
        recs = parse_certificates(cert.public_bytes(serialization.Encoding.PEM), "file:a")
        p = verify([person], recs, trust, None, NOW, revocation="ocsp",
                   ocsp=OcspClient(NOW))["people"][0]
    assert finding(p, "ca_revoked") is not None, p["findings"]
    assert "'Ocsp Issuing CA' has been revoked by 'SITHS e-id Root CA v2'" in \
        finding(p, "ca_revoked")["message"]
    assert responder.requests == 1  # the CA certificate; the card names no responder
