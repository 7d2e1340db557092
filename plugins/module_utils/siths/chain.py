"""Checking one certificate: chain by signature, validity, legacy CA, revocation.

CA chains are verified once per CA and cached, so a leaf costs one signature check.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import NameOID

from .crl import CrlIndex, Revocation
from .moments import aware
from .names import LEGACY_CA_RE, TEST_CA_RE
from .parse import CertRecord, name_attr
from .trust import TrustedCa, TrustStore

DEFAULT_WARN_DAYS = 60
MAX_CHAIN_DEPTH = 8

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
        self.now = aware(now)
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
                    issuer_cn = (name_attr(cert.issuer, NameOID.COMMON_NAME) or [""])[0]
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
