"""make_plan with TwinEntry stand-ins gives the plan the decoded entries give.

A TwinEntry replaces an entry the plan cache knows to be in sync. For the cache to be
safe, swapping every such entry for its twin must never change a plan, whatever else
changes around it: renames and moves of parents, swaps, leavers with and without
pruning, unmanaged and foreign entries. And ``plan.in_sync`` must only list pairs where
the entry already sits at the desired DN with nothing to change.
"""

from __future__ import annotations

import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.mapping import (
    DirectoryEntry,
    TwinEntry,
    desired_entries,
    dn_keys,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.plan import (
    make_plan,
)
from hsa_builders import model, person, replace, small_model, unit

BASE = "c=SE"


def as_directory(m):
    return [DirectoryEntry(e.dn, {"objectClass": e.object_classes,
                                  **{k: v for k, v in e.attributes.items() if v}})
            for e in desired_entries(m, BASE).entries]


def renamed_parent(m):
    return replace(m, units=(replace(m.units[0], name="Mottagning Nord"), m.units[1]))


def moved_person(m):
    return replace(m, people=(m.people[0], replace(m.people[1], unit="SE5565594230-U2"),
                              m.people[2]))


def changed_title(m):
    return replace(m, people=(replace(m.people[0], titles=("Överläkare",)), *m.people[1:]))


def leaver(m):
    return replace(m, people=m.people[:2], commissions=(
        m.commissions[0], replace(m.commissions[1], members=())))


def swapped_units(m):
    a, b = m.units
    top = replace(b, parent=None)
    return replace(m, units=(replace(a, name=b.name), replace(top, name=a.name)))


def subunit_to_top_and_parent_renamed(m):
    return replace(m, units=(replace(m.units[0], name="Nord"),
                             replace(m.units[1], parent=None)))


def new_unit_and_person(m):
    return replace(m, units=(*m.units, unit("SE5565594230-U3", "Ny")),
                   people=(*m.people, person("SE5565594230-P9", "Nils", "Ny",
                                             "SE5565594230-U3")))


def extra_entries(actual):
    """An unmanaged person and an entry without hsaIdentity below the provider."""
    prov = actual[0].dn
    return [*actual,
            DirectoryEntry(f"hsaIdentity=SE5565594230-P8,{prov}", {
                "objectClass": ("top", "person", "inetOrgPerson", "hsaPersonExtension"),
                "hsaIdentity": ("SE5565594230-P8",), "cn": ("X",), "sn": ("X",)}),
            DirectoryEntry(f"cn=printer,{prov}", {"objectClass": ("device",), "cn": ("p",)}),
            DirectoryEntry(BASE, {"objectClass": ("country",), "c": ("SE",)})]


CHANGES = [renamed_parent, moved_person, changed_title, leaver, swapped_units,
           subunit_to_top_and_parent_renamed, new_unit_and_person, lambda m: m]


def with_twins(desired, actual):
    """The actual entries with every entry in sync replaced by its TwinEntry."""
    plan = make_plan(desired, actual, BASE)
    twin_of = {id(a): w for w, a in plan.in_sync}
    return [TwinEntry(twin_of[id(a)]) if id(a) in twin_of else a for a in actual], plan


@pytest.mark.parametrize("extra", [False, True])
@pytest.mark.parametrize("prune", [False, True])
@pytest.mark.parametrize("change", CHANGES)
def test_twins_never_change_the_plan(change, prune, extra):
    before = small_model()
    actual = as_directory(before)
    if extra:
        actual = extra_entries(actual)
    desired = desired_entries(change(before), BASE)
    twins, plan = with_twins(desired, actual)
    again = make_plan(desired, twins, BASE, prune=prune, max_deletes=100)
    plan = make_plan(desired, actual, BASE, prune=prune, max_deletes=100)
    assert again.to_dict() == plan.to_dict()
    assert [(w.hsa_id, a.dn) for w, a in again.in_sync] == [
        (w.hsa_id, a.dn) for w, a in plan.in_sync]


@pytest.mark.parametrize("change", CHANGES)
def test_in_sync_pairs_sit_at_the_desired_dn_and_need_nothing(change):
    before = small_model()
    actual = as_directory(before)
    desired = desired_entries(change(before), BASE)
    plan = make_plan(desired, actual, BASE)
    touched = {o.hsa_id for o in plan.operations}
    for want, entry in plan.in_sync:
        assert dn_keys(entry.dn) == dn_keys(want.dn)
        assert want.hsa_id not in touched


def test_children_of_a_renamed_unit_are_not_in_sync():
    """They need no operation of their own, but their DN changes with the parent's."""
    before = small_model()
    desired = desired_entries(renamed_parent(before), BASE)
    plan = make_plan(desired, as_directory(before), BASE)
    in_sync = {w.hsa_id for w, _ in plan.in_sync}
    assert "SE5565594230-U2" not in in_sync  # the sub-unit moves with it
    assert "SE5565594230-P1" not in in_sync  # and its people
    assert "SE5565594230-PROV" in in_sync


def test_all_twins_is_an_empty_plan():
    m = small_model()
    desired = desired_entries(m, BASE)
    twins = [TwinEntry(w) for w in desired.entries]
    plan = make_plan(desired, twins, BASE, prune=True)
    assert plan.operations == [] and plan.unmanaged == [] and plan.errors == []
    assert len(plan.in_sync) == len(desired.entries)


def test_a_twin_builds_the_attributes_it_stands_for():
    desired = desired_entries(model(units=[unit("SE5565594230-U1", "A")]), BASE)
    want = desired.entries[1]
    twin = TwinEntry(want)
    assert twin.dn == want.dn and twin.hsa_id == want.hsa_id and twin.kind == "unit"
    assert twin.get("objectclass") == want.object_classes
    assert twin.first("ou") == "A"
    assert all(v for v in twin.attributes.values())  # "must be absent" is not a value
