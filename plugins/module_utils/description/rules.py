"""Format rules for HSA values: pure functions on strings, no I/O.

Each ``*_problem`` function returns None when the value is right, otherwise a
``(message, hint)`` pair used in a Finding.
"""

from __future__ import annotations

import difflib
import re

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
            f"is {len(value):,} characters long, more than the {TEXT_MAX} a value may have",
            "shorten it; a value this long is usually a copy-paste mistake",
        )
    return None


def hsa_id_problem(value: str, strict: bool = True):
    if strict:
        if len(value) > HSA_ID_MAX:
            return (
                f"is {len(value)} characters, an HSA-id has at most {HSA_ID_MAX}",
                f'shorten the part after "-", e.g. "{HSA_ID_EXAMPLE}"',
            )
        if not _HSA_ID_STRICT.fullmatch(value):
            return (
                "is not an HSA-id",
                'write "SE", the 10-digit organisationsnummer of the directory owner, "-" and '
                f'letters/digits, e.g. "{HSA_ID_EXAMPLE}"; '
                "test-environment ids need strict_ids: false",
            )
        return None
    if len(value) > 64 or not _HSA_ID_RELAXED.fullmatch(value):
        return (
            "is not an HSA-id, even by the relaxed test-environment rule",
            'use letters, digits and "-" only (no å, ä, ö, spaces or @), '
            'e.g. "TSTNMT2321000156-DRAA"',
        )
    return None


def org_no_problem(value: str):
    match = _ORG_NO.fullmatch(value)
    hint_example = 'e.g. "559912-3451"'
    if not match:
        return (
            "is not an organisationsnummer",
            f"write 10 digits as NNNNNN-NNNN or NNNNNNNNNN, {hint_example}",
        )
    digits = match.group(1) + match.group(2)
    if int(digits[2:4]) < 20:
        return (
            "is not an organisationsnummer: digits 3-4 must be 20 or more "
            "(lower values are personnummer)",
            f"use the provider's organisationsnummer from Bolagsverket, {hint_example}",
        )
    expected = luhn_check_digit(digits[:9])
    if int(digits[9]) != expected:
        return (
            f"has a wrong check digit (the last digit should be {expected})",
            "copy the organisationsnummer again from Bolagsverket's register",
        )
    return None


def digits_problem(value: str, count: int, what: str, example: str):
    if len(value) == count and value.isdigit() and value.isascii():
        return None
    return (f"must be {count} digits", f'the {what}, e.g. "{example}"')


def prescriber_code_problem(value: str):
    return digits_problem(value, 7, "förskrivarkod from Socialstyrelsen", "1234567")


def group_prescriber_code_problem(value: str):
    return digits_problem(value, 7, "gruppförskrivarkod", "9300005")


def position_code_problem(value: str):
    return digits_problem(value, 6, "befattningskod from SKR's AID list", "204010")


def workplace_code_problem(value: str):
    """Errors only; see workplace_code_warning for unusual-but-possible codes."""
    if not (value.isdigit() and value.isascii()) or len(value) > 10:
        return (
            "must be digits (usually 7 to 10)",
            'the arbetsplatskod your region assigned to the unit, e.g. "1234567"',
        )
    return None


def workplace_code_warning(value: str):
    if set(value) == {"0"}:
        return (
            "is the placeholder Webcert uses when a unit has no arbetsplatskod",
            "ask your region for the unit's real arbetsplatskod",
        )
    if not 7 <= len(value) <= 10:
        return (
            f"has {len(value)} digits; arbetsplatskoder usually have 7 to 10",
            "check the code with the region that assigned it",
        )
    return None


def email_problem(value: str):
    if _EMAIL.fullmatch(value):
        return None
    return ("is not an e-mail address", "write it as name@example.se")


def host_group_problem(value: str):
    if _HOST_GROUP.fullmatch(value):
        return None
    return (
        "is not a valid inventory group name",
        'use letters, digits and "_", starting with a letter, e.g. "unit_norr"',
    )


def right_problem(value: str):
    parts = value.split(";")
    if len(parts) == 3 and all(p.strip() for p in parts):
        return None
    return (
        "is not a right (hsaCommissionRight)",
        'write aktivitet;informationstyp;omfång, e.g. "Läsa;alla;SJF"',
    )


def no_semicolon_problem(value: str):
    if ";" in value:
        return (
            'must not contain ";"',
            "the directory stores specialities as legkod;specialitetskod;klartext",
        )
    return None
