"""Property-based tests of the Windows policy renderer (Hypothesis).

For any list of hosts, issuer names and foreign entries already in the registry:
- every value is one Edge and Chrome accept (AutoSelectCertificateForUrls: a JSON object with
  ``pattern`` and ``filter.ISSUER.CN``; URL lists: https patterns without white space);
- foreign entries (GPO, Intune, other software) are never changed or removed;
- the toolkit's entries never share a number, and a second run changes nothing;
- bad input gives error messages naming the field, never an exception.
The registry is played by tests/windows_contract.apply_regedit (win_regedit's semantics).
"""

from __future__ import annotations

import json

from ansible_collections.webcert_siths.onboarding.plugins.module_utils.workstation.policy import (
    BROWSER_ROOTS,
    LIST_POLICIES,
    OWNED_KEY,
    browser_list_keys,
    browser_registry_ops,
    netid_allowed_ops,
    owned_by_key,
    values_by_key,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from windows_contract import apply_regedit, reg_stat_results, reg_type

SETTINGS = settings(
    max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
host = st.builds(lambda labels: ".".join(labels), st.lists(label, min_size=2, max_size=4))
pattern = st.one_of(
    host,
    host.map(lambda h: f"https://{h}"),
    host.map(lambda h: f"[*.]{h}"),
    st.tuples(host, st.from_regex(r"[a-z0-9/_-]{0,12}", fullmatch=True)).map(
        lambda t: f"https://{t[0]}/{t[1]}"
    ),
)
# Issuer CNs: any printable text (Unicode, quotes, braces, backslashes), no control characters.
issuer = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=40
).filter(lambda s: s.strip() == s and s.strip())
foreign_value = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=60)
foreign_list = st.dictionaries(
    st.one_of(st.integers(1, 40).map(str), st.sampled_from(["Comment", "", "x1"])),
    foreign_value,
    max_size=8,
)
browsers = st.lists(st.sampled_from(["edge", "chrome"]), min_size=1, max_size=2, unique=True)


def spec_strategy():
    return st.fixed_dictionaries(
        {
            "browsers": browsers,
            "auto_select_hosts": st.lists(pattern, max_size=4),
            "auto_select_issuer_cns": st.lists(issuer, min_size=1, max_size=3),
            "popup_hosts": st.lists(pattern, max_size=5),
        }
    )


def list_keys_of(spec):
    keys, errors = browser_list_keys(spec)
    assert errors == []
    return keys


def run_role(spec, registry):
    keys = list_keys_of(spec)
    present = values_by_key(reg_stat_results(registry, keys))
    owned = owned_by_key(dict(reg_stat_results(registry, [OWNED_KEY])[0]))
    ops, errors = browser_registry_ops(spec, present, owned)
    assert errors == []
    return ops, apply_regedit(registry, ops)


@SETTINGS
@given(
    spec=spec_strategy(), foreign=st.dictionaries(st.sampled_from(list(LIST_POLICIES.values())), foreign_list)
)
def test_values_are_valid_foreign_entries_survive_and_a_rerun_changes_nothing(spec, foreign):
    registry = {}
    for policy, values in foreign.items():
        for root in BROWSER_ROOTS.values():
            registry[f"{root}\\{policy}"] = dict(values)
    before = json.loads(json.dumps(registry))

    ops, _ = run_role(spec, registry)

    for op in ops:
        if op["state"] == "present":
            reg_type(op["type"])
        if op["path"].endswith("\\AutoSelectCertificateForUrls") and op["state"] == "present":
            value = json.loads(op["data"])
            assert set(value) == {"pattern", "filter"}
            assert value["pattern"].startswith(("https://", "[*.]"))
            assert set(value["filter"]) == {"ISSUER"}
            assert value["filter"]["ISSUER"]["CN"] in spec["auto_select_issuer_cns"]
        if op["path"].endswith("\\PopupsAllowedForUrls") and op["state"] == "present":
            assert not any(ch.isspace() for ch in op["data"])
    # Foreign entries are untouched (same name, same data).
    for key, values in before.items():
        for name, data in values.items():
            assert registry[key].get(name) == data, (key, name)
    # Our entries never share a number with each other or with a foreign one.
    for key in registry:
        if key == OWNED_KEY:
            continue
        ours = [op for op in ops if op["path"] == key and op["state"] == "present"]
        assert len({op["name"] for op in ours}) == len(ours)
    # A second and third run change nothing.
    for _ in range(2):
        _, changed = run_role(spec, registry)
        assert changed == 0


@SETTINGS
@given(first=spec_strategy(), second=spec_strategy(), foreign=foreign_list)
def test_changing_the_lists_removes_only_what_the_toolkit_wrote(first, second, foreign):
    second = dict(second, browsers=first["browsers"])
    registry = {f"{root}\\PopupsAllowedForUrls": dict(foreign) for root in BROWSER_ROOTS.values()}
    before = json.loads(json.dumps(registry))
    run_role(first, registry)
    run_role(second, registry)
    for key, values in before.items():
        for name, data in values.items():
            assert registry[key].get(name) == data
    for browser in first["browsers"]:
        key = f"{BROWSER_ROOTS[browser]}\\PopupsAllowedForUrls"
        wanted = {p if "://" in p or p.startswith("[*.]") else f"https://{p}" for p in second["popup_hosts"]}
        present = set(registry.get(key, {}).values())
        assert wanted <= present
        if second["popup_hosts"]:
            first_only = (
                {p if "://" in p or p.startswith("[*.]") else f"https://{p}" for p in first["popup_hosts"]}
                - wanted
                - set(foreign.values())
            )
            assert not (first_only & present)


@SETTINGS
@given(
    spec=st.dictionaries(
        st.sampled_from(
            [
                "browsers",
                "auto_select_hosts",
                "popup_hosts",
                "auto_select_issuer_cns",
                "controls",
                "extensions",
                "ie_mode_level",
                "trusted_sites",
            ]
        ),
        st.one_of(
            st.none(),
            st.text(max_size=20),
            st.integers(),
            st.booleans(),
            st.lists(st.one_of(st.text(max_size=20), st.integers(), st.none()), max_size=4),
            st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
        ),
    )
)
def test_bad_input_gives_errors_naming_the_field_never_an_exception(spec):
    ops, errors = browser_registry_ops(spec)
    if errors:
        assert ops == []
    for error in errors:
        field = error.split(":", 1)[0].split(".", 1)[0].split("[", 1)[0]
        assert field in ("policy", *spec.keys()), error


@SETTINGS
@given(
    urls=st.lists(host.map(lambda h: f"https://{h}"), max_size=4, unique=True),
    foreign=foreign_list,
    product=st.sampled_from(["enterprise", "client"]),
)
def test_netid_allowed_servers_keep_foreign_entries(urls, foreign, product):
    level = 1 if product == "enterprise" else "full"
    entries = [{"url": u, "level": level} for u in urls]
    ops, errors = netid_allowed_ops(product, entries, foreign)
    assert errors == []
    removed = {op["name"] for op in ops if op["state"] == "absent"}
    assert removed == set(), "nothing is removed without exclusive or owned entries"
