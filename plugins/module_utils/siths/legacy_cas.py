"""The legacy SITHS CA names: one list for the certificate checks and the Windows trust role.

The old SITHS trees: SITHS Root CA v1 (stopped issuing 2020-02-11, removed 2022-11-07)
and the older SITHS CA v3 (Carelink). Certificates under them are legacy, and Windows
hosts should no longer trust them. TEST, PP and
SYSTEMTEST prefixed variants count as the same CA. See docs/siths.md, "The legacy chain".
"""

from __future__ import annotations

import re

ROOT_V1_TREE = "SITHS Root CA v1"
CA_V3_TREE = "SITHS CA v3"
# Every legacy SITHS CA name and the tree it belongs to. SITHS CA v3 (O=Carelink) is a
# tree of its own, older than (and not part of) the SITHS Root CA v1 tree.
LEGACY_SITHS_CAS = {
    "SITHS Root CA v1": ROOT_V1_TREE,
    "SITHS Type 1 CA v1": ROOT_V1_TREE,
    "SITHS Type 3 CA v1": ROOT_V1_TREE,
    "SITHS CA v3": CA_V3_TREE,
}
LEGACY_SITHS_CA_NAMES = tuple(LEGACY_SITHS_CAS)

TEST_PREFIXES = ("TEST", "PP", "SYSTEMTEST")

_TEST_PREFIX = r"(?:(?:" + "|".join(TEST_PREFIXES) + r")\s+)?"

# A subject CN that names a legacy SITHS CA (any spacing, any case, test prefixes allowed).
LEGACY_CA_RE = re.compile(
    rf"^{_TEST_PREFIX}(?:"
    + "|".join(r"\s+".join(map(re.escape, name.split())) for name in LEGACY_SITHS_CA_NAMES)
    + r")$",
    re.IGNORECASE,
)


def is_legacy_ca_name(common_name: str, names: tuple[str, ...] | list[str] | None = None) -> bool:
    """True when ``common_name`` is a legacy SITHS CA (or one of ``names``), test prefixes allowed."""
    if names is None:
        return bool(LEGACY_CA_RE.match((common_name or "").strip()))
    bare = re.sub(rf"^(?:{'|'.join(TEST_PREFIXES)})\s+", "", (common_name or "").strip(), flags=re.IGNORECASE)
    wanted = {" ".join(n.split()).lower() for n in names}
    return " ".join(bare.split()).lower() in wanted


_TREES = {" ".join(name.split()).lower(): tree for name, tree in LEGACY_SITHS_CAS.items()}


def legacy_tree(common_name: str) -> str | None:
    """The legacy tree (``SITHS Root CA v1`` or ``SITHS CA v3``) a CA name belongs to."""
    bare = re.sub(rf"^(?:{'|'.join(TEST_PREFIXES)})\s+", "", (common_name or "").strip(),
                  flags=re.IGNORECASE)
    return _TREES.get(" ".join(bare.split()).lower())
