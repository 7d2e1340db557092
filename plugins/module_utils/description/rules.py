"""Format rules for HSA values: pure functions on strings, no I/O.

Each ``*_problem`` function returns None when the value is right, otherwise a
``(message, hint)`` pair used in a Finding.
"""

from __future__ import annotations

import difflib
import re

from ..i18n.core import _

HSA_ID_MAX = 31
# Longest text value (a name, title, purpose, e-mail ...). Far above any real value, far below
# what would bloat the directory or a change request; HSA itself keeps names much shorter.
TEXT_MAX = 256
_HSA_ID_STRICT = re.compile(r"SE\d{10}-[A-Za-z0-9]+")
_HSA_ID_RELAXED = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
_ORG_NO = re.compile(r"(\d{6})-?(\d{4})")
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@(?:[A-Za-z0-9ÅÄÖåäöÜü](?:[A-Za-z0-9ÅÄÖåäöÜü-]*[A-Za-z0-9ÅÄÖåäöÜü])?\.)+[A-Za-z]{2,}"
)
_HOST_GROUP = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

HSA_ID_EXAMPLE = "SE5599123451-P0001"

# Legitimerade yrken (Socialstyrelsen) as HSA writes them in hsaTitle.
KNOWN_TITLES = (
    "Apotekare",
    "Arbetsterapeut",
    "Audionom",
    "Barnmorska",
    "Biomedicinsk analytiker",
    "Dietist",
    "Fysioterapeut",
    "Hälso- och sjukvårdskurator",
    "Kiropraktor",
    "Logoped",
    "Läkare",
    "Naprapat",
    "Optiker",
    "Ortopedingenjör",
    "Psykolog",
    "Psykoterapeut",
    "Receptarie",
    "Röntgensjuksköterska",
    "Sjukgymnast",
    "Sjukhusfysiker",
    "Sjuksköterska",
    "Tandhygienist",
    "Tandläkare",
)


def did_you_mean(word: str, choices, cutoff: float = 0.6) -> str | None:
    folded = {c.casefold(): c for c in choices}
    if word.casefold() in folded:
        return folded[word.casefold()]
    close = difflib.get_close_matches(word.casefold(), list(folded), n=1, cutoff=cutoff)
    return folded[close[0]] if close else None


def luhn_check_digit(nine_digits: str) -> int:
    total = 0
    for index, char in enumerate(nine_digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def length_problem(value: str):
    if len(value) > TEXT_MAX:
        return (
            _("is %(length)s characters long, more than the %(max)s a value may have",
              length=format(len(value), ","), max=TEXT_MAX),
            _("shorten it; a value this long is usually a copy-paste mistake"),
        )
    return None


def hsa_id_problem(value: str, strict: bool = True):
    if strict:
        if len(value) > HSA_ID_MAX:
            return (
                _("is %(length)s characters, an HSA-id has at most %(max)s",
                  length=len(value), max=HSA_ID_MAX),
                _('shorten the part after "-", e.g. "%(example)s"', example=HSA_ID_EXAMPLE),
            )
        if not _HSA_ID_STRICT.fullmatch(value):
            return (
                _("is not an HSA-id"),
                _('write "SE", the 10-digit organisationsnummer of the directory owner, "-" and '
                  'letters/digits, e.g. "%(example)s"; test-environment ids need '
                  "strict_ids: false", example=HSA_ID_EXAMPLE),
            )
        return None
    if len(value) > 64 or not _HSA_ID_RELAXED.fullmatch(value):
        return (
            _("is not an HSA-id, even by the relaxed test-environment rule"),
            _('use letters, digits and "-" only (no å, ä, ö, spaces or @), e.g. "%(example)s"',
              example="TSTNMT2321000156-DRAA"),
        )
    return None


_ORG_NO_EXAMPLE = "559912-3451"


def org_no_problem(value: str):
    match = _ORG_NO.fullmatch(value)
    if not match:
        return (
            _("is not an organisationsnummer"),
            _('write 10 digits as NNNNNN-NNNN or NNNNNNNNNN, e.g. "%(example)s"',
              example=_ORG_NO_EXAMPLE),
        )
    digits = match.group(1) + match.group(2)
    if int(digits[2:4]) < 20:
        return (
            _("is not an organisationsnummer: digits 3-4 must be 20 or more "
              "(lower values are personnummer)"),
            _('use the provider\'s organisationsnummer from Bolagsverket, e.g. "%(example)s"',
              example=_ORG_NO_EXAMPLE),
        )
    expected = luhn_check_digit(digits[:9])
    if int(digits[9]) != expected:
        return (
            _("has a wrong check digit (the last digit should be %(digit)s)", digit=expected),
            _("copy the organisationsnummer again from Bolagsverket's register"),
        )
    return None


def _digits(value: str, count: int) -> bool:
    return len(value) == count and value.isdigit() and value.isascii()


def prescriber_code_problem(value: str):
    if _digits(value, 7):
        return None
    return (
        _("must be 7 digits: a förskrivarkod has exactly 7 digits"),
        _('write the förskrivarkod from Socialstyrelsen, e.g. "%(example)s"', example="1234567"),
    )


def group_prescriber_code_problem(value: str):
    if _digits(value, 7):
        return None
    return (
        _("must be 7 digits: a gruppförskrivarkod has exactly 7 digits"),
        _('write the gruppförskrivarkod, e.g. "%(example)s"', example="9300005"),
    )


def position_code_problem(value: str):
    if _digits(value, 6):
        return None
    return (
        _("must be 6 digits: a befattningskod has exactly 6 digits"),
        _('write the befattningskod from SKR\'s AID list, e.g. "%(example)s"', example="204010"),
    )


def workplace_code_problem(value: str):
    """Errors only; see workplace_code_warning for unusual-but-possible codes."""
    if not (value.isdigit() and value.isascii()) or len(value) > 10:
        return (
            _("must be digits (usually 7 to 10): an arbetsplatskod is a number"),
            _('write the arbetsplatskod your region assigned to the unit, e.g. "%(example)s"',
              example="1234567"),
        )
    return None


def workplace_code_warning(value: str):
    if set(value) == {"0"}:
        return (
            _("is the placeholder Webcert uses when a unit has no arbetsplatskod"),
            _("ask your region for the unit's real arbetsplatskod"),
        )
    if not 7 <= len(value) <= 10:
        return (
            _("has %(num)s digits; arbetsplatskoder usually have 7 to 10", num=len(value)),
            _("check the code with the region that assigned it"),
        )
    return None


def email_problem(value: str):
    if _EMAIL.fullmatch(value):
        return None
    return (_("is not an e-mail address"), _("write it as name@example.se"))


def host_group_problem(value: str):
    if _HOST_GROUP.fullmatch(value):
        return None
    return (
        _("is not a valid inventory group name"),
        _('use letters, digits and "_", starting with a letter, e.g. "%(example)s"',
          example="unit_norr"),
    )


def right_problem(value: str):
    parts = value.split(";")
    if len(parts) == 3 and all(p.strip() for p in parts):
        return None
    return (
        _("is not a right of a medarbetaruppdrag: it must have three parts separated by \";\""),
        _('write aktivitet;informationstyp;omfång, e.g. "%(example)s"', example="Läsa;alla;SJF"),
    )


def no_semicolon_problem(value: str):
    if ";" in value:
        return (
            _('must not contain ";"'),
            _("the directory stores specialities as legkod;specialitetskod;klartext"),
        )
    return None
