"""Certificates as read from one source: ``CertRecord`` and ``parse_certificates``.

Garbage becomes a record with a problem, never an exception. Key usage tells the two
card certificates apart: nonRepudiation = signing (*underskrift*), digitalSignature
without nonRepudiation = authentication (*legitimering*).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID, NameOID

from .names import is_personnummer, mask_personnummer
from .pem import CERT_LABELS, pem_blocks


@dataclass(frozen=True)
class CertRecord:
    """One certificate as read from one source (or garbage with a problem)."""

    source: str
    owner: str | None = None  # hsa_id of the directory entry it was published on
    cert: x509.Certificate | None = None
    fingerprint: str = ""
    subject: str = ""
    issuer: str = ""
    issuer_cn: str = ""
    common_name: str = ""
    serial_number: str | None = None  # subject serialNumber (the HSA-id)
    usage: str = "unknown"  # auth | sign | unknown
    not_before: dt.datetime | None = None
    not_after: dt.datetime | None = None
    is_ca: bool = False
    eku: tuple[str, ...] | None = None  # dotted OIDs of extendedKeyUsage; None = absent
    ocsp_urls: tuple[str, ...] = ()  # Authority Information Access, OCSP
    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def readable(self) -> bool:
        return self.cert is not None


def classify_usage(cert: x509.Certificate) -> str:
    """``sign`` for nonRepudiation, ``auth`` for digitalSignature without it, else ``unknown``."""
    try:
        ku = cert.extensions.get_extension_for_oid(ExtensionOID.KEY_USAGE).value
    except x509.ExtensionNotFound:
        return "unknown"
    return _usage_of(ku)


def _usage_of(ku: x509.KeyUsage | None) -> str:
    if ku is None:
        return "unknown"
    if ku.content_commitment:
        return "sign"
    if ku.digital_signature:
        return "auth"
    return "unknown"


NAME_KEYS = {
    NameOID.SERIAL_NUMBER: "serialNumber",
    NameOID.GIVEN_NAME: "GN",
    NameOID.SURNAME: "SN",
}


def _ocsp_urls(aia: x509.AuthorityInformationAccess) -> list[str]:
    return [
        str(d.access_location.value)
        for d in aia
        if d.access_method == AuthorityInformationAccessOID.OCSP
        and isinstance(d.access_location, x509.UniformResourceIdentifier)
    ]


def ocsp_urls_of(cert: x509.Certificate) -> tuple[str, ...]:
    """The OCSP addresses in a certificate's Authority Information Access extension."""
    try:
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return ()
    return tuple(_ocsp_urls(aia))


def name_attr(name: x509.Name, oid: x509.ObjectIdentifier) -> list[str]:
    return [str(a.value) for a in name.get_attributes_for_oid(oid)]


def _record_from_cert(cert: x509.Certificate, source: str, owner: str | None) -> CertRecord:
    problems: list[str] = []
    warnings: list[str] = []
    subject = cert.subject
    serials: list[str] = []
    cns: list[str] = []
    for attribute in subject:  # one pass over the name (thousands of certificates)
        if attribute.oid == NameOID.SERIAL_NUMBER:
            serials.append(str(attribute.value))
        elif attribute.oid == NameOID.COMMON_NAME:
            cns.append(str(attribute.value))
    issuer, issuer_cn = issuer_text(cert.issuer)
    is_ca, key_usage, eku, ocsp_urls = False, None, None, []
    for ext in cert.extensions:
        if ext.oid == ExtensionOID.BASIC_CONSTRAINTS:
            is_ca = bool(ext.value.ca)
        elif ext.oid == ExtensionOID.KEY_USAGE:
            key_usage = ext.value
        elif ext.oid == ExtensionOID.EXTENDED_KEY_USAGE:
            eku = tuple(oid.dotted_string for oid in ext.value)
        elif ext.oid == ExtensionOID.AUTHORITY_INFORMATION_ACCESS:
            ocsp_urls = _ocsp_urls(ext.value)
    usage = _usage_of(key_usage)
    serial = serials[0] if serials else None
    if not serials:
        problems.append(
            "the subject has no serialNumber, so no HSA-id: not a SITHS HSA-id person certificate"
        )
    elif len(serials) > 1:
        problems.append(f"the subject has {len(serials)} serialNumber values; expected one HSA-id")
    elif is_personnummer(serial):
        warnings.append(
            "subject serialNumber is a personal identity number (a 'Person ID' "
            "certificate); only HSA-id certificates are used for Webcert checks"
        )
    if not is_ca and usage == "unknown":
        problems.append(
            "key usage is neither authentication (digitalSignature) nor signing (nonRepudiation)"
        )
    return CertRecord(
        source=source,
        owner=owner,
        cert=cert,
        fingerprint=cert.fingerprint(hashes.SHA256()).hex(),
        subject=mask_personnummer(subject.rfc4514_string(NAME_KEYS)),
        issuer=issuer,
        issuer_cn=issuer_cn,
        common_name=cns[0] if cns else "",
        serial_number=serial,
        usage=usage,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        is_ca=is_ca,
        eku=eku,
        ocsp_urls=tuple(ocsp_urls),
        problems=tuple(problems),
        warnings=tuple(warnings),
    )


_ISSUER_CACHE: dict[x509.Name, tuple[str, str]] = {}


def issuer_text(name: x509.Name) -> tuple[str, str]:
    """(RFC 4514 string, CN) of an issuer name; cached, as thousands share a few issuers."""
    cached = _ISSUER_CACHE.get(name)
    if cached is None:
        cns = name_attr(name, NameOID.COMMON_NAME)
        cached = (name.rfc4514_string(NAME_KEYS), cns[0] if cns else "")
        if len(_ISSUER_CACHE) < 1000:
            _ISSUER_CACHE[name] = cached
    return cached


def _garbage(source: str, owner: str | None, message: str) -> CertRecord:
    return CertRecord(source=source, owner=owner, problems=(message,))


def _load_der(der: bytes, source: str, owner: str | None) -> CertRecord:
    try:
        cert = x509.load_der_x509_certificate(der)
        return _record_from_cert(cert, source, owner)
    except Exception as exc:  # any parse failure is a finding
        return _garbage(source, owner, f"not a readable X.509 certificate ({short_error(exc)})")


def short_error(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


def _pem_fast_path(data: bytes, source: str, owner: str | None) -> list[CertRecord] | None:
    """Clean PEM (every block a readable certificate) parsed in one call; else None."""
    if b"-----BEGIN CERTIFICATE-----" not in data:
        return None
    try:
        certs = x509.load_pem_x509_certificates(data)
    except Exception:  # any failure: fall back to block-by-block parsing
        return None
    if len(certs) != data.count(b"-----BEGIN "):
        return None
    try:
        if len(certs) == 1:
            return [_record_from_cert(certs[0], source, owner)]
        return [_record_from_cert(c, f"{source}#{i}", owner) for i, c in enumerate(certs, 1)]
    except Exception:  # odd content inside: let the slow path report it per block
        return None


def parse_certificates(data: bytes, source: str, owner: str | None = None) -> list[CertRecord]:
    """Every certificate in ``data`` (PEM with one or more blocks, or DER).

    Bad input gives a record whose ``problems`` say what is wrong; it never raises.
    Several certificates in one PEM file get sources ``<source>#1``, ``#2``...
    """
    if not data:
        return [_garbage(source, owner, "empty input: no certificate")]
    if b"-----BEGIN" not in data:
        return [_load_der(data, source, owner)]
    fast = _pem_fast_path(data, source, owner)
    if fast is not None:
        return fast
    blocks = pem_blocks(data)
    cert_blocks = [b for b in blocks if b[0] in CERT_LABELS]
    records: list[CertRecord] = []
    many = len(cert_blocks) > 1
    for index, (_label, der, error) in enumerate(cert_blocks, start=1):
        src = f"{source}#{index}" if many else source
        if der is None:
            records.append(_garbage(src, owner, error or "bad PEM block"))
        else:
            records.append(_load_der(der, src, owner))
    if not cert_blocks:
        labels = ", ".join(sorted({b[0].decode("ascii", "replace") for b in blocks})) or "none"
        records.append(
            _garbage(source, owner, f"no CERTIFICATE block in PEM text (blocks found: {labels})")
        )
    return records
