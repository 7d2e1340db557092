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


def certificate_der(content: str | bytes) -> bytes:
    """DER bytes of the (first) certificate given as PEM text, DER bytes, or base64 of
    either (Ansible's ``slurp`` returns base64). Raises ValueError when it is neither."""
    raw = content.encode("ascii", "ignore") if isinstance(content, str) else bytes(content)
    if b"-----BEGIN" not in raw and not raw.startswith(b"\x30"):
        try:
            raw = base64.b64decode(raw, validate=False)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("not a certificate (neither PEM nor DER)") from exc
    if b"-----BEGIN" in raw:
        block = next(((der, err) for label, der, err in pem_blocks(raw) if label in CERT_LABELS),
                     None)
        if block is None:
            raise ValueError("not a certificate (neither PEM nor DER)")
        if block[0] is None:
            raise ValueError(f"PEM block is not valid: {block[1]}")
        raw = block[0]
    if not raw.startswith(b"\x30") or len(raw) < 64:
        raise ValueError("not a certificate (neither PEM nor DER)")
    return raw
