#!/usr/bin/env python3
"""A test PKI with the names and shape of SITHS, for tests and ``make demo``.

Nothing here is a real SITHS certificate: every key is generated on the spot.
The names, the HSA-id in the subject ``serialNumber`` and the key usages follow
the real SITHS profile (see ``docs/siths.md``) so the verifier is tested on the
shape it will meet.

Importable API::

    pki = TestPki(prefix="TEST ", now=datetime(2026, 11, 26, tzinfo=timezone.utc))
    certs = pki.person("SE5565594230-P001", "Anna Andersson", scenario="expiring")
    pki.crl(pki.issuing)                 # CRL with every certificate issued "revoked"
    pki.trust_bundle_pem()               # root + issuing + function CA (PEM)

CLI::

    python tools/siths_testpki.py --out build/pki \\
        --people SE5565594230-P001 SE5565594230-P002:expired "SE5565594230-P003:legacy:Bo Berg"

writes ``trust/`` (current CAs), ``trust-legacy/`` (the old SITHS Root CA v1 and SITHS
CA v3 trees), ``crl/`` (the root's and each issuing CA's CRL, listing the "revoked"
people) and ``crl-legacy/``,
``certs/<hsa-id>-auth.pem`` / ``-sign.pem`` and ``manifest.json``. ``--publish-ldap``
also stores each person's certificates in ``userCertificate;binary`` on the directory
entry with that ``hsaIdentity`` (connection from the ``HSA_LDAP_*`` variables).

Keys are EC P-256 so that thousands of certificates take seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.server
import json
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

SCENARIOS = (
    "valid",
    "expired",
    "expiring",
    "not_yet_valid",
    "wrong_hsa_id",
    "missing_sign",
    "fake_issuer",
    "legacy",
    "revoked",
    "reserve",
    "carelink",
    "weak_rsa",
    "weak_ec",
    "sha1",
    "no_client_auth",
    "no_eku",
)

# A policy OID under Inera's arc (1.2.752.74) for the test profile. It is a
# placeholder: the real SITHS person-certificate policy OIDs were not confirmed.
TEST_POLICY_OID = x509.ObjectIdentifier("1.2.752.74.8.3")

ROOT_NAME = "SITHS e-id Root CA v2"
ISSUING_NAME = "SITHS e-id Person HSA-id 3 CA v1"
RESERVE_NAME = "SITHS e-id Person HSA-id 2 CA v1"
FUNCTION_NAME = "SITHS e-id Function CA v1"
LEGACY_ROOT_NAME = "SITHS Root CA v1"
LEGACY_ISSUING_NAME = "SITHS Type 3 CA v1"
CARELINK_NAME = "SITHS CA v3"

DAY = dt.timedelta(days=1)

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


# -- the builders every test PKI in the project uses ------------------------------
def new_key(kind: str = "ec256") -> PrivateKey:
    """``ec256`` (the default: fast), ``ec224``, ``ec384``, ``rsa1024``, ``rsa2048``..."""
    if kind.startswith("ec"):
        curve = {"224": ec.SECP224R1, "256": ec.SECP256R1, "384": ec.SECP384R1}[kind[2:]]
        return ec.generate_private_key(curve())
    if kind.startswith("rsa"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))
    raise ValueError(f"unknown key kind {kind!r}")


def make_name(common_name: str, org: str = "Inera AB") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def pem_of(obj) -> bytes:
    """PEM of a certificate, CRL or private key (PKCS#8, unencrypted: test keys only)."""
    if isinstance(obj, x509.Certificate | x509.CertificateRevocationList):
        return obj.public_bytes(serialization.Encoding.PEM)
    return obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def ca_certificate(subject: x509.Name, key: PrivateKey, *, issuer: x509.Name | None = None,
                   signer_key: PrivateKey | None = None, not_before: dt.datetime,
                   not_after: dt.datetime, path_length: int | None = None,
                   key_cert_sign: bool = True, ocsp_url: str | None = None,
                   serial: int | None = None) -> x509.Certificate:
    """A CA certificate; self-signed unless ``issuer`` and ``signer_key`` are given."""
    signer_key = signer_key or key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=key_cert_sign,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            signer_key.public_key()), critical=False)
    )
    if ocsp_url:
        builder = builder.add_extension(_aia(ocsp_url), critical=False)
    return builder.sign(signer_key, hashes.SHA256())


def tls_leaf(ca_cert: x509.Certificate, ca_key: PrivateKey, common_name: str, eku, *,
             san: list | None = None, org: str = "Sandbox", not_before: dt.datetime,
             not_after: dt.datetime) -> tuple[PrivateKey, x509.Certificate]:
    """A TLS server or client certificate (``eku`` e.g. ``ExtendedKeyUsageOID.SERVER_AUTH``)."""
    key = new_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(make_name(common_name, org))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            ca_key.public_key()), critical=False)
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def _aia(ocsp_url: str) -> x509.AuthorityInformationAccess:
    return x509.AuthorityInformationAccess(
        [x509.AccessDescription(AuthorityInformationAccessOID.OCSP,
                                x509.UniformResourceIdentifier(ocsp_url))])


def sha1_signed(cert: x509.Certificate, signer_key: PrivateKey) -> x509.Certificate:
    """``cert`` re-signed with SHA-1 (``cryptography`` no longer signs with SHA-1).

    The certificate is re-encoded with pyasn1 (a dependency of python-ldap): the
    signature algorithm in the TBS part and outside it is swapped and the TBS is signed.
    """
    from pyasn1.codec.der import decoder, encoder
    from pyasn1.type import univ
    from pyasn1_modules import rfc5280

    parsed, _ = decoder.decode(cert.public_bytes(serialization.Encoding.DER),
                               asn1Spec=rfc5280.Certificate())
    if isinstance(signer_key, ec.EllipticCurvePrivateKey):
        oid = "1.2.840.10045.4.1"  # ecdsa-with-SHA1
    else:
        oid = "1.2.840.113549.1.1.5"  # sha1WithRSAEncryption
    algorithm = rfc5280.AlgorithmIdentifier()
    algorithm["algorithm"] = univ.ObjectIdentifier(oid)
    if not isinstance(signer_key, ec.EllipticCurvePrivateKey):
        algorithm["parameters"] = univ.Null("")
    tbs = parsed["tbsCertificate"]
    tbs["signature"] = algorithm
    tbs_der = encoder.encode(tbs)
    if isinstance(signer_key, ec.EllipticCurvePrivateKey):
        signature = signer_key.sign(tbs_der, ec.ECDSA(hashes.SHA1()))  # noqa: S303 - the point
    else:
        signature = signer_key.sign(tbs_der, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303
    parsed["signatureAlgorithm"] = algorithm
    parsed["signature"] = univ.BitString.fromOctetString(signature)
    return x509.load_der_x509_certificate(encoder.encode(parsed))


@dataclass
class Ca:
    """A CA in the test PKI: its certificate, key and what it issued."""

    name: str
    cert: x509.Certificate
    key: PrivateKey
    issued: list[x509.Certificate] = field(default_factory=list)

    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class IssuedCert:
    """One person certificate: which person, which usage, the certificate."""

    hsa_id: str
    usage: str  # "auth" | "sign"
    scenario: str
    cert: x509.Certificate

    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)


_name = make_name  # the name used in older callers


class TestPki:
    """A SITHS-shaped PKI. ``prefix`` (e.g. ``"TEST "``) is put before every CA name.

    ``ocsp_url`` puts an Authority Information Access OCSP address in every person
    certificate (see ``OcspResponder``).
    """

    __test__ = False  # not a pytest test class

    def __init__(self, prefix: str = "", now: dt.datetime | None = None,
                 organization: str = "Exempelkliniken AB", ocsp_url: str | None = None) -> None:
        self.prefix = prefix
        self.now = now or dt.datetime.now(dt.UTC)
        self.organization = organization
        self.ocsp_url = ocsp_url
        self.revoked: set[int] = set()  # serials issued in the "revoked" scenario
        self.root = self.self_signed(prefix + ROOT_NAME)
        self.issuing = self.intermediate(prefix + ISSUING_NAME, self.root, path_length=0)
        self.reserve = self.intermediate(prefix + RESERVE_NAME, self.root, path_length=0)
        self.function = self.intermediate(prefix + FUNCTION_NAME, self.root, path_length=0)
        self.legacy_root = self.self_signed(prefix + LEGACY_ROOT_NAME)
        self.legacy_issuing = self.intermediate(prefix + LEGACY_ISSUING_NAME, self.legacy_root)
        self.carelink = self.self_signed(prefix + CARELINK_NAME, org="Carelink")
        # Same name as the real issuing CA, different key: a forgery.
        self.fake_root = self.self_signed(prefix + ROOT_NAME)
        self.fake_issuing = self.intermediate(prefix + ISSUING_NAME, self.fake_root)

    # -- CAs ---------------------------------------------------------------
    def self_signed(self, name: str, *, key: PrivateKey | None = None, org: str = "Inera AB",
                    path_length: int | None = None) -> Ca:
        key = key or new_key()
        cert = ca_certificate(make_name(name, org), key, not_before=self.now - 3650 * DAY,
                              not_after=self.now + 3650 * DAY, path_length=path_length)
        return Ca(name, cert, key)

    def intermediate(self, name: str, parent: Ca, *, key: PrivateKey | None = None,
                     path_length: int | None = None, key_cert_sign: bool = True,
                     not_after: dt.datetime | None = None, sha1: bool = False,
                     ocsp_url: str | None = None) -> Ca:
        key = key or new_key()
        cert = ca_certificate(make_name(name), key, issuer=parent.cert.subject,
                              signer_key=parent.key, not_before=self.now - 3000 * DAY,
                              not_after=not_after or self.now + 3000 * DAY,
                              path_length=path_length, key_cert_sign=key_cert_sign,
                              ocsp_url=ocsp_url)
        if sha1:
            cert = sha1_signed(cert, parent.key)
        parent.issued.append(cert)
        return Ca(name, cert, key)

    # -- people ------------------------------------------------------------
    def issue(self, ca: Ca, *, hsa_id: str, full_name: str, usage: str,
              not_before: dt.datetime, not_after: dt.datetime,
              key: PrivateKey | None = None, eku: list | None = None,
              sha1: bool = False, ocsp_url: str | None = None) -> x509.Certificate:
        """Issue one person certificate (usage ``auth`` or ``sign``) from ``ca``.

        ``eku``: the extended key usages (default: clientAuth on authentication
        certificates, none on signing certificates; ``[]`` for no extension).
        """
        key = key or new_key()
        given, _, surname = full_name.partition(" ")
        attrs = [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.organization),
            x509.NameAttribute(NameOID.GIVEN_NAME, given or full_name),
            x509.NameAttribute(NameOID.SURNAME, surname or full_name),
            x509.NameAttribute(NameOID.COMMON_NAME, full_name),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, hsa_id),
        ]
        is_sign = usage == "sign"
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(attrs))
            .issuer_name(ca.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=not is_sign, content_commitment=is_sign,
                    key_encipherment=not is_sign, data_encipherment=False,
                    key_agreement=False, key_cert_sign=False, crl_sign=False,
                    encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.CertificatePolicies([x509.PolicyInformation(TEST_POLICY_OID, None)]),
                critical=False,
            )
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca.key.public_key()), critical=False)
        )
        if eku is None:
            eku = [] if is_sign else [ExtendedKeyUsageOID.CLIENT_AUTH]
        if eku:
            builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
        if ocsp_url or self.ocsp_url:
            builder = builder.add_extension(_aia(ocsp_url or self.ocsp_url), critical=False)
        cert = builder.sign(ca.key, hashes.SHA256())
        if sha1:
            cert = sha1_signed(cert, ca.key)
        ca.issued.append(cert)
        return cert

    def person(self, hsa_id: str, full_name: str = "Test Testsson",
               scenario: str = "valid") -> list[IssuedCert]:
        """The certificates a person's card would hold in ``scenario``."""
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
        now = self.now
        not_before, not_after = now - 365 * DAY, now + 700 * DAY
        ca = self.issuing
        subject_id = hsa_id
        key_kind, eku, sha1 = "ec256", None, False
        if scenario == "expired":
            not_before, not_after = now - 1500 * DAY, now - 10 * DAY
        elif scenario == "expiring":
            not_after = now + 20 * DAY
        elif scenario == "not_yet_valid":
            not_before = now + 10 * DAY
        elif scenario == "wrong_hsa_id":
            subject_id = hsa_id + "X"
        elif scenario == "fake_issuer":
            ca = self.fake_issuing
        elif scenario == "legacy":
            ca = self.legacy_issuing
            not_before = now - 2000 * DAY
        elif scenario == "carelink":
            ca = self.carelink
            not_before = now - 2000 * DAY
        elif scenario == "reserve":
            ca = self.reserve
        elif scenario == "weak_rsa":
            key_kind = "rsa1024"
        elif scenario == "weak_ec":
            key_kind = "ec224"
        elif scenario == "sha1":
            sha1 = True
        elif scenario == "no_client_auth":
            eku = [ExtendedKeyUsageOID.EMAIL_PROTECTION]
        elif scenario == "no_eku":
            eku = []
        key = new_key(key_kind)
        usages = ("auth",) if scenario == "missing_sign" else ("auth", "sign")
        out = []
        for usage in usages:
            cert = self.issue(ca, hsa_id=subject_id, full_name=full_name, usage=usage,
                              not_before=not_before, not_after=not_after, key=key,
                              eku=eku if usage == "auth" else None, sha1=sha1)
            out.append(IssuedCert(hsa_id, usage, scenario, cert))
        if scenario == "revoked":
            self.revoked.update(c.cert.serial_number for c in out)
        return out

    # -- CRLs and bundles --------------------------------------------------
    def crl(self, ca: Ca, serials: set[int] | None = None, *,
            signer: PrivateKey | None = None,
            next_update: dt.datetime | None = None,
            last_update: dt.datetime | None = None) -> x509.CertificateRevocationList:
        """A CRL from ``ca`` listing ``serials`` (default: every scenario-revoked serial
        this CA issued). ``signer`` signs with another key (a forged CRL)."""
        if serials is None:
            mine = {c.serial_number for c in ca.issued}
            serials = self.revoked & mine
        next_update = next_update or self.now + 7 * DAY
        last_update = last_update or min(self.now - DAY, next_update - 7 * DAY)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(ca.cert.subject)
            .last_update(last_update)
            .next_update(next_update)
        )
        for serial in sorted(serials):
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(self.now - 2 * DAY)
                .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
                .build()
            )
        return builder.sign(signer or ca.key, hashes.SHA256())

    def current_cas(self) -> list[Ca]:
        return [self.root, self.issuing, self.reserve, self.function]

    def legacy_cas(self) -> list[Ca]:
        return [self.legacy_root, self.legacy_issuing, self.carelink]

    def trust_bundle_pem(self, include_legacy: bool = False) -> bytes:
        cas = self.current_cas() + (self.legacy_cas() if include_legacy else [])
        return b"".join(ca.pem() for ca in cas)

    def responder_cert(self, ca: Ca, *, eku: bool = True) -> tuple[x509.Certificate, PrivateKey]:
        """A delegated OCSP responder certificate issued by ``ca`` (EKU OCSPSigning)."""
        key = new_key()
        builder = (
            x509.CertificateBuilder()
            .subject_name(make_name(f"{ca.name} OCSP responder"))
            .issuer_name(ca.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now - 30 * DAY)
            .not_valid_after(self.now + 30 * DAY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        if eku:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
        return builder.sign(ca.key, hashes.SHA256()), key


# -- a local OCSP responder ------------------------------------------------------
class OcspResponder:
    """An OCSP responder on 127.0.0.1 for the test PKI, built on ``cryptography``.

    ``statuses`` maps a serial number to ``good``/``revoked``/``unknown`` (default
    ``good`` for anything a known CA issued, ``unknown`` otherwise). ``behaviour``:
    ``normal`` (signed by the CA), ``delegated`` (by a responder certificate with EKU
    OCSPSigning), ``delegated_no_eku``, ``delegated_other_ca`` (a responder certificate
    from another CA), ``stale`` (nextUpdate passed), ``wrong_signer``
    (signed by an unrelated key), ``no_nonce`` (nonce not echoed), ``wrong_nonce``,
    ``error`` (an ``internalError`` response), ``hang`` (answers after ``hang_seconds``).
    ``requests`` counts the requests served.
    """

    def __init__(self, pki: TestPki, cas: list[Ca] | None = None,
                 behaviour: str = "normal") -> None:
        self.pki = pki
        self.cas = cas or [pki.issuing, pki.reserve, pki.root]
        self.behaviour = behaviour
        self.statuses: dict[int, str] = {}
        self.requests = 0
        self.hang_seconds = 3.0
        self._lock = threading.Lock()
        self._server: http.server.ThreadingHTTPServer | None = None
        self._delegates: dict[str, tuple[x509.Certificate, PrivateKey]] = {}
        self._stranger = new_key()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the responder first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/ocsp"

    def __enter__(self) -> OcspResponder:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        responder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                with responder._lock:
                    responder.requests += 1
                if responder.behaviour == "hang":  # slower than any client's timeout
                    time.sleep(responder.hang_seconds)
                length = int(self.headers.get("Content-Length") or 0)
                body = responder.answer(self.rfile.read(length))
                self.send_response(200)
                self.send_header("Content-Type", "application/ocsp-response")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        class Server(http.server.ThreadingHTTPServer):
            request_queue_size = 128  # many clients at once (the bench asks 16 in parallel)

            def handle_error(self, request, client_address) -> None:
                pass  # a client that gave up (timeout) is part of the tests

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _find_ca(self, req: ocsp.OCSPRequest) -> Ca | None:
        for ca in self.cas:
            probe = ocsp.OCSPRequestBuilder().add_certificate(
                _stand_in(1, ca), ca.cert, req.hash_algorithm).build()
            if probe.issuer_key_hash == req.issuer_key_hash:
                return ca
        return None

    def answer(self, data: bytes) -> bytes:
        try:
            req = ocsp.load_der_ocsp_request(data)
        except ValueError:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.MALFORMED_REQUEST).public_bytes(serialization.Encoding.DER)
        if self.behaviour == "error":
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.INTERNAL_ERROR).public_bytes(serialization.Encoding.DER)
        ca = self._find_ca(req)
        now = self.pki.now
        serial = req.serial_number
        issued = ca is not None and any(c.serial_number == serial for c in ca.issued)
        status = self.statuses.get(serial, "good" if issued else "unknown")
        this_update, next_update = now - dt.timedelta(hours=1), now + DAY
        if self.behaviour == "stale":
            this_update, next_update = now - 10 * DAY, now - 3 * DAY
        signer_ca = ca or self.cas[0]
        cert_status = {"good": ocsp.OCSPCertStatus.GOOD, "revoked": ocsp.OCSPCertStatus.REVOKED,
                       "unknown": ocsp.OCSPCertStatus.UNKNOWN}[status]
        # the CertID must echo the request's: build it from a stand-in certificate
        subject = _stand_in(serial, signer_ca)
        builder = ocsp.OCSPResponseBuilder().add_response(
            cert=subject, issuer=signer_ca.cert, algorithm=req.hash_algorithm,
            cert_status=cert_status, this_update=this_update, next_update=next_update,
            revocation_time=now - 2 * DAY if status == "revoked" else None,
            revocation_reason=x509.ReasonFlags.key_compromise if status == "revoked" else None,
        )
        key = signer_ca.key
        if self.behaviour.startswith("delegated"):
            with_eku = self.behaviour != "delegated_no_eku"
            # delegated_other_ca: a responder certificate from a CA that did not issue the
            # certificate asked about (not allowed to answer for it)
            delegator = self.pki.fake_issuing if self.behaviour == "delegated_other_ca" \
                else signer_ca
            pair = self._delegates.get(f"{delegator.name}/{self.behaviour}")
            if pair is None:
                pair = self.pki.responder_cert(delegator, eku=with_eku)
                self._delegates[f"{delegator.name}/{self.behaviour}"] = pair
            builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, pair[0])
            builder = builder.certificates([pair[0]])
            key = pair[1]
        elif self.behaviour == "wrong_signer":
            # names the CA as responder but signs with another key
            impostor = (
                x509.CertificateBuilder()
                .subject_name(signer_ca.cert.subject)
                .issuer_name(signer_ca.cert.subject)
                .public_key(self._stranger.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - DAY)
                .not_valid_after(now + DAY)
                .sign(self._stranger, hashes.SHA256())
            )
            builder = builder.responder_id(ocsp.OCSPResponderEncoding.NAME, impostor)
            key = self._stranger
        else:
            builder = builder.responder_id(ocsp.OCSPResponderEncoding.NAME, signer_ca.cert)
        nonce = _nonce_of(req)
        if self.behaviour == "wrong_nonce":
            nonce = b"\x00" * 16
        if nonce is not None and self.behaviour != "no_nonce":
            builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
        return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def _nonce_of(req: ocsp.OCSPRequest) -> bytes | None:
    try:
        return req.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    except x509.ExtensionNotFound:
        return None


def _stand_in(serial: int, ca: Ca) -> x509.Certificate:
    """A certificate with ``serial`` under ``ca`` (OCSPResponseBuilder needs a certificate)."""
    return (
        x509.CertificateBuilder()
        .subject_name(make_name("stand-in"))
        .issuer_name(ca.cert.subject)
        .public_key(ca.key.public_key())
        .serial_number(serial)
        .not_valid_before(ca.cert.not_valid_before_utc)
        .not_valid_after(ca.cert.not_valid_after_utc)
        .sign(ca.key, hashes.SHA256())
    )


# -- CLI -----------------------------------------------------------------------
def _parse_person(arg: str) -> tuple[str, str, str]:
    hsa_id, _, rest = arg.partition(":")
    scenario, _, name = rest.partition(":")
    return hsa_id, scenario or "valid", name or f"Test {hsa_id.rsplit('-', 1)[-1]}"


def _safe(hsa_id: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in hsa_id)


def write_pki(out: Path, pki: TestPki, people: list[tuple[str, str, str]]) -> dict:
    """Write trust bundles, CRLs, person certificates and a manifest under ``out``."""
    for sub in ("trust", "trust-legacy", "crl", "crl-legacy", "certs"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    issued: dict[str, list[IssuedCert]] = {}
    manifest = {"generated": pki.now.isoformat(), "prefix": pki.prefix, "people": []}
    for hsa_id, scenario, name in people:
        certs = pki.person(hsa_id, name, scenario)
        issued[hsa_id] = certs
        files = []
        for c in certs:
            path = out / "certs" / f"{_safe(hsa_id)}-{c.usage}.pem"
            path.write_bytes(c.pem())
            files.append(str(path.relative_to(out)))
        manifest["people"].append({"hsa_id": hsa_id, "name": name, "scenario": scenario,
                                   "files": files})
    for ca in pki.current_cas():
        (out / "trust" / f"{_safe(ca.name)}.pem").write_bytes(ca.pem())
    for ca in pki.legacy_cas():
        (out / "trust-legacy" / f"{_safe(ca.name)}.pem").write_bytes(ca.pem())
    crl_cas = [(ca, "crl") for ca in (pki.root, pki.issuing, pki.reserve)]
    for ca, sub in [*crl_cas, (pki.legacy_issuing, "crl-legacy")]:
        crl = pki.crl(ca)
        (out / sub / f"{_safe(ca.name)}.crl").write_bytes(
            crl.public_bytes(serialization.Encoding.PEM))
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    manifest["_issued"] = issued
    return manifest


def publish_ldap(issued: dict[str, list[IssuedCert]]) -> list[str]:
    """Replace ``userCertificate;binary`` on each person's entry (found by hsaIdentity)."""
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.client import (  # type: ignore[import-not-found]
        connect,
        escape_filter_value,
        settings_from_env,
    )

    settings = settings_from_env()
    messages = []
    with connect(settings) as conn:
        for hsa_id, certs in issued.items():
            found = [dn for dn, _ in conn.search(
                settings.base_dn, f"(hsaIdentity={escape_filter_value(hsa_id)})", ["1.1"])]
            if not found:
                messages.append(f"{hsa_id}: no directory entry, certificates not published")
                continue
            answer = conn.replace_values(found[0], "userCertificate;binary",
                                         [c.der() for c in certs])
            messages.append(f"{hsa_id}: {'published' if answer.ok else 'FAILED'} "
                            f"{len(certs)} certificate(s) on {found[0]}")
    return messages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--people", nargs="*", default=[], metavar="ID[:SCENARIO[:NAME]]",
                        help=f"people to issue for; scenarios: {', '.join(SCENARIOS)}")
    parser.add_argument("--prefix", default="", help='CA name prefix, e.g. "TEST "')
    parser.add_argument("--now", help="ISO date-time used as 'now' (default: the clock)")
    parser.add_argument("--organization", default="Exempelkliniken AB")
    parser.add_argument("--publish-ldap", action="store_true",
                        help="store the certificates on the directory entries (HSA_LDAP_* env)")
    args = parser.parse_args(argv)
    now = dt.datetime.fromisoformat(args.now) if args.now else None
    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    people = [_parse_person(p) for p in args.people]
    for _, scenario, _ in people:
        if scenario not in SCENARIOS:
            parser.error(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    pki = TestPki(prefix=args.prefix, now=now, organization=args.organization)
    manifest = write_pki(args.out, pki, people)
    print(f"test PKI written to {args.out} ({len(people)} people)")
    if args.publish_ldap:
        import collection_path

        collection_path.ensure()
        for line in publish_ldap(manifest["_issued"]):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
