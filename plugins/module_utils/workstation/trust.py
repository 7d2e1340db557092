"""Trusted-CA bookkeeping for Windows certificate stores (pure)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping

from ..siths.legacy_cas import is_legacy_ca_name
from ..siths.pem import certificate_der  # the toolkit's one PEM reader


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
