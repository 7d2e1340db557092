"""Browser and Net iD policies render to exact registry operations."""

from __future__ import annotations

import json

import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.workstation.policy import (
    CHROME_ROOT,
    EDGE_ROOT,
    NETID_CLIENT_ALLOW_URL,
    NETID_ENTERPRISE_ALLOWED,
    ZONEMAP_KEY,
    auto_select_json,
    browser_list_keys,
    browser_registry_ops,
    netid_allowed_ops,
    numbered_list_ops,
    parse_browser_policy,
    url_pattern,
    value_names_by_key,
)

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


def ops_for(spec, present=None):
    ops, errors = browser_registry_ops(spec, present)
    assert errors == []
    return ops


def at(ops, path):
    return [(o["name"], o["type"], o["data"], o["state"]) for o in ops if o["path"] == path]


def test_auto_select_json_is_exactly_what_edge_documents():
    assert auto_select_json("https://idp.inera.se", HSA3) == (
        '{"pattern":"https://idp.inera.se",'
        '"filter":{"ISSUER":{"CN":"SITHS e-id Person HSA-id 3 CA v1"}}}'
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


def test_stale_numbered_values_are_removed_and_foreign_names_kept():
    present = {EDGE_POPUPS: ["1", "2", "3", "10", "Comment"]}
    rows = at(ops_for(BASE, present), EDGE_POPUPS)
    assert ("3", None, None, "absent") in rows
    assert ("10", None, None, "absent") in rows
    assert all(name != "Comment" for name, *_ in rows)
    assert [r[0] for r in rows if r[3] == "present"] == ["1", "2"]


def test_rerun_with_exactly_the_wanted_values_present_removes_nothing():
    first = ops_for(BASE)
    present = {}
    for op in first:
        present.setdefault(op["path"], []).append(op["name"])
    second = ops_for(BASE, present)
    assert second == first
    assert all(o["state"] == "present" for o in second)


def test_emptied_list_removes_every_numbered_value():
    spec = dict(BASE, popup_hosts=[])
    rows = at(ops_for(spec, {EDGE_POPUPS: ["2", "1"]}), EDGE_POPUPS)
    assert rows == [("1", None, None, "absent"), ("2", None, None, "absent")]


def test_present_paths_match_case_insensitively():
    rows = at(ops_for(BASE, {EDGE_POPUPS.upper(): ["5"]}), EDGE_POPUPS)
    assert ("5", None, None, "absent") in rows


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


def test_numbered_list_sorts_stale_numerically():
    ops = numbered_list_ops("popups", "K", ["a"], ["10", "9", "2"])
    assert [(o.name, o.state) for o in ops] == [
        ("1", "present"),
        ("2", "absent"),
        ("9", "absent"),
        ("10", "absent"),
    ]


def test_netid_enterprise_allowed_servers_exclusive():
    entries = [
        {"url": "https://wc2.webcert.intygstjanster.se", "level": 1},
        {"url": "https://idp.inera.se", "level": 1},
    ]
    ops, errors = netid_allowed_ops(
        "enterprise", entries, ["https://idp.inera.se", "https://old.example.se"]
    )
    assert errors == []
    assert [(o["path"], o["name"], o["data"], o["state"]) for o in ops] == [
        (NETID_ENTERPRISE_ALLOWED, "https://wc2.webcert.intygstjanster.se", "1", "present"),
        (NETID_ENTERPRISE_ALLOWED, "https://idp.inera.se", "1", "present"),
        (NETID_ENTERPRISE_ALLOWED, "https://old.example.se", None, "absent"),
    ]
    ops, _ = netid_allowed_ops("enterprise", entries, ["https://old.example.se"], exclusive=False)
    assert all(o["state"] == "present" for o in ops)


def test_netid_client_allow_url_numbered_with_level_words():
    ops, errors = netid_allowed_ops(
        "client", [{"url": "https://*.inera.se", "level": "full"}], ["1", "2"]
    )
    assert errors == []
    assert [(o["path"], o["name"], o["data"], o["state"]) for o in ops] == [
        (NETID_CLIENT_ALLOW_URL, "1", "https://*.inera.se,full", "present"),
        (NETID_CLIENT_ALLOW_URL, "2", None, "absent"),
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


def test_value_names_from_win_reg_stat_loop_results():
    results = [
        {"item": EDGE_POPUPS, "exists": True, "properties": {"1": {}, "2": {}, "": {}}},
        {"item": EDGE_AUTO, "exists": False},
    ]
    assert value_names_by_key(results) == {EDGE_POPUPS: ["1", "2"], EDGE_AUTO: []}
