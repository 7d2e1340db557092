"""Small builders for provider models in reconciler tests (no YAML needed)."""

from __future__ import annotations

from dataclasses import replace

from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.model import (
    Commission,
    Onboarding,
    Origin,
    Person,
    Position,
    Provider,
    ProviderModel,
    Speciality,
    Unit,
)

ORIGIN = Origin("provider.yml", 1)
PROVIDER_ID = "SE5565594230-PROV"


def provider(name="Vårdbolaget Norr AB", hsa_id=PROVIDER_ID, org_no="5565594230"):
    return Provider(hsa_id, name, org_no, Onboarding(None, None, None, ORIGIN), ORIGIN)


def unit(hsa_id, name, parent=None, email="mottagning@example.se", codes=("1234567",)):
    return Unit(hsa_id, name, email, tuple(codes), parent, None, ORIGIN)


def person(hsa_id, given="Åsa", surname="Öberg", unit_id=None, titles=("Läkare",),
           prescriber="1234567", groups=(), specialities=(), positions=(), mail=None):
    return Person(
        hsa_id, given, surname, f"{given} {surname}", tuple(titles), prescriber, tuple(groups),
        tuple(Speciality(code=s[1], name=s[2], licence_code=s[0]) for s in specialities),
        tuple(Position(*p) for p in positions),
        unit_id, mail, True, None, None, ORIGIN)


def commission(hsa_id, name, unit_id, members=(), rights=("Läsa;alla;SJF",),
               purpose="Vård och behandling", valid_from=None, valid_to=None):
    return Commission(hsa_id, name, unit_id, purpose, tuple(rights), tuple(members),
                      valid_from, valid_to, ORIGIN)


def model(units=(), people=(), commissions=(), prov=None):
    return ProviderModel(prov or provider(), tuple(units), tuple(people), tuple(commissions))


def small_model():
    """A provider, a unit with a sub-unit, three people and two commissions."""
    return model(
        units=[unit("SE5565594230-U1", "Mottagning Norr"),
               unit("SE5565594230-U2", "Barnavård", parent="SE5565594230-U1")],
        people=[
            person("SE5565594230-P1", "Åsa", "Öberg", "SE5565594230-U1",
                   specialities=[("101", "1100", "Allmänmedicin")],
                   positions=[("201010", "Överläkare")], mail="asa@example.se"),
            person("SE5565594230-P2", "Bo", "Ek", "SE5565594230-U1", titles=("Sjuksköterska",),
                   prescriber=None),
            person("SE5565594230-P3", "Cia", "Al", "SE5565594230-U2", titles=(),
                   prescriber=None, groups=("9300005",), positions=[("203090", None)]),
        ],
        commissions=[
            commission("SE5565594230-C1", "Vård Norr", "SE5565594230-U1",
                       members=("SE5565594230-P1", "SE5565594230-P2")),
            commission("SE5565594230-C2", "Vård Barn", "SE5565594230-U2",
                       members=("SE5565594230-P3",)),
        ])


__all__ = [
    "ORIGIN",
    "PROVIDER_ID",
    "commission",
    "model",
    "person",
    "provider",
    "replace",
    "small_model",
    "unit",
]
