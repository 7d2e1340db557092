"""CRLs: kept only when their signature verifies against a trusted CA."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.x509.oid import CRLEntryExtensionOID

from .moments import aware
from .parse import short_error
from .pem import CRL_LABELS, pem_blocks
from .trust import InputProblem, TrustStore


@dataclass(frozen=True)
class Revocation:
    date: dt.datetime | None
    reason: str | None
    crl_source: str


@dataclass
class CrlIndex:
    revoked: dict[str, dict[int, Revocation]] = field(default_factory=dict)  # CA fp -> serials
    covered: set[str] = field(default_factory=set)  # CA fingerprints with a valid CRL
    # CA fingerprint -> the latest nextUpdate among its valid CRLs (None: no nextUpdate)
    next_update: dict[str, dt.datetime | None] = field(default_factory=dict)
    problems: list[InputProblem] = field(default_factory=list)
    supplied: bool = False


def _parse_crls(data: bytes, source: str) -> tuple[list[x509.CertificateRevocationList], list[str]]:
    errors: list[str] = []
    crls = []
    if b"-----BEGIN" in data:
        ders = []
        for label, der, error in pem_blocks(data):
            if label not in CRL_LABELS:
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
            errors.append(f"not a readable CRL ({short_error(exc)})")
    return crls, errors


def load_crls(items: Iterable[tuple[str, bytes]], trust: TrustStore, now: dt.datetime) -> CrlIndex:
    """Keep CRLs whose signature verifies against a trusted CA with the CRL's issuer name."""
    now = aware(now)
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
            fp = signer.fingerprint
            if fp not in index.next_update:
                index.next_update[fp] = next_update
            elif index.next_update[fp] is not None:
                latest = index.next_update[fp]
                index.next_update[fp] = None if next_update is None else max(latest, next_update)
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
