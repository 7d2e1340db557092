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

writes ``trust/`` (current CAs), ``trust-legacy/`` (the old SITHS Root CA v1 tree),
``crl/`` and ``crl-legacy/`` (each issuing CA's CRL listing the "revoked" people),
``certs/<hsa-id>-auth.pem`` / ``-sign.pem`` and ``manifest.json``. ``--publish-ldap``
also stores each person's certificates in ``userCertificate;binary`` on the directory
entry with that ``hsaIdentity`` (connection from the ``HSA_LDAP_*`` variables).

Keys are EC P-256 so that thousands of certificates take seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

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
)

# A policy OID under Inera's arc (1.2.752.74) for the test profile. It is a
# placeholder: the real SITHS person-certificate policy OIDs were not confirmed.
TEST_POLICY_OID = x509.ObjectIdentifier("1.2.752.74.8.3")

ROOT_NAME = "SITHS e-id Root CA v2"
ISSUING_NAME = "SITHS e-id Person HSA-id 3 CA v1"
FUNCTION_NAME = "SITHS e-id Function CA v1"
LEGACY_ROOT_NAME = "SITHS Root CA v1"
LEGACY_ISSUING_NAME = "SITHS Type 3 CA v1"

DAY = dt.timedelta(days=1)


@dataclass
class Ca:
    """A CA in the test PKI: its certificate, key and what it issued."""

    name: str
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
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


def _name(common_name: str, org: str = "Inera AB") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


class TestPki:
    """A SITHS-shaped PKI. ``prefix`` (e.g. ``"TEST "``) is put before every CA name."""

    __test__ = False  # not a pytest test class

    def __init__(self, prefix: str = "", now: dt.datetime | None = None,
                 organization: str = "Exempelkliniken AB") -> None:
        self.prefix = prefix
        self.now = now or dt.datetime.now(dt.UTC)
        self.organization = organization
        self.revoked: set[int] = set()  # serials issued in the "revoked" scenario
        self.root = self._self_signed(prefix + ROOT_NAME)
        self.issuing = self._intermediate(prefix + ISSUING_NAME, self.root)
        self.function = self._intermediate(prefix + FUNCTION_NAME, self.root)
        self.legacy_root = self._self_signed(prefix + LEGACY_ROOT_NAME)
        self.legacy_issuing = self._intermediate(prefix + LEGACY_ISSUING_NAME, self.legacy_root)
        # Same name as the real issuing CA, different key: a forgery.
        self.fake_root = self._self_signed(prefix + ROOT_NAME)
        self.fake_issuing = self._intermediate(prefix + ISSUING_NAME, self.fake_root)

    # -- CAs ---------------------------------------------------------------
    def _ca_cert(self, subject: x509.Name, issuer: x509.Name, key, signer_key,
                 not_before: dt.datetime, not_after: dt.datetime) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=True,
                    crl_sign=True, encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                signer_key.public_key()), critical=False)
        )
        return builder.sign(signer_key, hashes.SHA256())

    def _self_signed(self, name: str) -> Ca:
        key = _new_key()
        subject = _name(name)
        cert = self._ca_cert(subject, subject, key, key,
                             self.now - 3650 * DAY, self.now + 3650 * DAY)
        return Ca(name, cert, key)

    def _intermediate(self, name: str, parent: Ca) -> Ca:
        key = _new_key()
        cert = self._ca_cert(_name(name), parent.cert.subject, key, parent.key,
                             self.now - 3000 * DAY, self.now + 3000 * DAY)
        parent.issued.append(cert)
        return Ca(name, cert, key)

    # -- people ------------------------------------------------------------
    def issue(self, ca: Ca, *, hsa_id: str, full_name: str, usage: str,
              not_before: dt.datetime, not_after: dt.datetime,
              key: ec.EllipticCurvePrivateKey | None = None) -> x509.Certificate:
        """Issue one person certificate (usage ``auth`` or ``sign``) from ``ca``."""
        key = key or _new_key()
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
        if not is_sign:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        cert = builder.sign(ca.key, hashes.SHA256())
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
        key = _new_key()
        usages = ("auth",) if scenario == "missing_sign" else ("auth", "sign")
        out = []
        for usage in usages:
            cert = self.issue(ca, hsa_id=subject_id, full_name=full_name, usage=usage,
                              not_before=not_before, not_after=not_after, key=key)
            out.append(IssuedCert(hsa_id, usage, scenario, cert))
        if scenario == "revoked":
            self.revoked.update(c.cert.serial_number for c in out)
        return out

    # -- CRLs and bundles --------------------------------------------------
    def crl(self, ca: Ca, serials: set[int] | None = None, *,
            signer: ec.EllipticCurvePrivateKey | None = None,
            next_update: dt.datetime | None = None) -> x509.CertificateRevocationList:
        """A CRL from ``ca`` listing ``serials`` (default: every scenario-revoked serial
        this CA issued). ``signer`` signs with another key (a forged CRL)."""
        if serials is None:
            mine = {c.serial_number for c in ca.issued}
            serials = self.revoked & mine
        next_update = next_update or self.now + 7 * DAY
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(ca.cert.subject)
            .last_update(min(self.now - DAY, next_update - 7 * DAY))
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
        return [self.root, self.issuing, self.function]

    def legacy_cas(self) -> list[Ca]:
        return [self.legacy_root, self.legacy_issuing]

    def trust_bundle_pem(self, include_legacy: bool = False) -> bytes:
        cas = self.current_cas() + (self.legacy_cas() if include_legacy else [])
        return b"".join(ca.pem() for ca in cas)


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
    for ca, sub in ((pki.issuing, "crl"), (pki.legacy_issuing, "crl-legacy")):
        crl = pki.crl(ca)
        (out / sub / f"{_safe(ca.name)}.crl").write_bytes(
            crl.public_bytes(serialization.Encoding.PEM))
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    manifest["_issued"] = issued
    return manifest


def publish_ldap(issued: dict[str, list[IssuedCert]]) -> list[str]:
    """Replace ``userCertificate;binary`` on each person's entry (found by hsaIdentity)."""
    import ldap3
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.ldap import (  # type: ignore[import-not-found]
        connect,
        escape_filter_value,
        settings_from_env,
    )

    settings = settings_from_env()
    conn = connect(settings)
    messages = []
    try:
        for hsa_id, certs in issued.items():
            conn.search(settings.base_dn, f"(hsaIdentity={escape_filter_value(hsa_id)})",
                        attributes=[])
            if not conn.entries:
                messages.append(f"{hsa_id}: no directory entry, certificates not published")
                continue
            dn = conn.entries[0].entry_dn
            conn.modify(dn, {"userCertificate;binary": [
                (ldap3.MODIFY_REPLACE, [c.der() for c in certs])]})
            ok = conn.result.get("result") == 0
            messages.append(f"{hsa_id}: {'published' if ok else 'FAILED'} "
                            f"{len(certs)} certificate(s) on {dn}")
    finally:
        conn.unbind()
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
