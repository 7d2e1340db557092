"""The findings of the provider description speak the reader's language (issue 17).

Swedish is the default, English on request (``use_language("en")``, ``webcert_language:
en``). The finding keeps its place (file, line, field path as typed in the YAML) in both;
the sentence is Swedish in HSA Admin's and Webcert's words, never an LDAP attribute name.
The rules themselves are tested in English in test_hsa_model_rules.py and
test_hsa_model_files.py.
"""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.model import (
    load_provider,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.presentation import (
    labelled,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.description_cache import (
    DescriptionCache,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.schema import (
    ALL_MANAGED,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import (
    current_language,
    use_language,
)
from ansible_collections.webcert_siths.onboarding.plugins.modules.hsa_reconcile import prepare
from hsa_model_helpers import VALID, load_text, variant
from test_hsa_model_rules import ERRORS

ROOT = Path(__file__).resolve().parents[2]
PAST = (date.today() - timedelta(days=2)).isoformat()

# One finding of each kind: (id, old, new, field path, severity, Swedish part, English part).
KINDS = [
    ("prescriber-code", 'prescriber_code: "1234567"', 'prescriber_code: "12345"',
     "people[0].prescriber_code", "error",
     '"12345" ska vara 7 siffror: en förskrivarkod har exakt 7 siffror (skriv förskrivarkoden '
     'från Socialstyrelsen, t.ex. "1234567")',
     '"12345" must be 7 digits: a förskrivarkod has exactly 7 digits (write the förskrivarkod '
     'from Socialstyrelsen, e.g. "1234567")'),
    ("group-prescriber-code", "group_prescriber_codes: []", 'group_prescriber_codes: ["93"]',
     "people[0].group_prescriber_codes[0]", "error",
     "ska vara 7 siffror: en gruppförskrivarkod har exakt 7 siffror",
     "must be 7 digits: a gruppförskrivarkod has exactly 7 digits"),
    ("position-code", '{code: "201010", name: Överläkare}', '{code: "2010", name: Överläkare}',
     "people[0].positions[0].code", "error",
     "ska vara 6 siffror: en befattningskod har exakt 6 siffror",
     "must be 6 digits: a befattningskod has exactly 6 digits"),
    ("workplace-code", 'workplace_codes: ["4711001"]', 'workplace_codes: ["47-11"]',
     "units[0].workplace_codes[0]", "error",
     "ska vara siffror (oftast 7 till 10): en arbetsplatskod är ett nummer (skriv "
     "arbetsplatskoden som regionen har tilldelat vårdenheten",
     "must be digits (usually 7 to 10): an arbetsplatskod is a number"),
    ("workplace-placeholder", 'workplace_codes: ["4711001"]', 'workplace_codes: ["0000000"]',
     "units[0].workplace_codes[0]", "warning",
     "är platshållaren som Webcert använder när en vårdenhet saknar arbetsplatskod",
     "is the placeholder Webcert uses when a unit has no arbetsplatskod"),
    ("missing", "    surname: Öberg\n", "", "people[0].surname", "error",
     "saknas (skriv efternamnet)", "is missing (write the efternamn)"),
    ("unknown-key", "    titles: [Läkare]", "    titels: [Läkare]", "people[0].titels", "error",
     'är ingen känd nyckel (menade du "titles"? Tillåtna nycklar: hsa_id,',
     'is not a known key (did you mean "titles"? Allowed keys: hsa_id,'),
    ("org-no", 'org_no: "559912-3451"', 'org_no: "559912-3452"', "provider.org_no", "error",
     "har fel kontrollsiffra (sista siffran ska vara 1)",
     "has a wrong check digit (the last digit should be 1)"),
    ("hsa-id", "hsa_id: SE5599123451-E100", "hsa_id: SE559912345-E100", "units[0].hsa_id",
     "error", "är inget HSA-id (skriv \"SE\", katalogägarens organisationsnummer",
     'is not an HSA-id (write "SE", the 10-digit organisationsnummer'),
    ("date", "valid_from: 2026-01-01", "valid_from: 2026-02-30", "commissions[0].valid_from",
     "error", "är inget verkligt datum (skriv datumet som ÅÅÅÅ-MM-DD, t.ex. 2026-01-31)",
     "is not a real calendar date (write the date as YYYY-MM-DD, e.g. 2026-01-31)"),
    ("ended-commission", 'valid_to: "2036-12-31"', f'valid_to: "{PAST}"',
     "commissions[0].valid_to", "warning",
     "har passerat: medarbetaruppdraget har upphört, och Webcert släpper inte in medlemmarna "
     "genom det (ge medarbetaruppdraget ett nytt slutdatum (valid_to)",
     "is in the past: the commission has ended"),
    ("lakare-without-forskrivarkod", '    prescriber_code: "1234567"\n', "",
     "people[0].prescriber_code", "warning",
     "saknas: personen har den legitimerade yrkesgruppen Läkare men ingen förskrivarkod "
     "(lägg till förskrivarkoden från Socialstyrelsen",
     "is missing: this person has the title Läkare but no förskrivarkod"),
    ("no-commission", "members: [SE5599123451-P101, SE5599123451-P102]",
     "members: [SE5599123451-P102]", "people[0]", "warning",
     'har inget medarbetaruppdrag: Webcert släpper inte in personen (lägg till personen i ett '
     'medarbetaruppdrag med ändamålet "Vård och behandling"',
     "has no commission (medarbetaruppdrag): Webcert will not let them in"),
    ("purpose-misspelt", "purpose: Vård och behandling", "purpose: Vård och behandlng",
     "commissions[0].purpose", "warning",
     'ser ut som en felstavning: Webcert räknar bara det exakta ändamålet (skriv "Vård och '
     'behandling")',
     "looks like a misspelling: Webcert only counts the exact purpose"),
    ("title", "titles: [Läkare]", "titles: [Lakare]", "people[0].titles[0]", "warning",
     'är ingen legitimerad yrkesgrupp så som HSA skriver den (menade du "Läkare"?',
     'is not a legitimerad yrkesgrupp as HSA writes it (did you mean "Läkare"?'),
    ("expected-role", "expected_role: LAKARE", "expected_role: sjuksköterska",
     "people[1].expected_role", "warning",
     "är den förväntade rollen, men Webcert gör personen till läkare (befattningskod 204010 "
     "(AT-läkare))",
     "is expected, but Webcert will make this person läkare (befattningskod 204010 (AT-läkare))"),
    ("reference", "    unit: SE5599123451-E110\n    expected_role",
     "    unit: SE5599123451-E111\n    expected_role", "people[1].unit", "error",
     'hänvisar till ingen vårdenhet i beskrivningen (menade du "SE5599123451-E110"?)',
     'refers to no unit in the description (did you mean "SE5599123451-E110"?)'),
    ("duplicate-hsa-id", "hsa_id: SE5599123451-P102", "hsa_id: SE5599123451-P101",
     "people[1].hsa_id", "error",
     "används två gånger: också HSA-id för en person i provider.yml:",
     "is used twice: also the HSA-id of a person at provider.yml:"),
    ("shape", "given_name: Åsa", "given_name: [Åsa, Bo]", "people[0].given_name", "error",
     "är en lista, ska vara ett enda värde (skriv förnamnet)",
     "is a list, must be a single value (write the förnamn)"),
    ("null-word", "given_name: Åsa", "given_name: Null", "people[0].given_name", "error",
     'är tomt: YAML läser ordet Null utan citattecken som inget värde (null), inte som text '
     '(om Null är texten, sätt den inom citattecken: "Null")',
     "is empty: YAML reads the unquoted word Null as no value (null), not as text"),
    ("yaml-syntax", "    titles: [Läkare]\n", "    titles: [Läkare\n", "", "error",
     "fel i YAML-syntaxen i kolumn 20 (för IT, YAML-tolken säger: did not find expected",
     "YAML syntax error at column 20 (for IT, the YAML parser says: did not find expected"),
]


def _load(folder: Path, text: str, language: str):
    folder.mkdir(parents=True, exist_ok=True)
    with use_language(language):
        return load_text(folder, text)


def _finding(tmp_path, new_text, path, severity, language):
    result = _load(tmp_path / language, new_text, language)
    found = [f for f in result.findings if f.path == path and f.severity == severity]
    assert found, "\n".join(str(f) for f in result.findings)
    return found[0]


@pytest.mark.parametrize(("old", "new", "path", "severity", "swedish", "english"),
                         [k[1:] for k in KINDS], ids=[k[0] for k in KINDS])
def test_each_kind_of_finding_in_swedish_and_in_english(tmp_path, old, new, path, severity,
                                                         swedish, english):
    text = variant(old, new)
    sv = _finding(tmp_path, text, path, severity, "sv")
    en = _finding(tmp_path, text, path, severity, "en")
    assert (sv.file, sv.line, sv.path) == (en.file, en.line, en.path)
    where = f"provider.yml:{sv.line} {path}:" if path else f"provider.yml:{sv.line} "
    assert str(sv).startswith(where) and str(en).startswith(where), (str(sv), str(en))
    assert swedish in str(sv), str(sv)
    assert english in str(en), str(en)
    with use_language("sv"):
        assert labelled(sv).startswith("FEL: " if severity == "error" else "VARNING: ")
    with use_language("en"):
        assert labelled(en).startswith("ERROR: " if severity == "error" else "WARNING: ")


def test_swedish_is_the_default():
    assert current_language() == "sv"


@pytest.mark.parametrize(("old", "new", "path"), [e[1:4] for e in ERRORS],
                         ids=[e[0] for e in ERRORS])
def test_every_error_rule_has_a_swedish_sentence(tmp_path, old, new, path):
    """Each error of test_hsa_model_rules.ERRORS: the same place, another sentence."""
    text = variant(old, new)
    sv = _finding(tmp_path, text, path, "error", "sv")
    en = _finding(tmp_path, text, path, "error", "en")
    assert (sv.file, sv.line, sv.path, sv.value) == (en.file, en.line, en.path, en.value)
    assert sv.message != en.message, sv.message
    assert sv.hint != en.hint or not en.hint, sv.hint


# LDAP attribute names must not be the words of a Swedish finding ("mail" is also a key of
# the description, the one the user typed, and may be named as such).
_ATTRIBUTES = [a for a in (*ALL_MANAGED, "objectClass") if a != "mail"]
_LDAP = re.compile(r"\b(?:" + "|".join(map(re.escape, _ATTRIBUTES)) + r")\b")


def _swedish_findings(tmp_path):
    for index, (_id, old, new, *_rest) in enumerate([*KINDS, *ERRORS]):
        yield from _load(tmp_path / str(index), variant(old, new), "sv").findings


def test_no_ldap_attribute_name_in_a_swedish_finding(tmp_path):
    findings = list(_swedish_findings(tmp_path))
    assert len(findings) > len(KINDS)
    for finding in findings:
        assert not _LDAP.search(finding.message), str(finding)
        assert not _LDAP.search(finding.hint), str(finding)


def test_no_ldap_attribute_name_in_the_catalog_of_the_description_messages():
    """Every Swedish sentence the description package can make, from the catalog."""
    from babel.messages.pofile import read_po

    with open(ROOT / "locale" / "sv" / "LC_MESSAGES" / "webcert.po", "rb") as handle:
        catalog = read_po(handle)
    checked = 0
    for message in catalog:
        files = {location for location, _line in message.locations}
        if not message.id or not any("module_utils/description/" in f for f in files):
            continue
        if any("description/staff.py" in f for f in files) and len(files) == 1:
            continue  # the staff list import has its own helper
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in strings:
            assert string and not _LDAP.search(string), (message.id, string)
        checked += 1
    assert checked > 150


def test_a_folder_of_files_in_swedish(tmp_path):
    folder = tmp_path / "beskrivning"
    folder.mkdir()
    with use_language("sv"):
        result = load_provider(folder)
    (finding,) = result.findings
    assert str(finding) == (f"{folder} är en mapp utan .yml- eller .yaml-filer (låt "
                            "hsa_provider_path peka på mappen eller filen med beskrivningen)")


def test_the_valid_description_has_no_findings_in_either_language(tmp_path):
    for language in ("sv", "en"):
        assert _load(tmp_path / language, VALID, language).findings == []


def test_hsa_reconcile_caches_the_findings_per_language(tmp_path):
    """hsa_reconcile's prepare(): the findings are made in the module's language, and the
    description cache answers a run in another language with a fresh, translated list."""
    folder = tmp_path / "provider"
    shutil.copytree(ROOT / "inventories" / "demo" / "provider", folder)
    cache = DescriptionCache(str(tmp_path / "cache"))
    p = {"provider_path": str(folder), "strict_ids": True, "follow_symlinks": False,
         "symlink_roots": []}
    runs = {}
    for language in ("sv", "sv", "en"):
        prepared, model, findings, errors = prepare({**p, "language": language}, "c=SE", cache)
        assert errors == [] and prepared is not None
        runs.setdefault(language, []).append((model is None, findings))
    (made_sv, sv), (cached_sv, sv_again) = runs["sv"]
    ((made_en, en),) = runs["en"]
    assert (made_sv, cached_sv, made_en) == (False, True, False)  # read, cached, read
    assert sv == sv_again and len(sv) == len(en) == 2
    assert all(f.startswith("VARNING: ") for f in sv) and "har inget medarbetaruppdrag" in sv[0]
    assert all(f.startswith("WARNING: ") for f in en) and "has no commission" in en[0]
