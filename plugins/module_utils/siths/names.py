"""Names in the SITHS PKI: legacy and test CAs, and personnummer masking."""

from __future__ import annotations

import re

# The old SITHS trees (stopped issuing 2020-02-11, removed 2022-11-07) and
# their test variants. See docs/siths.md, "The legacy chain".
_TEST_PREFIX = r"(?:(?:TEST|PP|SYSTEMTEST)\s+)?"
LEGACY_CA_RE = re.compile(
    rf"^{_TEST_PREFIX}SITHS\s+(?:Root\s+CA\s+v1|Type\s+[13]\s+CA\s+v1|CA\s+v3)$", re.IGNORECASE
)
TEST_CA_RE = re.compile(r"^(?:TEST|PP|SYSTEMTEST)\s+SITHS\b", re.IGNORECASE)
# Personnummer / samordningsnummer (10 or 12 digits, optional - or +). Masked in output.
_PERSONNUMMER_RE = re.compile(r"\b((?:19|20)?\d{6}[-+]?)\d{4}\b")


def mask_personnummer(text: str) -> str:
    """Hide the last four digits of anything shaped like a personal identity number."""
    return _PERSONNUMMER_RE.sub(lambda m: m.group(1) + "****", text)


def is_personnummer(value: str) -> bool:
    return bool(re.fullmatch(r"(?:19|20)?\d{6}[-+]?\d{4}", value))
