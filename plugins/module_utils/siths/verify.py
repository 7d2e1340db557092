"""Verify clinicians' SITHS certificates (pure core, ``cryptography`` only).

Input is bytes that somebody read (files, directory entries, host stores); output
is the "Certificate findings" JSON of ``docs/architecture.md``. Nothing here does
I/O and the clock is a parameter (``now``), so results are reproducible.

Steps:
1. ``parse_certificates(data, source, owner)`` turns PEM/DER bytes into
   ``CertRecord`` values. Garbage becomes a record with a problem, never an exception.
2. ``build_trust(items)`` indexes the operator's CA certificates (the trust bundle).
3. ``load_crls(items, trust, now)`` keeps the CRLs whose signature verifies against
   a trusted CA; the others are reported and ignored.
4. ``verify(people, records, trust, crls, now, warn_days)`` checks every certificate
   (chain by signature, validity, legacy CA, revocation), attributes it to a person
   (directory entry owner, then subject serialNumber, then a unique full name), picks
   each person's best authentication + signing pair and builds the report.

Key usage tells the two card certificates apart: nonRepudiation = signing
(*underskrift*), digitalSignature without nonRepudiation = authentication
(*legitimering*).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import CRLEntryExtensionOID, ExtensionOID, NameOID

DEFAULT_WARN_DAYS = 60
MAX_CHAIN_DEPTH = 8

_PEM_BLOCK = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]+)-----(.*?)(?:-----END \1-----|(?=-----BEGIN )|\Z)", re.DOTALL
)
_CERT_LABELS = {b"CERTIFICATE", b"X509 CERTIFICATE", b"TRUSTED CERTIFICATE"}
_CRL_LABELS = {b"X509 CRL"}

# The old SITHS trees (stopped issuing 2020-02-11, removed 2022-11-07) and
# their test variants. See docs/siths.md, "The legacy chain".
_TEST_PREFIX = r"(?:(?:TEST|PP|SYSTEMTEST)\s+)?"
LEGACY_CA_RE = re.compile(
    rf"^{_TEST_PREFIX}SITHS\s+(?:Root\s+CA\s+v1|Type\s+[13]\s+CA\s+v1|CA\s+v3)$", re.IGNORECASE
)
TEST_CA_RE = re.compile(r"^(?:TEST|PP|SYSTEMTEST)\s+SITHS\b", re.IGNORECASE)
# Personnummer / samordningsnummer (10 or 12 digits, optional - or +). Masked in output.
_PERSONNUMMER_RE = re.compile(r"\b((?:19|20)?\d{6}[-+]?)\d{4}\b")


def mask_personnummer(text: str) -> str:
    """Hide the last four digits of anything shaped like a personal identity number."""
    return _PERSONNUMMER_RE.sub(lambda m: m.group(1) + "****", text)


def _is_personnummer(value: str) -> bool:
    return bool(re.fullmatch(r"(?:19|20)?\d{6}[-+]?\d{4}", value))


# -- parsed certificates --------------------------------------------------------
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


_NAME_KEYS = {
    NameOID.SERIAL_NUMBER: "serialNumber",
    NameOID.GIVEN_NAME: "GN",
    NameOID.SURNAME: "SN",
}


def _attr(name: x509.Name, oid: x509.ObjectIdentifier) -> list[str]:
    return [str(a.value) for a in name.get_attributes_for_oid(oid)]


def _record_from_cert(cert: x509.Certificate, source: str, owner: str | None) -> CertRecord:
    problems: list[str] = []
    warnings: list[str] = []
    subject = cert.subject
    serials = _attr(subject, NameOID.SERIAL_NUMBER)
    cns = _attr(subject, NameOID.COMMON_NAME)
    issuer, issuer_cn = _issuer_text(cert.issuer)
    is_ca, key_usage = False, None
    for ext in cert.extensions:
        if ext.oid == ExtensionOID.BASIC_CONSTRAINTS:
            is_ca = bool(ext.value.ca)
        elif ext.oid == ExtensionOID.KEY_USAGE:
            key_usage = ext.value
    usage = _usage_of(key_usage)
    serial = serials[0] if serials else None
    if not serials:
        problems.append(
            "the subject has no serialNumber, so no HSA-id: not a SITHS HSA-id person certificate"
        )
    elif len(serials) > 1:
        problems.append(f"the subject has {len(serials)} serialNumber values; expected one HSA-id")
    elif _is_personnummer(serial):
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
        subject=mask_personnummer(subject.rfc4514_string(_NAME_KEYS)),
        issuer=issuer,
        issuer_cn=issuer_cn,
        common_name=cns[0] if cns else "",
        serial_number=serial,
        usage=usage,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        is_ca=is_ca,
        problems=tuple(problems),
        warnings=tuple(warnings),
    )


_ISSUER_CACHE: dict[x509.Name, tuple[str, str]] = {}


def _issuer_text(name: x509.Name) -> tuple[str, str]:
    """(RFC 4514 string, CN) of an issuer name; cached, as thousands share a few issuers."""
    cached = _ISSUER_CACHE.get(name)
    if cached is None:
        cns = _attr(name, NameOID.COMMON_NAME)
        cached = (name.rfc4514_string(_NAME_KEYS), cns[0] if cns else "")
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
        return _garbage(source, owner, f"not a readable X.509 certificate ({_short(exc)})")


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


def pem_blocks(data: bytes) -> list[tuple[bytes, bytes | None, str | None]]:
    """Split PEM text into ``(label, der, error)``; ``der`` is None when the block is bad."""
    out: list[tuple[bytes, bytes | None, str | None]] = []
    for match in _PEM_BLOCK.finditer(data):
        label, body = match.group(1), match.group(2)
        if not match.group(0).rstrip().endswith(b"-----END " + label + b"-----"):
            out.append((label, None, "PEM block is cut off (no END line)"))
            continue
        lines = [ln.strip() for ln in body.splitlines()]
        lines = [ln for ln in lines if ln and b":" not in ln]  # drop RFC 1421 headers
        try:
            der = base64.b64decode(b"".join(lines), validate=True)
        except (binascii.Error, ValueError):
            out.append((label, None, "PEM block holds characters that are not base64"))
            continue
        out.append((label, der, None))
    return out


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
    cert_blocks = [b for b in blocks if b[0] in _CERT_LABELS]
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


# -- trust bundle -----------------------------------------------------------------
@dataclass(frozen=True)
class InputProblem:
    source: str
    severity: str  # error | warning
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"source": self.source, "severity": self.severity, "message": self.message}


@dataclass(frozen=True)
class TrustedCa:
    cert: x509.Certificate
    fingerprint: str
    name: str
    source: str
    is_root: bool
    legacy: bool
    test: bool


@dataclass
class TrustStore:
    by_subject: dict[bytes, list[TrustedCa]] = field(default_factory=dict)
    problems: list[InputProblem] = field(default_factory=list)

    @property
    def cas(self) -> list[TrustedCa]:
        return [ca for cas in self.by_subject.values() for ca in cas]

    def candidates(self, name: x509.Name) -> list[TrustedCa]:
        return self.by_subject.get(name.public_bytes(), [])


def _self_signed(cert: x509.Certificate) -> bool:
    if cert.subject != cert.issuer:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def build_trust(items: Iterable[tuple[str, bytes]]) -> TrustStore:
    """Index the CA certificates of a trust bundle given as ``(source, bytes)`` pairs."""
    store = TrustStore()
    seen: set[str] = set()
    for source, data in items:
        for rec in parse_certificates(data, source):
            if not rec.readable:
                store.problems.append(
                    InputProblem(rec.source, "error", "; ".join(rec.problems) + " — ignored")
                )
                continue
            if not rec.is_ca:
                store.problems.append(
                    InputProblem(
                        rec.source,
                        "warning",
                        f"'{rec.subject}' is not a CA certificate (basicConstraints CA:FALSE or "
                        "missing) — not used as a trust anchor",
                    )
                )
                continue
            if rec.fingerprint in seen:
                continue
            seen.add(rec.fingerprint)
            cert = rec.cert
            assert cert is not None
            name = rec.common_name or rec.subject
            ca = TrustedCa(
                cert,
                rec.fingerprint,
                name,
                rec.source,
                _self_signed(cert),
                bool(LEGACY_CA_RE.match(name)),
                bool(TEST_CA_RE.match(name)),
            )
            if ca.legacy:
                store.problems.append(
                    InputProblem(
                        rec.source,
                        "warning",
                        f"trust bundle contains the legacy CA '{name}' (old SITHS Root CA v1 "
                        "tree); certificates under it are still reported as legacy",
                    )
                )
            store.by_subject.setdefault(cert.subject.public_bytes(), []).append(ca)
    if not store.by_subject:
        store.problems.append(
            InputProblem(
                "trust_bundle",
                "error",
                "no CA certificates in the trust bundle: no certificate can be verified",
            )
        )
    return store


# -- CRLs ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Revocation:
    date: dt.datetime | None
    reason: str | None
    crl_source: str


@dataclass
class CrlIndex:
    revoked: dict[str, dict[int, Revocation]] = field(default_factory=dict)  # CA fp -> serials
    covered: set[str] = field(default_factory=set)  # CA fingerprints with a valid CRL
    problems: list[InputProblem] = field(default_factory=list)
    supplied: bool = False


def _parse_crls(data: bytes, source: str) -> tuple[list[x509.CertificateRevocationList], list[str]]:
    errors: list[str] = []
    crls = []
    if b"-----BEGIN" in data:
        ders = []
        for label, der, error in pem_blocks(data):
            if label not in _CRL_LABELS:
                continue
            if der is None:
                errors.append(error or "bad PEM block")
            else:
                ders.append(der)
        if not ders and not errors:
            errors.append("no X509 CRL block in PEM text")
    else:
        ders = [data]
    for der in ders:
        try:
            crls.append(x509.load_der_x509_crl(der))
        except Exception as exc:  # any parse failure is a finding
            errors.append(f"not a readable CRL ({_short(exc)})")
    return crls, errors


def load_crls(items: Iterable[tuple[str, bytes]], trust: TrustStore, now: dt.datetime) -> CrlIndex:
    """Keep CRLs whose signature verifies against a trusted CA with the CRL's issuer name."""
    now = _aware(now)
    index = CrlIndex()
    for source, data in items:
        index.supplied = True
        crls, errors = _parse_crls(data, source)
        index.problems.extend(InputProblem(source, "error", e + " — ignored") for e in errors)
        for crl in crls:
            issuer = crl.issuer.rfc4514_string()
            candidates = trust.candidates(crl.issuer)
            if not candidates:
                index.problems.append(
                    InputProblem(
                        source,
                        "error",
                        f"CRL issuer '{issuer}' is not in the trust bundle — ignored",
                    )
                )
                continue
            signer = next((ca for ca in candidates if _crl_signed_by(crl, ca.cert)), None)
            if signer is None:
                index.problems.append(
                    InputProblem(
                        source,
                        "error",
                        f"CRL signature does not verify against the trusted CA '{issuer}' "
                        "(forged or from another PKI) — ignored",
                    )
                )
                continue
            next_update = crl.next_update_utc
            if next_update is not None and next_update < now:
                index.problems.append(
                    InputProblem(
                        source,
                        "warning",
                        f"CRL from '{signer.name}' is out of date (next update was "
                        f"{next_update.date().isoformat()}): download a fresh one",
                    )
                )
            index.covered.add(signer.fingerprint)
            serials = index.revoked.setdefault(signer.fingerprint, {})
            for entry in crl:
                reason = None
                try:
                    ext = entry.extensions.get_extension_for_oid(CRLEntryExtensionOID.CRL_REASON)
                    reason = ext.value.reason.name
                except (x509.ExtensionNotFound, ValueError):
                    pass
                serials[entry.serial_number] = Revocation(entry.revocation_date_utc, reason, source)
    return index


def _crl_signed_by(crl: x509.CertificateRevocationList, ca: x509.Certificate) -> bool:
    try:
        return crl.is_signature_valid(ca.public_key())  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


# -- checking one certificate ---------------------------------------------------
@dataclass(frozen=True)
class ChainResult:
    ok: bool
    legacy: bool
    test: bool
    problems: tuple[str, ...]
    issuing_ca: str | None = None  # fingerprint of the CA that signed the certificate


@dataclass(frozen=True)
class CertCheck:
    record: CertRecord
    chain: ChainResult
    revoked: Revocation | None
    days_left: int | None
    problems: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return not self.problems


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _legacy_text(name: str) -> str:
    return (
        f"issued under the legacy CA '{name}' (the old SITHS Root CA v1 tree, which "
        "stopped issuing on 2020-02-11 and was removed 2022-11-07): the card must be "
        "replaced"
    )


class Verifier:
    """Checks certificates against one trust store, CRL set and moment.

    CA chains are verified once per CA and cached, so a leaf costs one signature check.
    """

    def __init__(
        self,
        trust: TrustStore,
        crls: CrlIndex | None,
        now: dt.datetime,
        warn_days: int = DEFAULT_WARN_DAYS,
    ) -> None:
        self.trust = trust
        self.crls = crls or CrlIndex()
        self.now = _aware(now)
        self.warn_days = warn_days
        self._ca_cache: dict[str, ChainResult] = {}

    def _ca_chain(self, ca: TrustedCa, depth: int = 0) -> ChainResult:
        cached = self._ca_cache.get(ca.fingerprint)
        if cached is not None:
            return cached
        problems: list[str] = []
        cert = ca.cert
        if cert.not_valid_after_utc < self.now:
            problems.append(f"CA '{ca.name}' expired on {cert.not_valid_after_utc.date()}")
        elif cert.not_valid_before_utc > self.now:
            problems.append(f"CA '{ca.name}' is not valid until {cert.not_valid_before_utc.date()}")
        legacy, test = ca.legacy, ca.test
        if not ca.is_root:
            parent_result = None
            if depth >= MAX_CHAIN_DEPTH:
                problems.append(f"CA chain above '{ca.name}' is too long or loops")
            else:
                parents = self.trust.candidates(cert.issuer)
                parent = next((p for p in parents if _issued_by(cert, p.cert)), None)
                if parent is None:
                    issuer_cn = (_attr(cert.issuer, NameOID.COMMON_NAME) or [""])[0]
                    if parents:
                        problems.append(
                            f"CA '{ca.name}' is not signed by the trusted CA "
                            f"'{issuer_cn}' (signature check failed)"
                        )
                    else:
                        problems.append(
                            f"the trust bundle lacks '{issuer_cn}', the CA above '{ca.name}'"
                        )
                    legacy = legacy or bool(LEGACY_CA_RE.match(issuer_cn))
                else:
                    self._ca_cache[ca.fingerprint] = ChainResult(
                        False, legacy, test, ("chain loops",)
                    )
                    parent_result = self._ca_chain(parent, depth + 1)
            if parent_result is not None:
                problems.extend(parent_result.problems)
                legacy = legacy or parent_result.legacy
                test = test or parent_result.test
        result = ChainResult(not problems, legacy, test, tuple(problems), ca.fingerprint)
        self._ca_cache[ca.fingerprint] = result
        return result

    def chain(self, record: CertRecord) -> ChainResult:
        cert = record.cert
        assert cert is not None
        issuer_name = record.issuer_cn or record.issuer
        name_legacy = bool(LEGACY_CA_RE.match(record.issuer_cn))
        name_test = bool(TEST_CA_RE.match(record.issuer_cn))
        candidates = self.trust.candidates(cert.issuer)
        for ca in candidates:
            if _issued_by(cert, ca.cert):
                up = self._ca_chain(ca)
                return ChainResult(
                    up.ok,
                    up.legacy or name_legacy,
                    up.test or name_test,
                    up.problems,
                    ca.fingerprint,
                )
        if candidates:
            problem = (
                f"the signature does not match the trusted CA '{issuer_name}': the "
                "certificate names that issuer but was not signed by it (forged, or "
                "from another PKI with the same CA name)"
            )
        elif name_legacy:
            problem = f"the legacy CA '{issuer_name}' is not in the trust bundle"
        else:
            problem = f"issuer '{issuer_name}' is not in the trust bundle"
        return ChainResult(False, name_legacy, name_test, (problem,))

    def check(self, record: CertRecord) -> CertCheck:
        if not record.readable:
            return CertCheck(
                record,
                ChainResult(False, False, False, ()),
                None,
                None,
                record.problems,
                record.warnings,
            )
        problems = list(record.problems)
        warnings = list(record.warnings)
        chain = self.chain(record)
        if chain.legacy:
            problems.append(_legacy_text(record.issuer_cn or record.issuer))
        problems.extend(chain.problems)
        if chain.test:
            warnings.append(f"issued by a test CA ('{record.issuer_cn}'), not production SITHS")
        assert record.not_before is not None and record.not_after is not None
        if self.now < record.not_before:
            problems.append(f"not valid until {record.not_before.date().isoformat()}")
        if self.now > record.not_after:
            problems.append(f"expired on {record.not_after.date().isoformat()}")
        days_left = (record.not_after - self.now).days
        if 0 <= days_left <= self.warn_days and self.now <= record.not_after:
            warnings.append(f"expires in {days_left} days ({record.not_after.date().isoformat()})")
        revoked = None
        if chain.issuing_ca is not None and record.cert is not None:
            revoked = self.crls.revoked.get(chain.issuing_ca, {}).get(record.cert.serial_number)
            if revoked is not None:
                when = revoked.date.date().isoformat() if revoked.date else "unknown date"
                why = f", reason {revoked.reason}" if revoked.reason else ""
                problems.append(f"revoked on {when}{why} (CRL {revoked.crl_source})")
            elif self.crls.supplied and chain.issuing_ca not in self.crls.covered:
                warnings.append(
                    f"revocation not checked: no valid CRL supplied for '{record.issuer_cn}'"
                )
        return CertCheck(record, chain, revoked, days_left, tuple(problems), tuple(warnings))


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


# -- people ------------------------------------------------------------------------
@dataclass(frozen=True)
class PersonRef:
    """What the verifier needs from a person (``hsa_model.Person`` has these too)."""

    hsa_id: str
    full_name: str
    uses_webcert: bool = True
    serial_number: str | None = None  # expected subject serialNumber; default hsa_id


def person_ref(person: Any) -> PersonRef:
    """Adapt ``hsa_model.Person`` (or anything with the same attributes) to ``PersonRef``."""
    if isinstance(person, PersonRef):
        return person
    siths = getattr(person, "siths", None)
    serial = getattr(siths, "serial_number", None) if siths is not None else None
    return PersonRef(
        hsa_id=person.hsa_id,
        full_name=getattr(person, "full_name", None) or "",
        uses_webcert=bool(getattr(person, "uses_webcert", True)),
        serial_number=serial or None,
    )


USAGE_TEXT = {"auth": "authentication certificate", "sign": "signing certificate"}


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def cert_dict(
    check: CertCheck, sources: list[str], extra_problems: tuple[str, ...] = ()
) -> dict[str, Any]:
    rec = check.record
    serial = mask_personnummer(rec.serial_number) if rec.serial_number else None
    return {
        "source": rec.source,
        "subject": rec.subject,
        "issuer": rec.issuer,
        "serial_number": serial,
        "usage": rec.usage,
        "not_before": _iso(rec.not_before),
        "not_after": _iso(rec.not_after),
        "days_left": check.days_left,
        "chain_ok": check.chain.ok,
        "legacy": check.chain.legacy,
        "revoked": check.revoked is not None,
        "problems": list(extra_problems) + list(check.problems),
        # extensions of the contract:
        "warnings": list(check.warnings),
        "fingerprint_sha256": rec.fingerprint or None,
        "sources": sources,
    }


def _fold(text: str | None) -> str:
    return (text or "").strip().casefold()


@dataclass
class _Candidate:
    check: CertCheck
    extra: tuple[str, ...]  # person-specific problems (wrong HSA-id)

    @property
    def valid(self) -> bool:
        return self.check.valid and not self.extra

    def score(self) -> tuple:
        rec = self.check.record
        return (
            self.valid,
            -len(self.check.problems) - len(self.extra),
            rec.not_after or dt.datetime.min.replace(tzinfo=dt.UTC),
        )


def _pick_pair(
    auths: list[_Candidate], signs: list[_Candidate]
) -> tuple[_Candidate | None, _Candidate | None]:
    best_auth = max(auths, key=_Candidate.score, default=None)
    best_sign = max(signs, key=_Candidate.score, default=None)
    valid_a = [c for c in auths if c.valid]
    valid_s = [c for c in signs if c.valid]
    if valid_a and valid_s:
        # prefer a pair from the same card: same issuer and same key-holder subject
        def pair_key(pair: tuple[_Candidate, _Candidate]) -> tuple:
            a, s = pair
            same = (
                a.check.record.issuer == s.check.record.issuer
                and a.check.record.subject == s.check.record.subject
            )
            return (same, min(a.check.record.not_after, s.check.record.not_after))

        if len(valid_a) * len(valid_s) <= 64:
            return max(((a, s) for a in valid_a for s in valid_s), key=pair_key)
    return best_auth, best_sign


def verify(
    people: Iterable[Any],
    records: Iterable[CertRecord],
    trust: TrustStore,
    crls: CrlIndex | None,
    now: dt.datetime,
    warn_days: int = DEFAULT_WARN_DAYS,
) -> dict[str, Any]:
    """The "Certificate findings" report for ``people`` (see docs/architecture.md)."""
    now = _aware(now)
    refs = [person_ref(p) for p in people]
    verifier = Verifier(trust, crls, now, warn_days)

    # de-duplicate the same certificate seen in several places
    unique: list[CertRecord] = []
    sources: dict[int, list[str]] = {}
    by_fp: dict[str, int] = {}
    owners: dict[int, str | None] = {}
    ca_skipped = 0
    for rec in records:
        if rec.readable and rec.is_ca:
            ca_skipped += 1
            continue
        if rec.fingerprint and rec.fingerprint in by_fp:
            idx = by_fp[rec.fingerprint]
            sources[idx].append(rec.source)
            owners[idx] = owners[idx] or rec.owner
            continue
        idx = len(unique)
        unique.append(rec)
        sources[idx] = [rec.source]
        owners[idx] = rec.owner
        if rec.fingerprint:
            by_fp[rec.fingerprint] = idx

    by_id = {_fold(p.hsa_id): p for p in refs}
    by_serial = {_fold(p.serial_number or p.hsa_id): p for p in refs}
    name_count: dict[str, int] = {}
    for p in refs:
        name_count[_fold(p.full_name)] = name_count.get(_fold(p.full_name), 0) + 1
    by_name = {
        _fold(p.full_name): p for p in refs if p.full_name and name_count[_fold(p.full_name)] == 1
    }

    assigned: dict[str, list[tuple[int, CertCheck]]] = {p.hsa_id: [] for p in refs}
    unmatched: list[dict[str, Any]] = []
    for idx, rec in enumerate(unique):
        check = verifier.check(rec)
        person = by_id.get(_fold(owners[idx])) if owners[idx] else None
        if person is None and rec.readable and rec.serial_number:
            person = by_serial.get(_fold(rec.serial_number))
        if person is None and rec.readable and rec.common_name:
            person = by_name.get(_fold(rec.common_name))
        if person is None:
            unmatched.append(cert_dict(check, sources[idx]))
        else:
            assigned[person.hsa_id].append((idx, check))

    people_out = []
    summary = {
        "people": 0,
        "ok": 0,
        "warning": 0,
        "error": 0,
        "unmatched": len(unmatched),
        "blocking": 0,
    }
    for person in refs:
        entry = _person_entry(person, assigned[person.hsa_id], sources)
        people_out.append(entry)
        summary["people"] += 1
        summary[entry["status"]] += 1
        if entry["status"] == "error" and person.uses_webcert:
            summary["blocking"] += 1

    input_problems = [p.as_dict() for p in trust.problems]
    if crls is not None:
        input_problems += [p.as_dict() for p in crls.problems]
    return {
        "generated": now.isoformat(),
        "warn_days": warn_days,
        "people": people_out,
        "unmatched": unmatched,
        "summary": summary,
        "inputs": {
            "certificates": len(unique),
            "ca_certificates_skipped": ca_skipped,
            "trust_anchors": sorted(ca.name for ca in trust.cas if ca.is_root),
            "trusted_cas": sorted(ca.name for ca in trust.cas),
            "crls": len(crls.covered) if crls else 0,
            "problems": input_problems,
        },
    }


def _person_entry(
    person: PersonRef, found: list[tuple[int, CertCheck]], sources: dict[int, list[str]]
) -> dict[str, Any]:
    expected = person.serial_number or person.hsa_id
    problems: list[str] = []
    warnings: list[str] = []
    auths: list[_Candidate] = []
    signs: list[_Candidate] = []
    index_of: dict[int, int] = {}
    for idx, check in found:
        rec = check.record
        if not rec.readable:
            warnings.append(f"unreadable certificate at {rec.source}: {'; '.join(rec.problems)}")
            continue
        extra: tuple[str, ...] = ()
        if _fold(rec.serial_number) != _fold(expected):
            shown = mask_personnummer(rec.serial_number) if rec.serial_number else "missing"
            extra = (
                f"HSA-id in the certificate (subject serialNumber) is {shown}, expected {expected}",
            )
        cand = _Candidate(check, extra)
        index_of[id(cand)] = idx
        if rec.usage == "auth":
            auths.append(cand)
        elif rec.usage == "sign":
            signs.append(cand)
        else:
            warnings.append(
                f"certificate at {rec.source} has no authentication or signing key usage — not used"
            )
    auth, sign = _pick_pair(auths, signs)
    if not auths and not signs:
        problems.append(
            "no SITHS certificate found (looked on the directory entry, in the "
            "certificate files and in host stores)"
        )
    else:
        for usage, chosen in (("auth", auth), ("sign", sign)):
            label = USAGE_TEXT[usage]
            if chosen is None:
                ku = "nonRepudiation" if usage == "sign" else "digitalSignature"
                problems.append(f"no {label} found (key usage {ku})")
                continue
            problems.extend(f"{label}: {p}" for p in chosen.extra + chosen.check.problems)
            warnings.extend(f"{label}: {w}" for w in chosen.check.warnings)

    def out(c: _Candidate | None) -> dict[str, Any] | None:
        if c is None:
            return None
        return cert_dict(c.check, sources[index_of[id(c)]], c.extra)

    status = "error" if problems else "warning" if warnings else "ok"
    return {
        "hsa_id": person.hsa_id,
        "name": person.full_name,
        "uses_webcert": person.uses_webcert,
        "status": status,
        "auth": out(auth),
        "sign": out(sign),
        "problems": problems,
        "warnings": warnings,
        "certificates_seen": len(found),
    }


# -- presentation ------------------------------------------------------------------
def _expiry(cert: dict[str, Any] | None) -> str:
    if not cert or not cert.get("not_after"):
        return "-"
    return f"{cert['not_after'][:10]} ({cert['days_left']}d)"


def render_table(report: dict[str, Any], width: int = 60) -> list[str]:
    """A per-person table plus summary, one string per line, for a terminal."""
    head = ("HSA-id", "Name", "Webcert", "Status", "Auth expires", "Sign expires", "First issue")
    rows = []
    for p in report["people"]:
        first = (p["problems"] or p["warnings"] or [""])[0]
        if len(first) > width:
            first = first[: width - 1] + "…"
        rows.append(
            (
                p["hsa_id"],
                p["name"],
                "yes" if p["uses_webcert"] else "no",
                p["status"].upper(),
                _expiry(p["auth"]),
                _expiry(p["sign"]),
                first,
            )
        )
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(head)]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    lines = [line(head), line(tuple("-" * w for w in widths))]
    lines += [line(r) for r in rows]
    s = report["summary"]
    lines.append("")
    lines.append(
        f"{s['people']} people: {s['ok']} ok, {s['warning']} warning, {s['error']} "
        f"error ({s['blocking']} expected to use Webcert without a valid pair); "
        f"{s['unmatched']} certificate(s) match nobody; warning threshold "
        f"{report['warn_days']} days"
    )
    for item in report["unmatched"][:20]:
        why = (item["problems"] or item.get("warnings") or ["no person with this HSA-id"])[0]
        lines.append(f"  unmatched {item['source']}: {item['subject'] or '(unreadable)'} — {why}")
    if len(report["unmatched"]) > 20:
        lines.append(f"  ... and {len(report['unmatched']) - 20} more unmatched (see the JSON)")
    for prob in report.get("inputs", {}).get("problems", []):
        lines.append(f"  input {prob['severity']}: {prob['source']}: {prob['message']}")
    return lines
