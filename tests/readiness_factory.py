"""Small builders for ProviderModel objects used by the readiness tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from ansible_collections.webcert_siths.onboarding.plugins.module_utils.description.model import (
    Commission,
    Onboarding,
    Origin,
    Person,
    Position,
    Provider,
    ProviderModel,
    Unit,
)

PROVIDER_ID = "SE5565594230-1000"
NORR = "SE5565594230-1001"
SODER = "SE5565594230-1002"
TODAY = date(2026, 11, 26)


def origin(file: str, line: int) -> Origin:
    return Origin(file, line)


def provider(org_no: str | None = "5565594230", done: bool = True, file="provider.yml"):
    ob = Onboarding(date(2026, 1, 10) if done else None, date(2026, 2, 1) if done else None,
                    "ORD-123" if done else None, origin(file, 5))
    return Provider(PROVIDER_ID, "Demovården AB", org_no, ob, origin(file, 1))


def unit(hsa_id=NORR, name="Vårdcentralen Norr", email="norr@example.se",
         codes=("1234567",), host_group="unit_norr", file="units/norr.yml"):
    return Unit(hsa_id, name, email, tuple(codes), None, host_group, origin(file, 2))


def person(hsa_id, name="Anna Läkare", titles=("Läkare",), positions=(), groups=(),
           unit_id=NORR, uses_webcert=True, expected_role=None, file="units/norr.yml", line=10):
    given, _, sur = name.partition(" ")
    return Person(
        hsa_id=hsa_id, given_name=given, surname=sur, full_name=name, titles=tuple(titles),
        prescriber_code=None, group_prescriber_codes=tuple(groups), specialities=(),
        positions=tuple(Position(c, None) for c in positions), unit=unit_id, mail=None,
        uses_webcert=uses_webcert, siths=None, expected_role=expected_role,
        origin=origin(file, line))


def commission(hsa_id, members, unit_id=NORR, purpose="Vård och behandling",
               valid_from=None, valid_to=None, name=None, file="units/norr.yml", line=30):
    return Commission(hsa_id, name or f"Uppdrag {hsa_id[-4:]}", unit_id, purpose,
                      ("Läsa;alla;SJF",), tuple(members), valid_from, valid_to,
                      origin(file, line))


def model(prov=None, units=(), people=(), commissions=()) -> ProviderModel:
    return ProviderModel(prov or provider(), tuple(units), tuple(people), tuple(commissions))


def as_directory(m: ProviderModel) -> ProviderModel:
    """The same objects as the directory would give them back: origins are DNs."""
    base = "o=Demovården AB,dc=example,dc=se"

    def dn(o, rdn):
        return replace(o, origin=Origin(f"{rdn},{base}", 0))

    prov = replace(m.provider, origin=Origin(base, 0),
                   onboarding=Onboarding(None, None, None, Origin(base, 0)))
    return ProviderModel(
        prov,
        tuple(replace(dn(u, f"ou={u.name}"), host_group=None) for u in m.units),
        tuple(replace(dn(p, f"hsaIdentity={p.hsa_id}"), expected_role=None, uses_webcert=True)
              for p in m.people),
        tuple(dn(c, f"cn={c.name}") for c in m.commissions),
    )


def certs(*entries) -> dict:
    """A siths.json-shaped dict: entries are (hsa_id, status, problems, warnings)."""
    people = []
    for hsa_id, status, problems, warnings in entries:
        cert = {"serial_number": hsa_id, "issuer": "TEST SITHS e-id Person HSA-id 3 CA v1",
                "not_after": "2028-01-01T00:00:00+00:00", "days_left": 400, "chain_ok": True,
                "revoked": False, "legacy": False, "subject": f"CN=x,serialNumber={hsa_id}",
                "usage": "auth", "problems": [], "source": "ldap:x"}
        people.append({"hsa_id": hsa_id, "name": "x", "uses_webcert": True, "status": status,
                       "auth": cert, "sign": dict(cert, usage="sign"),
                       "problems": list(problems), "warnings": list(warnings)})
    return {"generated": "2026-11-26T10:00:00+01:00", "warn_days": 60, "people": people,
            "unmatched": [], "summary": {}}
