"""Browser and Net iD policies render to exact registry operations."""

from __future__ import annotations

import json

import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.workstation.policy import (
    CHROME_ROOT,
    EDGE_ROOT,
    NETID_CLIENT_ALLOW_URL,
    NETID_ENTERPRISE_ALLOWED,
    OWNED_KEY,
    ZONEMAP_KEY,
    auto_select_json,
    browser_list_keys,
    browser_registry_ops,
    netid_allowed_ops,
    numbered_list_ops,
    owned_by_key,
    parse_browser_policy,
    url_pattern,
    values_by_key,
)
from windows_contract import apply_regedit, reg_stat_key, reg_stat_results

HSA3 = "SITHS e-id Person HSA-id 3 CA v1"
EDGE_AUTO = EDGE_ROOT + "\\AutoSelectCertificateForUrls"
CHROME_AUTO = CHROME_ROOT + "\\AutoSelectCertificateForUrls"
EDGE_POPUPS = EDGE_ROOT + "\\PopupsAllowedForUrls"

BASE = {
    "browsers": ["edge", "chrome"],
    "auto_select_hosts": ["idp.inera.se"],
    "auto_select_issuer_cns": [HSA3],
    "popup_hosts": ["wc2.webcert.intygstjanster.se", "idp.inera.se"],
}


def ops_for(spec, present=None, owned=None):
    ops, errors = browser_registry_ops(spec, present, owned)
    assert errors == []
    return ops


def at(ops, path):
    return [(o["name"], o["type"], o["data"], o["state"]) for o in ops if o["path"] == path]


def test_auto_select_json_is_exactly_what_edge_documents():
    assert auto_select_json("https://idp.inera.se", HSA3) == (
        '{"pattern":"https://idp.inera.se","filter":{"ISSUER":{"CN":"SITHS e-id Person HSA-id 3 CA v1"}}}'
    )


def test_auto_select_written_for_edge_and_chrome_as_numbered_strings():
    ops = ops_for(BASE)
    expected = [("1", "string", auto_select_json("https://idp.inera.se", HSA3), "present")]
    assert at(ops, EDGE_AUTO) == expected
    assert at(ops, CHROME_AUTO) == expected
    assert all(o["control"] == "auto_select" for o in ops if o["path"] in (EDGE_AUTO, CHROME_AUTO))


def test_one_entry_per_host_and_issuer_in_declared_order():
    spec = dict(
        BASE,
        auto_select_hosts=["idp.inera.se", "idp.ineraqa.org"],
        auto_select_issuer_cns=[HSA3, "SITHS e-id Person HSA-id 2 CA v1"],
    )
    data = [json.loads(d) for _, _, d, _ in at(ops_for(spec), EDGE_AUTO)]
    assert [(d["pattern"], d["filter"]["ISSUER"]["CN"]) for d in data] == [
        ("https://idp.inera.se", HSA3),
        ("https://idp.inera.se", "SITHS e-id Person HSA-id 2 CA v1"),
        ("https://idp.ineraqa.org", HSA3),
        ("https://idp.ineraqa.org", "SITHS e-id Person HSA-id 2 CA v1"),
    ]


def test_popups_become_https_patterns():
    assert at(ops_for(BASE), EDGE_POPUPS) == [
        ("1", "string", "https://wc2.webcert.intygstjanster.se", "present"),
        ("2", "string", "https://idp.inera.se", "present"),
    ]


def test_url_pattern_keeps_wildcards_and_schemes():
    assert url_pattern("[*.]inera.se") == "[*.]inera.se"
    assert url_pattern("https://x.example.se/path") == "https://x.example.se/path"
    assert url_pattern("idp.inera.se") == "https://idp.inera.se"


def run_role(spec, registry):
    """What one run of the webcert_browser role does: read, render, apply."""
    keys, _ = browser_list_keys(spec)
    present = values_by_key(reg_stat_results(registry, keys))
    owned = owned_by_key(dict(reg_stat_results(registry, [OWNED_KEY])[0]))
    ops = ops_for(spec, present, owned)
    return ops, apply_regedit(registry, ops)


def test_foreign_entries_survive_and_ours_are_appended_at_the_first_free_number():
    gpo = {"1": "https://intranet.clinic.example.se", "3": "[*.]1177.se", "Comment": "x"}
    registry = {EDGE_POPUPS: dict(gpo)}
    ops, changed = run_role(BASE, registry)
    assert ("2", "string", "https://wc2.webcert.intygstjanster.se", "present") in at(ops, EDGE_POPUPS)
    assert ("4", "string", "https://idp.inera.se", "present") in at(ops, EDGE_POPUPS)
    assert not [o for o in ops if o["state"] == "absent"]
    assert all(registry[EDGE_POPUPS][k] == v for k, v in gpo.items())
    assert changed > 0
    # Every later run: nothing changes, foreign entries still there.
    for _ in range(3):
        _, changed = run_role(BASE, registry)
        assert changed == 0
        assert all(registry[EDGE_POPUPS][k] == v for k, v in gpo.items())


def test_only_entries_the_toolkit_wrote_are_removed_when_no_longer_wanted():
    registry = {EDGE_POPUPS: {"1": "https://intranet.clinic.example.se"}}
    run_role(BASE, registry)
    narrowed = dict(BASE, popup_hosts=["idp.inera.se"])
    ops, _ = run_role(narrowed, registry)
    assert [(o["name"], o["state"]) for o in ops if o["path"] == EDGE_POPUPS and o["state"] == "absent"] == [
        ("2", "absent")
    ]
    assert registry[EDGE_POPUPS] == {"1": "https://intranet.clinic.example.se", "3": "https://idp.inera.se"}
    assert registry[OWNED_KEY][EDGE_POPUPS] == ["https://idp.inera.se"]


def test_a_value_another_tool_wrote_first_is_never_removed_by_us():
    registry = {EDGE_POPUPS: {"1": "https://idp.inera.se"}}
    run_role(BASE, registry)
    run_role(dict(BASE, popup_hosts=["wc2.webcert.intygstjanster.se"]), registry)
    assert registry[EDGE_POPUPS]["1"] == "https://idp.inera.se"


def test_empty_list_means_leave_alone():
    spec = dict(BASE, popup_hosts=[])
    registry = {EDGE_POPUPS: {"1": "a", "2": "b"}, OWNED_KEY: {EDGE_POPUPS: ["a"]}}
    ops, _ = run_role(spec, registry)
    assert at(ops, EDGE_POPUPS) == []
    assert registry[EDGE_POPUPS] == {"1": "a", "2": "b"}


def test_present_paths_match_case_insensitively():
    rows = at(ops_for(BASE, {EDGE_POPUPS.upper(): {"1": "https://idp.inera.se"}}), EDGE_POPUPS)
    assert ("1", "string", "https://idp.inera.se", "present") in rows
    assert ("2", "string", "https://wc2.webcert.intygstjanster.se", "present") in rows


def test_disabled_control_and_browser_produce_no_operations():
    spec = dict(BASE, browsers=["edge"], controls={"popups": False})
    ops = ops_for(spec, {EDGE_POPUPS: ["1", "2"]})
    assert not [o for o in ops if o["control"] == "popups"]
    assert not [o for o in ops if o["path"].startswith(CHROME_ROOT)]
    keys, _ = browser_list_keys(spec)
    assert EDGE_POPUPS not in keys
    assert EDGE_AUTO in keys


def test_extensions_are_per_browser():
    edge_id, chrome_id = "a" * 32, "b" * 32
    spec = dict(
        BASE,
        extensions=[
            {
                "browser": "edge",
                "id": edge_id,
                "update_url": "https://edge.microsoft.com/extensionwebstorebase/v1/crx",
            },
            {
                "browser": "chrome",
                "id": chrome_id,
                "update_url": "https://clients2.google.com/service/update2/crx",
            },
        ],
    )
    ops = ops_for(spec)
    assert at(ops, EDGE_ROOT + "\\ExtensionInstallForcelist") == [
        (
            "1",
            "string",
            f"{edge_id};https://edge.microsoft.com/extensionwebstorebase/v1/crx",
            "present",
        )
    ]
    assert at(ops, CHROME_ROOT + "\\ExtensionInstallForcelist") == [
        ("1", "string", f"{chrome_id};https://clients2.google.com/service/update2/crx", "present")
    ]


def test_native_messaging_allow_list():
    ops = ops_for(dict(BASE, native_messaging_hosts=["se.inera.example"]))
    assert at(ops, CHROME_ROOT + "\\NativeMessagingAllowlist") == [
        ("1", "string", "se.inera.example", "present")
    ]


def test_ie_mode_only_for_edge_with_dword_level_and_site_list():
    spec = dict(BASE, ie_mode_level=1, ie_mode_site_list="https://intranet.example.se/sites.xml")
    ops = ops_for(spec)
    assert ("InternetExplorerIntegrationLevel", "dword", 1, "present") in at(ops, EDGE_ROOT)
    assert (
        "InternetExplorerIntegrationSiteList",
        "string",
        "https://intranet.example.se/sites.xml",
        "present",
    ) in at(ops, EDGE_ROOT)
    assert at(ops, CHROME_ROOT) == []


def test_ie_mode_off_removes_the_site_list():
    ops = ops_for(dict(BASE, ie_mode_level=0, ie_mode_site_list=""))
    assert at(ops, EDGE_ROOT) == [
        ("InternetExplorerIntegrationLevel", "dword", 0, "present"),
        ("InternetExplorerIntegrationSiteList", None, None, "absent"),
    ]


def test_ie_mode_unmanaged_when_level_is_null():
    assert at(ops_for(dict(BASE, ie_mode_level=None)), EDGE_ROOT) == []


def test_trusted_sites_zone_map_and_explicit_removals():
    spec = dict(
        BASE,
        trusted_sites={"https://wc2.webcert.intygstjanster.se": 2},
        trusted_sites_absent=["https://old.example.se"],
    )
    assert at(ops_for(spec), ZONEMAP_KEY) == [
        ("https://wc2.webcert.intygstjanster.se", "string", "2", "present"),
        ("https://old.example.se", None, None, "absent"),
    ]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"auto_select_hosts": ["http://idp.inera.se"]}, "auto_select_hosts[0]"),
        ({"auto_select_hosts": ["not a host"]}, "auto_select_hosts[0]"),
        ({"auto_select_issuer_cns": []}, "auto_select_issuer_cns"),
        ({"popup_hosts": "idp.inera.se"}, "popup_hosts"),
        ({"browsers": ["firefox"]}, "browsers[0]"),
        ({"controls": {"popups": "yes"}}, "controls.popups"),
        ({"controls": {"bogus": True}}, "controls.bogus"),
        (
            {"extensions": [{"browser": "edge", "id": "short", "update_url": "https://x"}]},
            "extensions[0].id",
        ),
        (
            {"extensions": [{"browser": "edge", "id": "a" * 32, "update_url": "http://x"}]},
            "extensions[0].update_url",
        ),
        ({"native_messaging_hosts": ["bad host"]}, "native_messaging_hosts[0]"),
        ({"ie_mode_level": 3}, "ie_mode_level"),
        ({"ie_mode_level": True}, "ie_mode_level"),
        ({"ie_mode_site_list": "ftp://x"}, "ie_mode_site_list"),
        ({"trusted_sites": {"https://a.se": 7}}, "trusted_sites.https://a.se"),
        (
            {"trusted_sites": {"https://a.se": 2}, "trusted_sites_absent": ["https://a.se"]},
            "trusted_sites_absent[0]",
        ),
    ],
)
def test_invalid_input_is_reported_with_its_path_and_renders_nothing(change, path):
    ops, errors = browser_registry_ops(dict(BASE, **change))
    assert ops == []
    assert any(e.startswith(path + ":") for e in errors), errors


def test_all_errors_are_collected():
    _, errors = parse_browser_policy(dict(BASE, ie_mode_level=9, browsers=["opera"]))
    assert len(errors) == 2


def test_numbered_list_removes_owned_stale_values_in_numeric_order():
    present = {"10": "c", "9": "b", "2": "a", "1": "foreign"}
    ops = numbered_list_ops("popups", "K", ["new"], present, owned=["a", "b", "c"])
    assert [(o.name, o.state) for o in ops if o.path == "K"] == [
        ("3", "present"),
        ("2", "absent"),
        ("9", "absent"),
        ("10", "absent"),
    ]
    assert ops[-1].path == OWNED_KEY
    assert ops[-1].data == ["new"]


def test_netid_enterprise_allowed_servers_exclusive():
    entries = [
        {"url": "https://wc2.webcert.intygstjanster.se", "level": 1},
        {"url": "https://idp.inera.se", "level": 1},
    ]
    ops, errors = netid_allowed_ops(
        "enterprise", entries, ["https://idp.inera.se", "https://old.example.se"], exclusive=True
    )
    assert errors == []
    assert [(o["path"], o["name"], o["data"], o["state"]) for o in ops] == [
        (NETID_ENTERPRISE_ALLOWED, "https://wc2.webcert.intygstjanster.se", "1", "present"),
        (NETID_ENTERPRISE_ALLOWED, "https://idp.inera.se", "1", "present"),
        (NETID_ENTERPRISE_ALLOWED, "https://old.example.se", None, "absent"),
    ]
    ops, _ = netid_allowed_ops("enterprise", entries, ["https://old.example.se"])
    assert all(o["state"] == "present" for o in ops), "not exclusive unless asked"


def test_netid_client_allow_url_numbered_with_level_words():
    ops, errors = netid_allowed_ops(
        "client",
        [{"url": "https://*.inera.se", "level": "full"}],
        {"1": "https://intra.example.se,full", "2": "https://old.example.se,use"},
        owned=["https://old.example.se,use"],
    )
    assert errors == []
    assert [(o["path"], o["name"], o["data"], o["state"]) for o in ops] == [
        (NETID_CLIENT_ALLOW_URL, "3", "https://*.inera.se,full", "present"),
        (NETID_CLIENT_ALLOW_URL, "2", None, "absent"),
        (OWNED_KEY, NETID_CLIENT_ALLOW_URL, ["https://*.inera.se,full"], "present"),
    ]


@pytest.mark.parametrize(
    ("product", "entry", "fragment"),
    [
        ("enterprise", {"url": "https://a.se", "level": 7}, "level"),
        ("enterprise", {"url": "http://a.se", "level": 1}, "url"),
        ("client", {"url": "https://a.se", "level": 1}, "level"),
        ("client", {"url": "https://a.se,x", "level": "full"}, "url"),
    ],
)
def test_netid_bad_entries(product, entry, fragment):
    ops, errors = netid_allowed_ops(product, [entry])
    assert ops == []
    assert errors and f"allowed_servers[0].{fragment}" in errors[0]


def test_values_from_win_reg_stat_loop_results():
    results = [
        dict(
            reg_stat_key({"1": ("REG_SZ", "a"), "2": ("REG_SZ", "b"), "": ("REG_SZ", "")}), item=EDGE_POPUPS
        ),
        dict(reg_stat_key(None), item=EDGE_AUTO),
    ]
    assert values_by_key(results) == {EDGE_POPUPS: {"1": "a", "2": "b"}, EDGE_AUTO: {}}
