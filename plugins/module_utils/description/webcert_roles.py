"""Which role Webcert gives a user, decided from HSA data.

Mirrors Webcert's ``CommonAuthoritiesResolver`` (sklintyg/webcert); see
``shared/domain/hsa.md``. The first rule that matches wins:

1. legitimerad yrkesgrupp (``hsaTitle``) ``Läkare`` -> LAKARE, else ``Tandläkare`` -> TANDLAKARE
2. befattningskod (``paTitleCode``) 204010 (AT-läkare) or 203020 (BT-läkare) -> LAKARE
3. befattningskod + gruppförskrivarkod pairs -> LAKARE:
   203090 with 9300005 or 9400003, 204090 with 9100009 or 9200007
4. ``Barnmorska`` -> BARNMORSKA, ``Sjuksköterska`` -> SJUKSKOTERSKA
5. otherwise VARDADMINISTRATOR

Pure functions, no I/O.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

from ..i18n.core import _

ROLES = ("LAKARE", "TANDLAKARE", "BARNMORSKA", "SJUKSKOTERSKA", "VARDADMINISTRATOR")

# How Webcert writes each role in its user interface.
ROLE_LABELS = {
    "LAKARE": "Läkare",
    "TANDLAKARE": "Tandläkare",
    "BARNMORSKA": "Barnmorska",
    "SJUKSKOTERSKA": "Sjuksköterska",
    "VARDADMINISTRATOR": "Vårdadministratör",
}

CARE_PURPOSE = "Vård och behandling"

TITLE_LAKARE = "Läkare"
TITLE_TANDLAKARE = "Tandläkare"
TITLE_BARNMORSKA = "Barnmorska"
TITLE_SJUKSKOTERSKA = "Sjuksköterska"

POSITION_AT = "204010"  # AT-läkare
POSITION_BT = "203020"  # BT-läkare

# befattningskod -> gruppförskrivarkoder that together make a doctor.
POSITION_GROUP_PAIRS = {
    "203090": {"9300005": "läkare utbildad inom EU", "9400003": "läkare utbildad utom EU"},
    "204090": {"9100009": "vikarierande läkare", "9200007": "läkarstudent"},
}


@dataclass(frozen=True)
class RoleDecision:
    role: str  # one of ROLES
    rule: str  # "title", "position", "position+group_code" or "default"
    reason: str  # plain-language explanation for reports


def _nfc(values) -> tuple[str, ...]:
    return tuple(unicodedata.normalize("NFC", str(v)) for v in values or ())


def _title_reason(title: str) -> str:
    return _('legitimerad yrkesgrupp "%(title)s"', title=title)


def resolve_role(titles, position_codes, group_prescriber_codes) -> RoleDecision:
    """Return the Webcert role for a person's titles, position codes and group codes."""
    titles = _nfc(titles)
    positions = _nfc(position_codes)
    groups = _nfc(group_prescriber_codes)

    if TITLE_LAKARE in titles:
        return RoleDecision("LAKARE", "title", _title_reason(TITLE_LAKARE))
    if TITLE_TANDLAKARE in titles:
        return RoleDecision("TANDLAKARE", "title", _title_reason(TITLE_TANDLAKARE))
    for code, label in ((POSITION_AT, "AT-läkare"), (POSITION_BT, "BT-läkare")):
        if code in positions:
            return RoleDecision("LAKARE", "position",
                                _("befattningskod %(code)s (%(label)s)", code=code, label=label))
    for position, pairs in POSITION_GROUP_PAIRS.items():
        if position not in positions:
            continue
        for group, label in pairs.items():
            if group in groups:
                return RoleDecision(
                    "LAKARE",
                    "position+group_code",
                    _("befattningskod %(position)s with gruppförskrivarkod %(group)s (%(label)s)",
                      position=position, group=group, label=label),
                )
    if TITLE_BARNMORSKA in titles:
        return RoleDecision("BARNMORSKA", "title", _title_reason(TITLE_BARNMORSKA))
    if TITLE_SJUKSKOTERSKA in titles:
        return RoleDecision("SJUKSKOTERSKA", "title", _title_reason(TITLE_SJUKSKOTERSKA))
    return RoleDecision(
        "VARDADMINISTRATOR",
        "default",
        _("no doctor, dentist, midwife or nurse title and no befattningskod "
          "or gruppförskrivarkod that Webcert treats as a doctor"),
    )


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.strip().casefold())
    kept = (c for c in decomposed if not unicodedata.combining(c))
    return "".join(c for c in kept if c.isalnum())


_ROLE_BY_FOLDED = {_fold(r): r for r in ROLES}


def parse_role_name(text) -> str | None:
    """``"läkare"``, ``"Lakare"``, ``"LÄKARE"`` -> ``"LAKARE"``; unknown -> None."""
    if not isinstance(text, str):
        return None
    return _ROLE_BY_FOLDED.get(_fold(text))


def is_care_commission(purpose) -> bool:
    """True when a commission's purpose (hsaCommissionPurpose) is "Vård och behandling"."""
    if not isinstance(purpose, str):
        return False
    # Webcert compares the whole value ignoring case only: extra spaces make it a different purpose.
    return unicodedata.normalize("NFC", purpose).casefold() == CARE_PURPOSE.casefold()


def is_active(commission, today: date) -> bool:
    """True when ``today`` lies inside the commission's valid_from..valid_to (both inclusive)."""
    start = getattr(commission, "valid_from", None)
    end = getattr(commission, "valid_to", None)
    if start is not None and today < start:
        return False
    return not (end is not None and today > end)
