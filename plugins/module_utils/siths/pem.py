"""The one PEM reader of the toolkit: split PEM text into labelled DER blocks.

Used for certificates and CRLs here, and by anything else that reads PEM
(``certificate_der`` gives the DER of the first certificate in PEM, DER or base64).
"""

from __future__ import annotations

import base64
import binascii
import re

PEM_BLOCK_RE = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]+)-----(.*?)(?:-----END \1-----|(?=-----BEGIN )|\Z)", re.DOTALL
)
CERT_LABELS = {b"CERTIFICATE", b"X509 CERTIFICATE", b"TRUSTED CERTIFICATE"}
CRL_LABELS = {b"X509 CRL"}


def pem_blocks(data: bytes) -> list[tuple[bytes, bytes | None, str | None]]:
    """Split PEM text into ``(label, der, error)``; ``der`` is None when the block is bad."""
    out: list[tuple[bytes, bytes | None, str | None]] = []
    for match in PEM_BLOCK_RE.finditer(data):
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
