"""Attributing certificates to people and choosing each person's best pair.

A certificate belongs to the directory entry it was published on (its ``hsaIdentity``),
else to the person whose HSA-id is in its subject serialNumber, else to the one person
with its full name. ``verify`` builds the "Certificate findings" report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..i18n.core import N_, _, ngettext
from .chain import DEFAULT_CRL_GRACE_DAYS, DEFAULT_WARN_DAYS, CertCheck, Verifier
from .crl import CrlIndex
from .moments import aware
from .names import mask_personnummer
from .parse import CertRecord
from .trust import TrustStore


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
        "card": check.card,
        "findings": [f.as_dict() for f in check.findings],
        "fingerprint_sha256": rec.fingerprint or None,
        "sources": sources,
    }


NO_CERT_FIX = N_(
    "Publish the card's certificates on the person's HSA entry, or collect them from the "
    "workstations, and check the HSA-id."
)
MISSING_FIX = N_("Export both certificates from the card, or have the card checked.")
HSA_ID_FIX = N_(
    "Correct the HSA-id in the provider description (siths.serial_number if the card "
    "deliberately carries another id), or replace the card."
)
# A finding of the person's chosen certificate, labelled with which one it is.
LABELLED = {
    "auth": N_("authentication certificate: %(text)s"),
    "sign": N_("signing certificate: %(text)s"),
}
MISSING = {
    "auth": N_("no authentication certificate found (key usage digitalSignature)"),
    "sign": N_("no signing certificate found (key usage nonRepudiation)"),
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
    *,
    crl_grace_days: int = DEFAULT_CRL_GRACE_DAYS,
    revocation: str = "crl",
    ocsp: Any = None,
    require_status: bool = False,
) -> dict[str, Any]:
    """The "Certificate findings" report for ``people`` (see docs/architecture.md).

    ``revocation`` is ``crl``, ``ocsp`` or ``both``; ``ocsp`` an ``ocsp.OcspClient``.
    """
    now = aware(now)
    refs = [person_ref(p) for p in people]
    verifier = Verifier(trust, crls, now, warn_days, crl_grace_days=crl_grace_days,
                        revocation=revocation, ocsp=ocsp, require_status=require_status)

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

    if verifier.use_ocsp:
        _prefetch_ocsp(verifier, unique)

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
    if verifier.unchecked:
        input_problems.append({
            "source": "revocation",
            "severity": "warning",
            "message": ngettext(
                "%(num)s certificate names no OCSP responder and no CRLs were supplied: its "
                "revocation status was not checked.",
                "%(num)s certificates name no OCSP responder and no CRLs were supplied: their "
                "revocation status was not checked.", verifier.unchecked),
        })
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
            warnings.append(_("unreadable certificate at %(source)s: %(problems)s",
                              source=rec.source, problems="; ".join(rec.problems)))
            continue
        extra: tuple[str, ...] = ()
        if _fold(rec.serial_number) != _fold(expected):
            if rec.serial_number:
                text = _("HSA-id in the certificate (subject serialNumber) is %(found)s, "
                         "expected %(expected)s", found=mask_personnummer(rec.serial_number),
                         expected=expected)
            else:
                text = _("the certificate has no HSA-id (subject serialNumber), expected "
                         "%(expected)s", expected=expected)
            extra = (text,)
        cand = _Candidate(check, extra)
        index_of[id(cand)] = idx
        if rec.usage == "auth":
            auths.append(cand)
        elif rec.usage == "sign":
            signs.append(cand)
        else:
            warnings.append(_("certificate at %(source)s has no authentication or signing key "
                              "usage — not used", source=rec.source))
    auth, sign = _pick_pair(auths, signs)
    findings: list[dict[str, str]] = []
    if not auths and not signs:
        problems.append(_(
            "no SITHS certificate found (looked on the directory entry, in the "
            "certificate files and in host stores)"
        ))
        findings.append({"certificate": "", "code": "no_certificate", "severity": "error",
                         "message": problems[-1], "fix": _(NO_CERT_FIX), "it": ""})
    else:
        for usage, chosen in (("auth", auth), ("sign", sign)):
            if chosen is None:
                ku = "nonRepudiation" if usage == "sign" else "digitalSignature"
                problems.append(_(MISSING[usage]))
                findings.append({"certificate": usage, "code": "missing_" + usage,
                                 "severity": "error", "message": problems[-1],
                                 "fix": _(MISSING_FIX), "it": f"keyUsage {ku}"})
                continue
            problems.extend(_(LABELLED[usage], text=p)
                            for p in chosen.extra + chosen.check.problems)
            warnings.extend(_(LABELLED[usage], text=w) for w in chosen.check.warnings)
            for text in chosen.extra:
                findings.append({"certificate": usage, "code": "hsa_id", "severity": "error",
                                 "message": text, "fix": _(HSA_ID_FIX), "it": ""})
            findings.extend(dict(f.as_dict(), certificate=usage) for f in chosen.check.findings)
    chosen_card = next((c.check.card for c in (auth, sign) if c is not None and c.check.card),
                       None)

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
        "card": chosen_card,
        "findings": findings,
        "certificates_seen": len(found),
    }


def _prefetch_ocsp(verifier: Verifier, records: list[CertRecord]) -> None:
    """Ask the OCSP responders for every certificate at once (in parallel)."""
    by_fp = {ca.fingerprint: ca for ca in verifier.trust.cas}
    todo = []
    for rec in records:
        if rec.readable and rec.ocsp_urls:
            issuing = verifier.chain(rec).issuing_ca
            if issuing is not None:
                todo.append((rec.cert, by_fp[issuing].cert, rec.ocsp_urls))
    verifier.ocsp.prefetch(todo)
