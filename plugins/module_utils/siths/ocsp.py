"""Revocation status by OCSP (RFC 6960) with ``cryptography.x509.ocsp``.

``check_response`` is pure: it accepts a response only when it answers for exactly
this certificate (CertID: serial, issuer name hash and key hash), is signed by the
issuing CA itself or by a responder certificate the issuing CA issued with the
extended key usage OCSPSigning (the delegation rule of RFC 6960 4.2.2.2), is fresh
(thisUpdate not in the future, nextUpdate not passed; without nextUpdate not older
than ``max_age``), and echoes our nonce when the responder supports nonces (a
missing nonce is accepted: many responders, pre-signed ones in particular, omit it;
a different nonce is refused).

``OcspClient`` is the I/O edge: HTTP POST to the certificate's AIA address with a
timeout, one request per certificate, answers cached for the run, many requests in
parallel (``prefetch``). A responder that cannot be reached ``GIVE_UP_AFTER`` times in a
row is not asked again in the run, so an unreachable responder costs a few timeouts,
not one per certificate.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from .keys import SIGNED, signed_by

DEFAULT_TIMEOUT = 5.0
CLOCK_SKEW = dt.timedelta(minutes=5)
MAX_AGE = dt.timedelta(days=1)  # for responses without nextUpdate
MAX_RESPONSE_BYTES = 1024 * 1024
GIVE_UP_AFTER = 3  # consecutive connection failures or timeouts of one responder

GOOD = "good"
REVOKED = "revoked"
UNKNOWN = "unknown"  # the responder does not know the certificate
FAILED = "failed"  # no usable answer: the status could not be established


@dataclass(frozen=True)
class OcspStatus:
    status: str  # good | revoked | unknown | failed
    url: str = ""
    reason: str = ""  # why it failed (för IT), or the revocation reason
    revoked_at: dt.datetime | None = None


def build_request(cert: x509.Certificate, issuer: x509.Certificate, nonce: bytes | None):
    # SHA-1 only names the certificate (CertID), as RFC 6960 and responders expect
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1())  # noqa: S303
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build()


def _verify(public_key, signature: bytes, data: bytes, algorithm) -> bool:
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), algorithm)
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(algorithm))
        else:
            public_key.verify(signature, data)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def _responder_is(resp: ocsp.OCSPResponse, cert: x509.Certificate) -> bool:
    if resp.responder_name is not None:
        return resp.responder_name == cert.subject
    key_hash = x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest
    return resp.responder_key_hash == key_hash


def _signer(resp: ocsp.OCSPResponse, issuer: x509.Certificate, now: dt.datetime):
    """(public key, None) of whoever may sign for ``issuer``, or (None, why not)."""
    if _responder_is(resp, issuer):
        return issuer.public_key(), None
    for cert in resp.certificates:
        if not _responder_is(resp, cert):
            continue
        if signed_by(cert, issuer) != SIGNED:
            return None, "the responder certificate was not issued by the certificate's CA"
        try:
            eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            eku = []
        if ExtendedKeyUsageOID.OCSP_SIGNING not in eku:
            return None, "the responder certificate lacks the extended key usage OCSPSigning"
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            return None, "the responder certificate is outside its validity period"
        return cert.public_key(), None
    return None, "the response is signed by neither the CA nor a responder certificate it issued"


def check_response(
    data: bytes,
    cert: x509.Certificate,
    issuer: x509.Certificate,
    now: dt.datetime,
    nonce: bytes | None,
    url: str = "",
    max_age: dt.timedelta = MAX_AGE,
) -> OcspStatus:
    """The status a DER OCSP response gives ``cert``, after every check of the module doc."""

    def failed(why: str) -> OcspStatus:
        return OcspStatus(FAILED, url, why)

    try:
        resp = ocsp.load_der_ocsp_response(data)
    except ValueError as exc:
        return failed(f"the answer is not an OCSP response ({exc})")
    if resp.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        return failed(f"the responder answered {resp.response_status.name}")
    public_key, why = _signer(resp, issuer, now)
    if public_key is None:
        return failed(why or "no signer")
    if not _verify(public_key, resp.signature, resp.tbs_response_bytes,
                   resp.signature_hash_algorithm):
        return failed("the response's signature does not verify")
    if nonce is not None:
        try:
            echoed = resp.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
        except x509.ExtensionNotFound:
            echoed = None
        if echoed is not None and echoed != nonce:
            return failed("the response carries another nonce than the request (a replay?)")
    probe = build_request(cert, issuer, None)
    single = None
    for answer in resp.responses:
        if (
            answer.serial_number == cert.serial_number
            and answer.issuer_key_hash == _rehash(probe, answer.hash_algorithm, cert, issuer, "key")
            and answer.issuer_name_hash
            == _rehash(probe, answer.hash_algorithm, cert, issuer, "name")
        ):
            single = answer
            break
    if single is None:
        return failed("the response does not answer for this certificate")
    this_update = single.this_update_utc
    next_update = single.next_update_utc
    if this_update > now + CLOCK_SKEW:
        return failed(f"the response is dated in the future ({this_update.isoformat()})")
    if next_update is not None and next_update < now - CLOCK_SKEW:
        return failed(f"the response is out of date (nextUpdate {next_update.isoformat()})")
    if next_update is None and this_update < now - max_age:
        return failed(f"the response is older than {max_age} (thisUpdate {this_update.isoformat()})")
    status = single.certificate_status
    if status == ocsp.OCSPCertStatus.GOOD:
        return OcspStatus(GOOD, url)
    if status == ocsp.OCSPCertStatus.REVOKED:
        reason = single.revocation_reason.name if single.revocation_reason else ""
        return OcspStatus(REVOKED, url, reason, single.revocation_time_utc)
    return OcspStatus(UNKNOWN, url, "the responder does not know this certificate")


def _rehash(probe, algorithm, cert, issuer, which: str) -> bytes:
    if type(probe.hash_algorithm) is type(algorithm):
        return probe.issuer_key_hash if which == "key" else probe.issuer_name_hash
    other = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, algorithm).build()
    return other.issuer_key_hash if which == "key" else other.issuer_name_hash


class OcspClient:
    """Asks the responders named in the certificates, with a timeout; answers are cached."""

    def __init__(self, now: dt.datetime, timeout: float = DEFAULT_TIMEOUT,
                 workers: int = 16, use_nonce: bool = True) -> None:
        self.now = now
        self.timeout = timeout
        self.workers = workers
        self.use_nonce = use_nonce
        self._cache: dict[tuple[bytes, int], OcspStatus] = {}
        # a responder that failed to answer GIVE_UP_AFTER times in a row is not asked again
        # in this run (10,000 certificates must not wait 10,000 timeouts)
        self._failures: dict[str, int] = {}
        self._down: dict[str, str] = {}
        self._lock = threading.Lock()

    def _key(self, cert: x509.Certificate, issuer: x509.Certificate) -> tuple[bytes, int]:
        return (issuer.fingerprint(hashes.SHA256()), cert.serial_number)

    def status(self, cert: x509.Certificate, issuer: x509.Certificate,
               urls: Iterable[str]) -> OcspStatus:
        key = self._key(cert, issuer)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._ask(cert, issuer, list(urls))
            self._cache[key] = cached
        return cached

    def prefetch(self, items: Iterable[tuple[x509.Certificate, x509.Certificate, tuple[str, ...]]]):
        """Ask for many certificates at once (``workers`` requests in parallel)."""
        todo = {}
        for cert, issuer, urls in items:
            key = self._key(cert, issuer)
            if urls and key not in self._cache and key not in todo:
                todo[key] = (cert, issuer, list(urls))
        if not todo:
            return
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            futures = {key: pool.submit(self._ask, *args) for key, args in todo.items()}
            for key, future in futures.items():
                self._cache[key] = future.result()

    def _failed(self, url: str, reason: str) -> None:
        with self._lock:
            self._failures[url] = self._failures.get(url, 0) + 1
            if self._failures[url] >= GIVE_UP_AFTER:
                self._down[url] = (f"the responder could not be reached ({reason}); after "
                                   f"{GIVE_UP_AFTER} failures in a row it was not asked again")

    def _ask(self, cert: x509.Certificate, issuer: x509.Certificate, urls: list[str]) -> OcspStatus:
        last = OcspStatus(FAILED, "", "the certificate names no OCSP responder")
        for url in urls:
            if not url.lower().startswith(("http://", "https://")):
                last = OcspStatus(FAILED, url, "the OCSP address is not an http(s) URL")
                continue
            with self._lock:
                down = self._down.get(url)
            if down is not None:
                last = OcspStatus(FAILED, url, down)
                continue
            nonce = os.urandom(16) if self.use_nonce else None
            request = build_request(cert, issuer, nonce)
            body = request.public_bytes(serialization.Encoding.DER)
            http = urllib.request.Request(  # noqa: S310 - http(s) checked above
                url, data=body, method="POST",
                headers={"Content-Type": "application/ocsp-request",
                         "Accept": "application/ocsp-response"})
            try:
                with urllib.request.urlopen(http, timeout=self.timeout) as answer:  # noqa: S310
                    data = answer.read(MAX_RESPONSE_BYTES + 1)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                reason = getattr(exc, "reason", exc)
                last = OcspStatus(FAILED, url, f"the responder could not be reached ({reason})")
                self._failed(url, str(reason))
                continue
            with self._lock:
                self._failures[url] = 0
            if len(data) > MAX_RESPONSE_BYTES:
                last = OcspStatus(FAILED, url, "the answer is too large for an OCSP response")
                continue
            result = check_response(data, cert, issuer, self.now, nonce, url)
            if result.status != FAILED:
                return result
            last = result
        return last
