"""Property-based tests (Hypothesis), issue 18.

(a) The loader and validator on generated YAML documents and byte strings: never a
    traceback, every finding names its file and line (and its field when it is about
    one), shows no raw control character, and stays short; bounded time (Hypothesis
    deadline) and memory (tracemalloc peak).
(b) Any valid name (arbitrary Unicode with the DN specials ``,+"\\<>;=#`` and leading or
    trailing spaces, no control characters) goes into the directory through the
    reconciler's public entry point (``directory.reconciler.reconcile``) against the real
    slapd: read back equal, exactly one entry, nothing outside the provider's subtree
    touched, and a second apply changes nothing.

The examples are bounded (all of them in about 30 s on 2 cores) and not stored in a
database, so a clean clone runs the same kind of search; ``HSA_HYPOTHESIS_SCALE=10``
searches ten times deeper. A failure found here is
recorded below as a regular test with its input (``test_recorded_*``).
"""

from __future__ import annotations

import base64
import json
import os
import tracemalloc
import unicodedata

import pytest
import yaml
from adversarial_support import ORG, ldif_add
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.model import (
    load_provider,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.rules import (
    TEXT_MAX,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.text import (
    CONTROL,
    control_problem,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.validate import (
    COMMISSION_KEYS,
    PERSON_KEYS,
    TOP_KEYS,
    UNIT_KEYS,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# ---------------------------------------------------------------- (a) loader + validator

KEYS = st.sampled_from(sorted({*TOP_KEYS, *UNIT_KEYS, *PERSON_KEYS, *COMMISSION_KEYS,
                               "provider", "förskrivarkod", "<<"}))
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
    st.text(max_size=30), st.dates().map(str), st.sampled_from(
        ["Null", "No", "~", "SE5599123451-P1", "2026-02-30", "Läkare", "!vault x", "*a",
         "&a [1]", "\x00", "a\nb", "\u202e", "559912-3451", "1234567"]))
TREES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=5),
                            st.dictionaries(st.one_of(KEYS, st.text(max_size=8)), inner,
                                            max_size=6)),
    max_leaves=40,
)
DOCUMENTS = st.dictionaries(st.sampled_from(TOP_KEYS), TREES, max_size=4)

VALID_HEAD = """provider:
  hsa_id: SE5599123451-VG01
  name: Testvård AB
  org_no: "559912-3451"
units:
  - hsa_id: SE5599123451-E100
    name: Enhet Norr
    email: norr@example.se
    workplace_codes: ["4711001"]
people:
  - hsa_id: SE5599123451-P101
    given_name: Åsa
    surname: Öberg
    unit: SE5599123451-E100
"""

# A deeper search than make test does: HSA_HYPOTHESIS_SCALE=10 pytest tests/adversarial/...
SCALE = int(os.environ.get("HSA_HYPOTHESIS_SCALE", "1"))
PROPERTY = settings(max_examples=120 * SCALE, deadline=2000, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
MEMORY_LIMIT = 64 * 1024 * 1024


def _check_findings(path, data: bytes) -> None:
    path.write_bytes(data)
    tracemalloc.start()
    try:
        result = load_provider(path)  # must not raise
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_LIMIT, peak
    for finding in result.findings:
        shown = str(finding)
        assert finding.file == path.name, shown
        assert isinstance(finding.line, int) and finding.line >= 0, shown
        assert isinstance(finding.path, str), shown
        if "." in finding.path or "[" in finding.path:  # about a field inside the file
            assert finding.line >= 1, shown
        assert not CONTROL.search(shown), shown
        assert len(shown) < 2000, shown
        json.dumps(finding.to_dict())
    if result.model is None:
        assert result.errors, "no model but no error"


@PROPERTY
@given(doc=DOCUMENTS)
def test_generated_documents_never_crash_the_loader(tmp_path, doc):
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    _check_findings(tmp_path / "provider.yml", text.encode("utf-8"))


@PROPERTY
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_never_crash_the_loader(tmp_path, data):
    _check_findings(tmp_path / "provider.yml", data)


@PROPERTY
@given(cut=st.integers(0, len(VALID_HEAD.encode())), junk=st.binary(min_size=1, max_size=20))
def test_a_valid_description_with_bytes_spliced_in_never_crashes(tmp_path, cut, junk):
    head = VALID_HEAD.encode()
    _check_findings(tmp_path / "provider.yml", head[:cut] + junk + head[cut:])


@PROPERTY
@given(text=st.text(max_size=300))
def test_arbitrary_text_never_crashes_the_loader(tmp_path, text):
    _check_findings(tmp_path / "provider.yml", text.encode("utf-8", "surrogatepass"))


# ---------------------------------------------------------------- (b) names round-trip

DN_SPECIALS = ',+"\\<>;=# '
NAME_CHARS = st.one_of(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
    st.sampled_from(list(DN_SPECIALS)),
)


def _valid_name(text: str) -> bool:
    return bool(text.strip()) and control_problem(text) is None and len(text) <= TEXT_MAX


NAMES = st.text(NAME_CHARS, min_size=1, max_size=24).map(
    lambda s: unicodedata.normalize("NFC", s)).filter(_valid_name)

TENANT = "ou=Hypothesis,c=SE"
OUTSIDE = "o=Utanfor,c=SE"
# Another provider under the same base DN, and an entry with our person's HSA-id outside
# the base DN: neither may change.
DECOYS = f"""dn: {TENANT}
objectClass: organizationalUnit
ou: Hypothesis

dn: o=Grannen,{TENANT}
objectClass: organization
objectClass: hsaHealthCareProvider
o: Grannen
hsaIdentity: SE{ORG}-VG9

dn: hsaIdentity=SE{ORG}-P9,o=Grannen,{TENANT}
objectClass: inetOrgPerson
objectClass: hsaPersonExtension
hsaIdentity: SE{ORG}-P9
cn: Granne
sn: Granne

dn: {OUTSIDE}
objectClass: organization
o: Utanfor

dn: hsaIdentity=SE{ORG}-P1,{OUTSIDE}
objectClass: inetOrgPerson
objectClass: hsaPersonExtension
hsaIdentity: SE{ORG}-P1
cn: Outside the base
sn: Outside
"""


def _ldif_records(text: str) -> list[dict[str, list[str]]]:
    records = []
    for block in text.strip().split("\n\n"):
        record: dict[str, list[str]] = {}
        for line in block.splitlines():
            if line.startswith("#") or ":" not in line:
                continue
            name, _, value = line.partition(":")
            if value.startswith(":"):
                value = base64.b64decode(value[1:].strip()).decode("utf-8")
            else:
                value = value[1:] if value.startswith(" ") else value
            record.setdefault(name.lower(), []).append(value)
        if record:
            records.append(record)
    return records


def _search(box, base: str, flt: str = "(objectClass=*)") -> list[dict[str, list[str]]]:
    r = box.ldap_tool("ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-b", base, flt,
                      "*", "entryCSN", check=False)
    assert r.returncode in (0, 32), r.stderr
    return _ldif_records(r.stdout)


@pytest.fixture(scope="module")
def tenant_box(hsa_sandbox):
    hsa_sandbox.reset()
    yield hsa_sandbox
    hsa_sandbox.reset()


def _model(unit_name: str, given: str, surname: str, commission_name: str):
    from hsa_builders import commission, model, person, unit

    return model(
        units=[unit(f"SE{ORG}-U1", unit_name)],
        people=[person(f"SE{ORG}-P1", given, surname, f"SE{ORG}-U1")],
        commissions=[commission(f"SE{ORG}-C1", commission_name, f"SE{ORG}-U1",
                                members=(f"SE{ORG}-P1",))],
    )


def _round_trip(box, unit_name, given, surname, commission_name) -> None:
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.reconciler import (
        reconcile,
    )

    box.reset()
    ldif_add(box, DECOYS)
    decoys = _search(box, f"o=Grannen,{TENANT}") + _search(box, OUTSIDE)
    m = _model(unit_name, given, surname, commission_name)
    settings_ = box.settings(base_dn=TENANT)
    first = reconcile(m, settings_)
    assert not first["failed"], first.get("msg")
    assert first["changed"]

    def one(hsa_id):
        found = _search(box, TENANT, f"(hsaIdentity={hsa_id})")
        assert len(found) == 1, found
        return found[0]

    assert one(f"SE{ORG}-U1")["ou"] == [unit_name]
    person = one(f"SE{ORG}-P1")
    assert (person["givenname"], person["sn"]) == ([given], [surname])
    assert one(f"SE{ORG}-C1")["cn"] == [commission_name]
    after = _search(box, f"o=Grannen,{TENANT}") + _search(box, OUTSIDE)
    assert after == decoys  # byte for byte, with entryCSN
    second = reconcile(m, settings_)
    assert not second["failed"], second.get("msg")
    assert second["changed"] is False, second.get("plan_text")


@settings(max_examples=30 * SCALE, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(unit_name=NAMES, given_name=NAMES, surname=NAMES, commission_name=NAMES)
def test_any_valid_name_round_trips_through_the_directory(tenant_box, unit_name, given_name,
                                                          surname, commission_name):
    _round_trip(tenant_box, unit_name, given_name, surname, commission_name)


@pytest.mark.parametrize("names", [
    (' #a*(b)\\c,d=e+f<g>h;i"j ', "=", "#", "\\"),
    ("  leading and trailing  ", " x", "y ", "+"),
    ("Åsa\u00a0Öberg", "Zoë", "Ångström", "日本語"),
])
def test_recorded_names_round_trip(tenant_box, names):
    _round_trip(tenant_box, *names)
