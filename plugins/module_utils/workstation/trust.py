"""Trusted-CA bookkeeping for Windows certificate stores (pure)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Mapping

from ..siths.legacy_cas import is_legacy_ca_name


def certificate_der(content: str | bytes) -> bytes:
    """DER bytes of a certificate given as PEM text, DER bytes, or base64 of either
    (``slurp`` returns base64). Raises ValueError when it is neither."""
    raw = content.encode("ascii", "ignore") if isinstance(content, str) else bytes(content)
    if b"-----BEGIN CERTIFICATE-----" not in raw and not raw.startswith(b"\x30"):
        try:
            decoded = base64.b64decode(raw, validate=False)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("not a certificate (neither PEM nor DER)") from exc
        raw = decoded
    if b"-----BEGIN CERTIFICATE-----" in raw:
        body = raw.split(b"-----BEGIN CERTIFICATE-----", 1)[1].split(b"-----END CERTIFICATE-----", 1)[0]
        try:
            raw = base64.b64decode(b"".join(body.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("PEM block is not valid base64") from exc
    if not raw.startswith(b"\x30") or len(raw) < 64:
        raise ValueError("not a certificate (neither PEM nor DER)")
    return raw


def certificate_thumbprint(content: str | bytes) -> str:
    """Windows thumbprint (upper-case SHA-1 of the DER encoding)."""
    return hashlib.sha1(certificate_der(content), usedforsecurity=False).hexdigest().upper()


def subject_cn(subject: str) -> str | None:
    """The CN of a Windows-formatted subject (``CN=SITHS Root CA v1, O=Inera AB, C=SE``)."""
    match = re.search(r"(?:^|,\s*)CN=(\"[^\"]*\"|[^,]*)", subject or "")
    if not match:
        return None
    return match.group(1).strip().strip('"')


def legacy_certificates(
    certificates: Iterable[Mapping] | None, legacy_names: Iterable[str] | None = None
) -> list[dict]:
    """Certificates (win_certificate_info rows) whose subject CN is a legacy SITHS CA name,
    including TEST/PP/SYSTEMTEST-prefixed variants. ``legacy_names`` None or empty = the
    toolkit's list (``siths.legacy_cas.LEGACY_SITHS_CA_NAMES``)."""
    names = tuple(legacy_names or ()) or None
    found = []
    for cert in certificates or []:
        cn = subject_cn(str(cert.get("subject", "")))
        if cn is None or not is_legacy_ca_name(cn, names):
            continue
        found.append(
            {
                "thumbprint": str(cert.get("thumbprint", "")).upper(),
                "subject": str(cert.get("subject", "")),
            }
        )
    return found
