"""The trust bundle: the operator's SITHS CA certificates, indexed by subject."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography import x509

from .keys import NOT_SIGNED, signed_by
from .names import LEGACY_CA_RE, TEST_CA_RE, legacy_tree
from .parse import parse_certificates


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
    return signed_by(cert, cert) != NOT_SIGNED


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
            if cert is None:
                raise AssertionError("a trusted CA record without its certificate")
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
                        f"The trust bundle contains the legacy CA '{name}' of the old "
                        f"{legacy_tree(name) or 'SITHS'} tree; certificates under it are still "
                        "reported as legacy.",
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
