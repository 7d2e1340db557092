"""A fault report (felanmälan) for Inera's support: inputs, contents and text (pure).

Inera's guide asks a fault report to carry the certificate (intyg) id, the HSA-id of the
person and of the care unit, the error message and exactly when it happened, after local
support has tried. ``build_bundle`` adds what local support checked: the person's
readiness (role, commissions, unit attributes), their certificate findings and, when a
host is named, that workstation's client version and services.

Only that person and that unit are included: the readiness entry of the unit loses its
lists of other people, and nothing else from the reports is copied. ``redact`` removes
anything that looks like a secret (keys named like passwords, keys or tokens; and the
literal values of secrets the caller knows, such as the bind password).

``archive_bytes`` builds the tar.gz or zip in memory (reproducible: fixed times and
owners), so the module only writes bytes to a file.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import tarfile
import zipfile
from dataclasses import dataclass

from ..description.rules import hsa_id_problem
from ..i18n.core import _, render_template
from .readiness import status_label

FORMATS = ("tar.gz", "zip")
DEFAULT_TIMEZONE = "Europe/Stockholm"
MAX_ERROR_TEXT = 4000
_INTYG_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_SECRET_KEY = re.compile(r"pass(word|phrase)?|secret|token|private|vault|credential|api_?key|"
                         r"^key$|_key$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

PERSON_KEYS = ("hsa_id", "name", "in_directory", "in_description", "role", "role_label",
               "role_reason", "expected_role", "expected_role_label", "unit_ids", "units",
               "rehabstod", "rehabstod_units", "certificates", "status", "problems", "warnings")
UNIT_KEYS = ("hsa_id", "name", "in_directory", "email", "workplace_codes", "commissions",
             "status", "problems", "warnings")
HOST_KEYS = ("host", "groups", "compliant", "client", "client_version", "services", "readers",
             "reboot_required", "problems")
CERT_KEYS = ("status", "auth", "sign", "problems", "warnings")


@dataclass(frozen=True)
class InputError:
    path: str  # the input that is wrong, e.g. "person"
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class BundleInput:
    intyg_id: str | None
    person: str
    unit: str
    error_text: str | None
    time: dt.datetime  # aware
    host: str | None


def _zone(name: str | None):
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except Exception:  # unknown zone or no tz database: the controller's local zone
        return dt.datetime.now().astimezone().tzinfo


def parse_time(text: str | None, now: dt.datetime, timezone: str | None = None):
    """(aware datetime, None) or (None, InputError). Empty -> ``now``; no offset -> ``timezone``."""
    zone = _zone(timezone)
    if text is None or not str(text).strip():
        return now.astimezone(zone).replace(microsecond=0), None
    raw = str(text).strip()
    value = raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None, InputError("time", _(
            "%(value)s is not a date and time; write it as ISO 8601, e.g. "
            "2026-11-26T10:15:00+01:00 or 2026-11-26 10:15", value=repr(raw)))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    if moment > now + dt.timedelta(minutes=5):
        return None, InputError("time", _("%(time)s lies in the future",
                                          time=moment.isoformat()))
    return moment, None


def check_inputs(intyg_id, person, unit, error_text, time, host, now: dt.datetime,
                 strict_ids: bool = True, timezone: str | None = None):
    """(BundleInput, []) when all inputs are right, else (None, [InputError, ...])."""
    errors: list[InputError] = []
    intyg_id = (intyg_id or "").strip() or None
    if intyg_id is not None and not _INTYG_ID.fullmatch(intyg_id):
        errors.append(InputError("intyg_id", _(
            "%(value)s is not an intygs-ID (copy it from the bottom of the certificate in "
            "Webcert)", value=repr(intyg_id))))
    for label, value in (("person", person), ("unit", unit)):
        value = (value or "").strip()
        if not value:
            errors.append(InputError(label, _("is required (the HSA-id)")))
            continue
        found = hsa_id_problem(value, strict=strict_ids)
        if found:
            errors.append(InputError(label, f"{value!r} {found[0]} ({found[1]})"))
    text = _CONTROL.sub("", error_text or "").strip() or None
    if text is not None and len(text) > MAX_ERROR_TEXT:
        text = text[:MAX_ERROR_TEXT] + " […]"
    moment, problem = parse_time(time, now, timezone)
    if problem:
        errors.append(problem)
    host = (host or "").strip() or None
    if errors:
        return None, errors
    return BundleInput(intyg_id, person.strip(), unit.strip(), text, moment, host), []


# --------------------------------------------------------------------------- contents


def redact(value, secrets=()):
    """A copy without secret-looking keys, and with known secret values replaced by ***."""
    secrets = [s for s in secrets if s]
    if isinstance(value, dict):
        return {k: ("***" if _SECRET_KEY.search(str(k)) else redact(v, secrets))
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v, secrets) for v in value]
    if isinstance(value, str):
        for s in secrets:
            value = value.replace(s, "***")
        return value
    return value


def _pick(entry: dict | None, keys) -> dict | None:
    if entry is None:
        return None
    return {k: entry.get(k) for k in keys if k in entry}


def build_bundle(inputs: BundleInput, readiness: dict | None, certificates: dict | None,
                 workstations: dict | None, created: str, secrets=()) -> dict:
    """Everything the fault report needs about this person, this unit and this host only."""
    notes: list[str] = []
    person = unit = cert = host = None
    if readiness is None:
        notes.append(_("No Webcert status (readiness data) was available."))
    else:
        person = next((p for p in readiness.get("people") or []
                       if p.get("hsa_id") == inputs.person), None)
        unit = next((u for u in readiness.get("units") or []
                     if u.get("hsa_id") == inputs.unit), None)
        if person is None:
            notes.append(_("The person %(hsa_id)s is neither in the provider description nor "
                           "in HSA.", hsa_id=inputs.person))
        if unit is None:
            notes.append(_("The care unit %(hsa_id)s is neither in the provider description "
                           "nor in HSA.", hsa_id=inputs.unit))
    if certificates is not None:
        entry = next((p for p in certificates.get("people") or []
                      if p.get("hsa_id") == inputs.person), None)
        cert = _pick(entry, CERT_KEYS)
        if entry is None:
            notes.append(_("The person %(hsa_id)s is not in the SITHS card check.",
                           hsa_id=inputs.person))
    if inputs.host:
        if workstations is None:
            notes.append(_("There is no workstation report, so nothing is known about the "
                           "computer %(host)s.", host=inputs.host))
        else:
            entry = next((h for h in workstations.get("hosts") or []
                          if h.get("host") == inputs.host), None)
            host = _pick(entry, HOST_KEYS)
            if entry is None:
                notes.append(_("The computer %(host)s is not in the workstation report.",
                               host=inputs.host))
    person = _pick(person, PERSON_KEYS)
    unit = _pick(unit, UNIT_KEYS)
    acts_for_unit = bool(person and inputs.unit in (person.get("unit_ids") or []))
    if person and unit and not acts_for_unit:
        notes.append(_("%(name)s has no active commission (medarbetaruppdrag) with the purpose "
                       "\"Vård och behandling\" on the care unit %(unit)s in HSA.",
                       name=person.get("name"), unit=unit.get("name")))
    bundle = {
        "report": {
            "intyg_id": inputs.intyg_id,
            "person_hsa_id": inputs.person,
            "unit_hsa_id": inputs.unit,
            "error_text": inputs.error_text,
            "time": inputs.time.isoformat(),
            "host": inputs.host,
        },
        "created": created,
        "person": person,
        "unit": unit,
        "acts_for_unit": acts_for_unit,
        "certificates": cert,
        "workstation": host,
        "provider": _pick((readiness or {}).get("provider"), ("hsa_id", "name", "org_no")),
        "readiness_date": (readiness or {}).get("today"),
        "notes": notes,
    }
    return redact(bundle, secrets)


# --------------------------------------------------------------------------- text


def known_problems(bundle: dict) -> list[str]:
    """The problems already known about this person, unit and card (each once)."""
    person, unit = bundle.get("person"), bundle.get("unit")
    known: list[str] = []
    for source in (person, unit):
        for p in (source or {}).get("problems") or []:
            if p["message"] not in known:
                known.append(p["message"])
    for p in (bundle.get("certificates") or {}).get("problems") or []:
        text = _("SITHS card: %(problem)s", problem=p)
        if text not in known:
            known.append(text)
    return known


def render_text(bundle: dict) -> str:
    """Ready to paste into Inera's support form (templates/felanmalan.txt.j2)."""
    return render_template("felanmalan.txt.j2", b=bundle, r=bundle["report"],
                           known=known_problems(bundle), status_label=status_label)


# --------------------------------------------------------------------------- archive


def archive_name(bundle: dict, fmt: str) -> str:
    r = bundle["report"]
    stamp = re.sub(r"[^0-9T]", "", r["time"][:19])
    person = re.sub(r"[^A-Za-z0-9-]", "_", r["person_hsa_id"])
    return f"webcert-felanmalan-{stamp}-{person}.{fmt}"


def bundle_files(bundle: dict) -> dict[str, str]:
    return {
        "felanmalan.txt": render_text(bundle),
        "bundle.json": json.dumps(bundle, ensure_ascii=False, indent=2) + "\n",
    }


def archive_bytes(files: dict[str, str], fmt: str, mtime: dt.datetime, folder: str) -> bytes:
    """A reproducible tar.gz or zip holding ``files`` below ``folder/``."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    stamp = int(mtime.timestamp())
    out = io.BytesIO()
    if fmt == "zip":
        when = mtime.astimezone(dt.UTC).timetuple()[:6]
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for name in sorted(files):
                info = zipfile.ZipInfo(f"{folder}/{name}", date_time=max(when, (1980, 1, 1)))
                info.external_attr = 0o640 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, files[name].encode("utf-8"))
        return out.getvalue()
    import gzip

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name in sorted(files):
            data = files[name].encode("utf-8")
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size, info.mtime, info.mode = len(data), stamp, 0o640
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tf.addfile(info, io.BytesIO(data))
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=stamp) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()
