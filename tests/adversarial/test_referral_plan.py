"""Referrals in the plan (pure): which planned operations ``refuse_referred`` takes out."""

from __future__ import annotations

from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.gateway import (
    ApplyResult,
    OpResult,
    _ranges,
    apply_summary,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.plan import (
    Operation,
    Plan,
    refuse_referred,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.plan_text import (
    render_text,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.core import (
    use_language,
)

REF = "ou=Remote,o=Adv AB,c=SE"
URL = "ldap://hsa.elsewhere.example/ou=Remote,c=SE"


def _plan() -> Plan:
    ops = [
        Operation("add", "unit", "U-AT", REF),                       # at the referral
        Operation("add", "person", "P-BELOW", f"hsaIdentity=P9,{REF}"),  # below it
        Operation("modify", "person", "P-ELSE", "hsaIdentity=P1,ou=Ett,o=Adv AB,c=SE"),
        Operation("modrdn", "person", "P-INTO", "hsaIdentity=P2,ou=Ett,o=Adv AB,c=SE",
                  new_rdn="hsaIdentity=P2", new_superior=REF,
                  new_dn=f"hsaIdentity=P2,{REF}"),                   # moved into it
        Operation("add", "unit", "U-SIB", "ou=Remote 2,o=Adv AB,c=SE"),  # a sibling name
        Operation("delete", "unit", "U-ABOVE", "o=Adv AB,c=SE"),     # above it
        Operation("delete", "person", "P-GONE", "hsaIdentity=P3,ou=Ett,o=Adv AB,c=SE"),
    ]
    return Plan(base_dn="c=SE", operations=ops)


def test_operations_at_below_into_and_above_a_referral_are_refused():
    plan = _plan()
    refused = refuse_referred(plan, {"OU=remote, o=Adv AB,c=se": [URL]})  # DNs match as LDAP does
    assert [r["hsa_id"] for r in refused] == ["U-AT", "P-BELOW", "P-INTO", "U-ABOVE"]
    assert [o.hsa_id for o in plan.operations] == ["P-ELSE", "U-SIB", "P-GONE"]
    assert plan.refused == refused
    assert all(URL in r["message"] and "referral" in r["message"] for r in refused)
    assert refused[2]["message"].startswith("Personen P-INTO: inget skickades, eftersom den "
                                            "delen av katalogen finns på en annan server")
    assert f"För IT: modrdn hsaIdentity=P2,{REF} stoppades; den ligger på eller under" in \
        refused[2]["message"]
    assert "en del av katalogen under den finns på en annan server" in refused[3]["message"]
    with use_language("en"):
        english = refuse_referred(_plan(), {"OU=remote, o=Adv AB,c=se": [URL]})
    assert english[2]["message"].startswith("The person P-INTO: nothing was sent")
    assert f"For IT: modrdn hsaIdentity=P2,{REF} refused; it is at or below" in english[2]["message"]
    assert "below it is a referral to " + URL in english[3]["message"]
    with use_language("en"):
        text = render_text(plan)
    assert text.count("! refused") == 4 and "4 refused (referral)" in text.splitlines()[-1]


def test_no_referrals_leave_the_plan_alone():
    plan = _plan()
    assert refuse_referred(plan, {}) == [] and len(plan.operations) == 7 and not plan.refused
    with use_language("en"):
        assert "refused" not in render_text(plan)


def test_interrupted_summary_names_what_was_applied_and_in_flight():
    r = ApplyResult(interrupted=True)
    r.applied = [OpResult(i, "add", f"cn={i}", f"P{i}", "applied") for i in range(5)]
    r.unknown = [OpResult(i, "add", f"cn={i}", f"P{i}", "unknown") for i in (5, 6)]
    r.not_applied = [OpResult(i, "add", f"cn={i}", f"P{i}", "not_applied") for i in (7, 8, 9)]
    msg = apply_summary(r, 10)
    assert msg.startswith("Körningen avbröts efter 5 av 10 ändringar: 5 gjorda, 2 skickade"), msg
    assert "(de kan ha gjorts eller inte: ändring 6-7)" in msg and "3 inte gjorda" in msg
    with use_language("en"):
        msg = apply_summary(r, 10)
    assert msg.startswith("The run was interrupted after 5 of 10 changes: 5 made, 2 sent"), msg
    assert "(they may or may not have been made: changes 6-7)" in msg and "3 not made" in msg
    assert not r.ok and r.to_dict()["interrupted"] is True
    assert _ranges([0, 1, 2, 5, 7, 8]) == "1-3, 6, 8-9" and _ranges([]) == ""
