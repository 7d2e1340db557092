"""Checking one certificate as a TLS relying party would, and as Webcert needs it.

Per certificate: the chain by signature up to a trusted root (with the path-length
constraint and keyCertSign of every CA), signature algorithms (SHA-1 is named, not
called a forgery), key strength, validity, legacy and test CAs, extended key usage of
authentication certificates, and revocation of the certificate *and of every CA above
it* by CRL and/or OCSP. Every finding has a code, a verdict (error/warning), a whole
sentence for the person reading the report, a fix, and technical detail for IT.

CA chains are verified once per CA and cached, so a leaf costs one signature check.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from ..i18n.core import N_, _
from .crl import CrlIndex, Revocation
from .keys import NOT_SIGNED, SIGNED_WEAK, key_description, signature_hash, signed_by
from .moments import aware
from .names import CA_V3_TREE, LEGACY_CA_RE, TEST_CA_RE, card_kind, legacy_tree
from .ocsp import FAILED, GOOD, REVOKED, OcspStatus
from .parse import CertRecord, name_attr, ocsp_urls_of
from .trust import TrustedCa, TrustStore

DEFAULT_WARN_DAYS = 60
DEFAULT_CRL_GRACE_DAYS = 7
MAX_CHAIN_DEPTH = 8
REVOCATION_MODES = ("crl", "ocsp", "both")
CLIENT_AUTH = ExtendedKeyUsageOID.CLIENT_AUTH.dotted_string
EKU_NAMES = {
    "1.3.6.1.5.5.7.3.1": "serverAuth",
    "1.3.6.1.5.5.7.3.2": "clientAuth",
    "1.3.6.1.5.5.7.3.3": "codeSigning",
    "1.3.6.1.5.5.7.3.4": "emailProtection",
    "1.3.6.1.5.5.7.3.8": "timeStamping",
    "1.3.6.1.5.5.7.3.9": "OCSPSigning",
    "1.3.6.1.4.1.311.20.2.2": "smartcardLogon",
    "2.5.29.37.0": "anyExtendedKeyUsage",
}

# Whole sentences for the catalog (N_ marks them; _() translates when a finding is made).
NEW_CARD = N_("The person needs a new SITHS card: order one from your SITHS card issuer.")
FRESH_CRL = N_(
    "Download a fresh CRL from Inera (the CRL Distribution Point of the CA) before the "
    "next run; schedule the download."
)
REMOVE_CA = N_("Remove this CA from the trust bundle; use the CA certificates Inera publishes.")
REVOKED_MSG = {
    "auth": N_("The authentication certificate was revoked on %(date)s (%(source)s)."),
    "sign": N_("The signing certificate was revoked on %(date)s (%(source)s)."),
    "certificate": N_("The certificate was revoked on %(date)s (%(source)s)."),
    "ca": N_("The CA certificate '%(name)s' was revoked on %(date)s (%(source)s)."),
}
OCSP_UNKNOWN = {
    "auth": N_("The OCSP responder does not know the authentication certificate: the issuing "
               "CA has no record of issuing it."),
    "sign": N_("The OCSP responder does not know the signing certificate: the issuing CA has "
               "no record of issuing it."),
    "certificate": N_("The OCSP responder does not know the certificate: the issuing CA has "
                      "no record of issuing it."),
    "ca": N_("The OCSP responder does not know the CA certificate '%(name)s'."),
}
CRL_STALE = {
    "auth": N_("The revocation status of the authentication certificate could not be "
               "established with a current CRL: the CRL from '%(ca)s' has been out of date "
               "since %(date)s."),
    "sign": N_("The revocation status of the signing certificate could not be established "
               "with a current CRL: the CRL from '%(ca)s' has been out of date since %(date)s."),
    "certificate": N_("The revocation status of the certificate could not be established with "
                      "a current CRL: the CRL from '%(ca)s' has been out of date since "
                      "%(date)s."),
    "ca": N_("The revocation status of the CA '%(name)s' could not be established with a "
             "current CRL: the CRL from '%(ca)s' has been out of date since %(date)s."),
}
NO_OCSP_ANSWER = {
    "auth": N_("Could not establish the revocation status of the authentication certificate: "
               "the OCSP responder gave no usable answer."),
    "sign": N_("Could not establish the revocation status of the signing certificate: the "
               "OCSP responder gave no usable answer."),
    "certificate": N_("Could not establish the revocation status of the certificate: the OCSP "
                      "responder gave no usable answer."),
    "ca": N_("Could not establish the revocation status of the CA '%(name)s': the OCSP "
             "responder gave no usable answer."),
}
NO_OCSP_ADDRESS = {
    "auth": N_("Could not establish the revocation status of the authentication certificate: "
               "it names no OCSP responder."),
    "sign": N_("Could not establish the revocation status of the signing certificate: it "
               "names no OCSP responder."),
    "certificate": N_("Could not establish the revocation status of the certificate: it names "
                      "no OCSP responder."),
}


@dataclass(frozen=True)
class Finding:
    """One thing found about a certificate: ``message`` and ``fix`` are whole sentences."""

    code: str
    severity: str  # error | warning
    message: str
    fix: str = ""
    it: str = ""  # technical detail for IT (OIDs, URLs, fingerprints)

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "severity": self.severity, "message": self.message,
                "fix": self.fix, "it": self.it}


def _error(code: str, message: str, fix: str = "", it: str = "") -> Finding:
    return Finding(code, "error", message, fix, it)


def _warning(code: str, message: str, fix: str = "", it: str = "") -> Finding:
    return Finding(code, "warning", message, fix, it)


@dataclass(frozen=True)
class ChainResult:
    ok: bool
    legacy: bool
    test: bool
    findings: tuple[Finding, ...]
    issuing_ca: str | None = None  # fingerprint of the CA that signed the certificate
    # how many more CAs the path-length constraints above allow below this CA
    budget: int | None = None
    budget_by: str = ""  # the CA whose pathLenConstraint sets the budget

    @property
    def problems(self) -> tuple[str, ...]:
        return tuple(f.message for f in self.findings if f.severity == "error")


@dataclass(frozen=True)
class CertCheck:
    record: CertRecord
    chain: ChainResult
    revoked: Revocation | None
    days_left: int | None
    findings: tuple[Finding, ...] = field(default=())
    card: str | None = None

    @property
    def problems(self) -> tuple[str, ...]:
        return tuple(f.message for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(f.message for f in self.findings if f.severity == "warning")

    @property
    def valid(self) -> bool:
        return not self.problems


def _legacy_finding(name: str) -> Finding:
    tree = legacy_tree(name)
    if tree == CA_V3_TREE:
        message = _(
            "The certificate was issued under the legacy CA '%(ca)s', the old SITHS CA v3 "
            "tree (Carelink), which is no longer trusted.", ca=name)
    else:
        message = _(
            "The certificate was issued under the legacy CA '%(ca)s', part of the old SITHS "
            "Root CA v1 tree, which stopped issuing on 2020-02-11 and was removed on "
            "2022-11-07.", ca=name)
    return _error("legacy_ca", message, _(NEW_CARD), f"legacy tree: {tree or 'SITHS (legacy)'}")


def _cn(name: x509.Name) -> str:
    return (name_attr(name, NameOID.COMMON_NAME) or [name.rfc4514_string()])[0]


def _when(moment: dt.datetime | None) -> str:
    return moment.date().isoformat() if moment else "an unknown date"


class Verifier:
    """Checks certificates against one trust store, CRL set, revocation mode and moment.

    ``revocation``: ``crl`` (the supplied CRLs), ``ocsp`` (the responder named in each
    certificate, through ``ocsp``, an ``OcspClient``) or ``both``.
    """

    def __init__(
        self,
        trust: TrustStore,
        crls: CrlIndex | None,
        now: dt.datetime,
        warn_days: int = DEFAULT_WARN_DAYS,
        *,
        crl_grace_days: int = DEFAULT_CRL_GRACE_DAYS,
        revocation: str = "crl",
        ocsp=None,
        require_status: bool = False,
    ) -> None:
        if revocation not in REVOCATION_MODES:
            raise ValueError(f"revocation must be one of {', '.join(REVOCATION_MODES)}")
        self.trust = trust
        self.crls = crls or CrlIndex()
        self.now = aware(now)
        self.warn_days = warn_days
        self.crl_grace_days = crl_grace_days
        self.use_crl = revocation in ("crl", "both")
        self.use_ocsp = revocation in ("ocsp", "both") and ocsp is not None
        self.ocsp = ocsp
        # warn about a certificate whose status nothing can establish (no CRL, no OCSP URL)
        self.require_status = require_status
        self.unchecked = 0  # certificates whose revocation status nothing could establish
        self._ca_cache: dict[str, ChainResult] = {}
        self._issuer_cache: dict[str, list[Finding]] = {}

    # -- revocation ---------------------------------------------------------------
    def revocation(
        self,
        cert: x509.Certificate,
        issuer: TrustedCa,
        ocsp_urls: tuple[str, ...],
        kind: str,
        name: str = "",
    ) -> tuple[Revocation | None, list[Finding]]:
        """Is ``cert`` (issued by ``issuer``) revoked? ``kind``: auth, sign, certificate, ca
        (``name`` is then the CA's name); it picks the sentences."""
        findings: list[Finding] = []
        established = False
        stale: dt.datetime | None = None
        missing_crl = False
        serial = f"serial {cert.serial_number:x}"
        if self.use_crl and self.crls.supplied:
            if issuer.fingerprint in self.crls.covered:
                hit = self.crls.revoked.get(issuer.fingerprint, {}).get(cert.serial_number)
                if hit is not None:
                    reason = f", reason {hit.reason}" if hit.reason else ""
                    return hit, [_error(
                        "revoked",
                        _(REVOKED_MSG[kind], date=_when(hit.date), source="CRL " + hit.crl_source,
                          name=name),
                        _(NEW_CARD),
                        f"{serial}{reason}; CRL {hit.crl_source} from '{issuer.name}'",
                    )]
                next_update = self.crls.next_update.get(issuer.fingerprint)
                if next_update is not None and next_update < self.now:
                    stale = next_update
                else:
                    established = True
            else:
                missing_crl = True
        ocsp_status: OcspStatus | None = None
        if self.use_ocsp and ocsp_urls:
            ocsp_status = self.ocsp.status(cert, issuer.cert, ocsp_urls)
            if ocsp_status.status == REVOKED:
                reason = f", reason {ocsp_status.reason}" if ocsp_status.reason else ""
                hit = Revocation(ocsp_status.revoked_at, ocsp_status.reason or None,
                                 f"OCSP {ocsp_status.url}")
                return hit, [_error(
                    "revoked",
                    _(REVOKED_MSG[kind], date=_when(ocsp_status.revoked_at),
                      source="OCSP " + ocsp_status.url, name=name),
                    _(NEW_CARD),
                    f"{serial}{reason}; responder {ocsp_status.url}",
                )]
            if ocsp_status.status == GOOD:
                established = True
            elif ocsp_status.status != FAILED:  # unknown
                return None, [_error(
                    "ocsp_unknown",
                    _(OCSP_UNKNOWN[kind], name=name),
                    _("Have IT compare the certificate with the card; it may be forged."),
                    f"{serial}; responder {ocsp_status.url}: certStatus unknown",
                )]
        if established:
            return None, findings
        if stale is not None:
            days = (self.now - stale).days
            findings.append(Finding(
                "crl_stale",
                "error" if days > self.crl_grace_days else "warning",
                _(CRL_STALE[kind], ca=issuer.name, date=_when(stale), name=name),
                _(FRESH_CRL),
                f"nextUpdate {stale.isoformat()}, {days} day(s) ago; grace "
                f"{self.crl_grace_days} day(s)",
            ))
        elif ocsp_status is not None:
            findings.append(_warning(
                "revocation_unknown",
                _(NO_OCSP_ANSWER[kind], name=name),
                _("Check that the control node reaches the OCSP responder, or supply CRLs "
                  "(siths_crl_files)."),
                f"{ocsp_status.url or 'no URL'}: {ocsp_status.reason}",
            ))
        elif missing_crl:
            findings.append(_warning(
                "revocation_not_checked",
                _("revocation not checked: no valid CRL supplied for '%(ca)s'", ca=issuer.name),
                _(FRESH_CRL),
                f"CA fingerprint {issuer.fingerprint}",
            ))
        elif self.use_ocsp and not ocsp_urls and not self.use_crl and kind != "ca":
            self.unchecked += 1
            if not self.require_status:
                return None, findings
            findings.append(_warning(
                "revocation_unknown",
                _(NO_OCSP_ADDRESS[kind]),
                _("Supply CRLs (siths_crl_files) or use siths_revocation: both."),
                "no Authority Information Access OCSP URL",
            ))
        return None, findings

    # -- the CAs --------------------------------------------------------------------
    def _ca_own_findings(self, ca: TrustedCa) -> list[Finding]:
        cert = ca.cert
        found: list[Finding] = []
        if cert.not_valid_after_utc < self.now:
            found.append(_error("ca_expired",
                                _("CA '%(ca)s' expired on %(date)s", ca=ca.name,
                                  date=cert.not_valid_after_utc.date().isoformat())))
        elif cert.not_valid_before_utc > self.now:
            found.append(_error("ca_not_yet_valid", _(
                "CA '%(ca)s' is not valid until %(date)s", ca=ca.name,
                date=cert.not_valid_before_utc.date().isoformat())))
        desc, weak = key_description(cert.public_key())
        if weak:
            found.append(_error(
                "weak_key",
                _("The CA '%(ca)s' has a key that is too weak (%(key)s): TLS relying parties "
                  "refuse it.", ca=ca.name, key=desc),
                _(REMOVE_CA),
                f"{desc}; minimum RSA 2048 / EC 256 bits (security level 2)",
            ))
        return found

    def _ca_chain(self, ca: TrustedCa, depth: int = 0) -> ChainResult:
        cached = self._ca_cache.get(ca.fingerprint)
        if cached is not None:
            return cached
        findings = self._ca_own_findings(ca)
        cert = ca.cert
        legacy, test = ca.legacy, ca.test
        own_limit = _path_length(cert)
        budget, budget_by = own_limit, ca.name if own_limit is not None else ""
        if not ca.is_root:
            parent_result = None
            if depth >= MAX_CHAIN_DEPTH:
                findings.append(_error("chain_loop",
                                       _("CA chain above '%(ca)s' is too long or loops",
                                         ca=ca.name)))
            else:
                parents = self.trust.candidates(cert.issuer)
                verdicts = [(p, signed_by(cert, p.cert)) for p in parents]
                parent, verdict = next(((p, v) for p, v in verdicts if v != NOT_SIGNED),
                                       (None, NOT_SIGNED))
                if parent is None:
                    issuer_cn = _cn(cert.issuer)
                    if parents:
                        findings.append(_error(
                            "ca_signature",
                            _("CA '%(ca)s' is not signed by the trusted CA '%(issuer)s' "
                              "(signature check failed)", ca=ca.name, issuer=issuer_cn)))
                    else:
                        findings.append(_error(
                            "ca_missing",
                            _("the trust bundle lacks '%(issuer)s', the CA above '%(ca)s'",
                              issuer=issuer_cn, ca=ca.name)))
                    legacy = legacy or bool(LEGACY_CA_RE.match(issuer_cn))
                else:
                    self._ca_cache[ca.fingerprint] = ChainResult(
                        False, legacy, test, (_error("chain_loop", "chain loops"),))
                    if verdict == SIGNED_WEAK:
                        findings.append(_sha1_finding(signature_hash(cert), ca.name))
                    findings.extend(_issuer_findings(parent))
                    parent_result = self._ca_chain(parent, depth + 1)
                    if parent_result.budget is not None and parent_result.budget < 1:
                        findings.append(_error(
                            "path_length",
                            _("The CA '%(ca)s' is not allowed where it is: the CA '%(parent)s' "
                              "allows no further CA below it (path length constraint).",
                              ca=ca.name, parent=parent_result.budget_by),
                            _("Remove this CA from the trust bundle; a card under it is not "
                              "valid."),
                            f"pathLenConstraint of '{parent_result.budget_by}' exceeded",
                        ))
                    elif parent_result.budget is not None and (
                        budget is None or parent_result.budget - 1 < budget
                    ):
                        budget, budget_by = parent_result.budget - 1, parent_result.budget_by
                    _revoked, rev_findings = self.revocation(
                        cert, parent, ocsp_urls_of(cert), "ca", ca.name)
                    for f in rev_findings:
                        if f.code == "revoked":
                            f = _error(
                                "ca_revoked",
                                _("The issuing CA '%(ca)s' has been revoked by '%(parent)s': no "
                                  "certificate under it can be trusted.", ca=ca.name,
                                  parent=parent.name),
                                _("Every card under this CA must be replaced: the people need "
                                  "new SITHS cards. Remove the revoked CA from the trust "
                                  "bundle."),
                                f.message + " " + f.it,
                            )
                        findings.append(f)
            if parent_result is not None:
                findings.extend(parent_result.findings)
                legacy = legacy or parent_result.legacy
                test = test or parent_result.test
        ok = not any(f.severity == "error" for f in findings)
        result = ChainResult(ok, legacy, test, tuple(findings), ca.fingerprint, budget, budget_by)
        self._ca_cache[ca.fingerprint] = result
        return result

    def chain(self, record: CertRecord) -> ChainResult:
        cert = record.cert
        if cert is None:
            raise AssertionError("a certificate record without its certificate")
        issuer_name = record.issuer_cn or record.issuer
        name_legacy = bool(LEGACY_CA_RE.match(record.issuer_cn))
        name_test = bool(TEST_CA_RE.match(record.issuer_cn))
        candidates = self.trust.candidates(cert.issuer)
        for ca in candidates:
            verdict = signed_by(cert, ca.cert)
            if verdict == NOT_SIGNED:
                continue
            up = self._ca_chain(ca)
            extra = list(self._issuer_findings(ca))
            if verdict == SIGNED_WEAK:
                extra.append(_sha1_finding(signature_hash(cert)))
            findings = tuple(extra) + up.findings
            return ChainResult(
                not any(f.severity == "error" for f in findings),
                up.legacy or name_legacy,
                up.test or name_test,
                findings,
                ca.fingerprint,
            )
        if candidates:
            finding = _error(
                "signature",
                _("the signature does not match the trusted CA '%(ca)s': the certificate names "
                  "that issuer but was not signed by it (forged, or from another PKI with the "
                  "same CA name)", ca=issuer_name),
                _("Have IT investigate where the certificate came from."),
            )
        elif name_legacy:
            finding = _error("legacy_ca_missing",
                             _("the legacy CA '%(ca)s' is not in the trust bundle", ca=issuer_name),
                             _(NEW_CARD))
        else:
            finding = _error(
                "issuer_missing",
                _("issuer '%(ca)s' is not in the trust bundle", ca=issuer_name),
                _("Add the SITHS CA certificates Inera publishes to the trust bundle."))
        return ChainResult(False, name_legacy, name_test, (finding,))

    # -- one certificate -----------------------------------------------------------------
    def check(self, record: CertRecord) -> CertCheck:
        if not record.readable:
            return CertCheck(
                record,
                ChainResult(False, False, False, ()),
                None,
                None,
                tuple(_error("unreadable", p) for p in record.problems)
                + tuple(_warning("input", w) for w in record.warnings),
            )
        found: list[Finding] = [_error("profile", p) for p in record.problems]
        found += [_warning("profile", w) for w in record.warnings]
        chain = self.chain(record)
        if chain.legacy:
            found.append(_legacy_finding(record.issuer_cn or record.issuer))
        found.extend(f for f in chain.findings if f.severity == "error")
        if chain.test:
            found.append(_warning(
                "test_ca", _("issued by a test CA ('%(ca)s'), not production SITHS",
                             ca=record.issuer_cn)))
        cert = record.cert
        if cert is None or record.not_before is None or record.not_after is None:
            raise AssertionError("a certificate record without its certificate or validity dates")
        desc, weak = key_description(cert.public_key())
        if weak:
            found.append(_error(
                "weak_key",
                _("The certificate's key is too weak (%(key)s): Webcert's login (TLS) refuses it.",
                  key=desc),
                _(NEW_CARD),
                f"{desc}; minimum RSA 2048 / EC 256 bits (security level 2)",
            ))
        if record.usage == "auth":
            found.extend(_eku_findings(record))
        if self.now < record.not_before:
            found.append(_error("not_yet_valid",
                                _("not valid until %(date)s",
                                  date=record.not_before.date().isoformat())))
        if self.now > record.not_after:
            found.append(_error("expired", _("expired on %(date)s",
                                             date=record.not_after.date().isoformat()),
                                _(NEW_CARD)))
        days_left = (record.not_after - self.now).days
        if 0 <= days_left <= self.warn_days and self.now <= record.not_after:
            found.append(_warning(
                "expiring",
                _("expires in %(days)s days (%(date)s)", days=days_left,
                  date=record.not_after.date().isoformat()),
                _("Order a new card in good time from your SITHS card issuer."),
            ))
        revoked = None
        if chain.issuing_ca is not None:
            issuer = self._by_fp()[chain.issuing_ca]
            kind = record.usage if record.usage in ("auth", "sign") else "certificate"
            revoked, rev_findings = self.revocation(cert, issuer, record.ocsp_urls, kind)
            found.extend(rev_findings)
        found.extend(f for f in chain.findings if f.severity == "warning")
        return CertCheck(record, chain, revoked, days_left, tuple(_unique(found)),
                         card_kind(record.issuer_cn))

    def _issuer_findings(self, ca: TrustedCa) -> list[Finding]:
        cached = self._issuer_cache.get(ca.fingerprint)
        if cached is None:
            cached = self._issuer_cache[ca.fingerprint] = _issuer_findings(ca)
        return cached

    def _by_fp(self) -> dict[str, TrustedCa]:
        index = getattr(self, "_fp_index", None)
        if index is None:
            index = {ca.fingerprint: ca for ca in self.trust.cas}
            self._fp_index = index
        return index


def _unique(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str]] = set()
    out = []
    for f in findings:
        if (f.severity, f.message) not in seen:
            seen.add((f.severity, f.message))
            out.append(f)
    return out


def _path_length(cert: x509.Certificate) -> int | None:
    try:
        return cert.extensions.get_extension_for_oid(
            ExtensionOID.BASIC_CONSTRAINTS).value.path_length
    except x509.ExtensionNotFound:
        return None


def _issuer_findings(ca: TrustedCa) -> list[Finding]:
    """An issuer must be allowed to sign certificates (keyCertSign, when key usage is set)."""
    try:
        ku = ca.cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return []
    if ku.key_cert_sign:
        return []
    return [_error(
        "ca_key_usage",
        _("The CA '%(ca)s' is not allowed to sign certificates (its key usage lacks "
          "keyCertSign).", ca=ca.name),
        _(REMOVE_CA),
        "keyUsage without keyCertSign",
    )]


def _sha1_finding(algorithm: str | None, ca: str = "") -> Finding:
    name = (algorithm or "sha1").upper().replace("SHA1", "SHA-1")
    if ca:
        message = _("The CA certificate '%(ca)s' is signed with %(hash)s, which is no longer "
                    "accepted.", ca=ca, hash=name)
    else:
        message = _("The certificate is signed with %(hash)s, which is no longer accepted.",
                    hash=name)
    return _error(
        "weak_signature",
        message,
        _(NEW_CARD),
        f"signature hash {algorithm}; relying parties at security level 2 refuse SHA-1 and MD5",
    )


def _eku_findings(record: CertRecord) -> list[Finding]:
    """An authentication certificate is used for TLS client authentication: clientAuth."""
    if record.eku is None:
        return [_warning(
            "eku_missing",
            _("The authentication certificate has no extended key usage; SITHS authentication "
              "certificates carry clientAuth."),
            _("Have IT check where the certificate came from."),
            "no extendedKeyUsage extension (RFC 5280: any purpose)",
        )]
    if CLIENT_AUTH in record.eku:
        return []
    shown = ", ".join(f"{EKU_NAMES.get(o, o)} ({o})" for o in record.eku) or "none"
    return [_error(
        "eku_client_auth",
        _("The authentication certificate cannot be used to log in to Webcert: its extended "
          "key usage does not allow TLS client authentication."),
        _(NEW_CARD),
        f"extendedKeyUsage: {shown}; required: clientAuth ({CLIENT_AUTH})",
    )]
