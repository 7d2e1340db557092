"""Names in the SITHS PKI: legacy trees, card kinds, test CAs, and personnummer masking.

Facts (docs/siths.md, "The legacy chain"): the old **SITHS Root CA v1** tree (issuing CAs
**SITHS Type 1 CA v1** and **SITHS Type 3 CA v1**) stopped issuing on 2020-02-11 and was
removed on 2022-11-07; older still is **SITHS CA v3** (O=Carelink), a tree of its own.
Test chains carry the same names with a ``TEST``, ``PP`` or ``SYSTEMTEST`` prefix.
"""

from __future__ import annotations

import re

from .legacy_cas import CA_V3_TREE, LEGACY_CA_RE, LEGACY_SITHS_CAS, ROOT_V1_TREE, legacy_tree

_TEST_PREFIX_RE = re.compile(r"^(?:TEST|PP|SYSTEMTEST)\s+", re.IGNORECASE)

# The legacy CA names and their trees: one list, in legacy_cas.py (shared with the Windows
# trust role).
__all__ = ["CA_V3_TREE", "LEGACY_CA_RE", "LEGACY_SITHS_CAS", "ROOT_V1_TREE", "legacy_tree"]

TEST_CA_RE = re.compile(r"^(?:TEST|PP|SYSTEMTEST)\s+SITHS\b", re.IGNORECASE)

# The current issuing CAs for people, and the kind of card (or mobile identity) they
# issue for: level 3 = ordinary card, level 2 = reserve card (reservkort).
CARD_KINDS: dict[str, str] = {
    "SITHS e-id Person HSA-id 3 CA v1": "card",
    "SITHS e-id Person ID 3 CA v1": "card",
    "SITHS e-id Person HSA-id 2 CA v1": "reserve_card",
    "SITHS e-id Person ID 2 CA v1": "reserve_card",
    "SITHS e-id Person ID Mobile CA v1": "mobile",
    "SITHS e-id Function CA v1": "function",
}
_CARD_FOLDED = {k.casefold(): v for k, v in CARD_KINDS.items()}

# Personnummer / samordningsnummer (10 or 12 digits, optional - or +). Masked in output.
_PERSONNUMMER_RE = re.compile(r"\b((?:19|20)?\d{6}[-+]?)\d{4}\b")


def base_name(ca_name: str) -> str:
    """The CA name without a test prefix and with single spaces."""
    return re.sub(r"\s+", " ", _TEST_PREFIX_RE.sub("", ca_name.strip()))


def card_kind(issuer_name: str) -> str | None:
    """``card``, ``reserve_card``, ``mobile`` or ``function`` for a current SITHS CA name."""
    return _CARD_FOLDED.get(base_name(issuer_name).casefold())


def mask_personnummer(text: str) -> str:
    """Hide the last four digits of anything shaped like a personal identity number."""
    return _PERSONNUMMER_RE.sub(lambda m: m.group(1) + "****", text)


def is_personnummer(value: str) -> bool:
    return bool(re.fullmatch(r"(?:19|20)?\d{6}[-+]?\d{4}", value))
