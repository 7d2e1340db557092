"""Render readiness data (``reports.readiness.build_readiness``) as HTML, JSON and text.

The HTML page comes from ``templates/readiness.html.j2`` (Jinja2, autoescape): one
self-contained file, inline CSS and a small inline script, nothing from elsewhere (a
Content-Security-Policy forbids it). It fits 1280 px without horizontal scrolling (fixed
column widths, long words wrap, nothing is cut), prints on A4, turns tables into cards on a
phone, sorts by clicking a column heading and filters by text, status and care unit. Status
is a colour *and* a word with a symbol. When the script has run it sets
``data-report-ready="1"`` on ``<body>`` (the browser tests check it).

Text is in the current language (``i18n.core.use_language``); Swedish by default.
"""

from __future__ import annotations

import json

from ..i18n.core import _, ngettext, render_template
from .readiness import BLOCKED, NOT_EXPECTED, READY, WARNING, status_label

SYMBOLS = {READY: "✔", WARNING: "▲", BLOCKED: "✖", NOT_EXPECTED: "–"}
ORDER = {BLOCKED: 0, WARNING: 1, READY: 2, NOT_EXPECTED: 3}


def predicted_note() -> str:
    return _(
        "Predicted from the provider description, without a directory connection: HSA has "
        "not confirmed any of these verdicts.")


def to_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


# --------------------------------------------------------------------------- terminal


def render_text(data: dict, html_path: str | None = None, limit: int = 20) -> str:
    """A short summary for the terminal: counts, then every blocked person with the first fix."""
    s = data["summary"]
    prov = data["provider"]
    lines = [
        _("Webcert status for %(provider)s (%(hsa_id)s) on %(today)s", provider=prov["name"],
          hsa_id=prov["hsa_id"], today=data["today"]),
        ngettext("People expected to use Webcert: %(num)s — %(ready)s ready, %(warning)s need "
                 "attention, %(blocked)s blocked",
                 "People expected to use Webcert: %(num)s — %(ready)s ready, %(warning)s need "
                 "attention, %(blocked)s blocked", s["expected"], ready=s["ready"],
                 warning=s["warning"], blocked=s["blocked"]),
    ]
    if s["not_expected"]:
        lines.append(ngettext("%(num)s more person is not expected to use Webcert.",
                              "%(num)s more people are not expected to use Webcert.",
                              s["not_expected"]))
    lines.append(_("Care units: %(units)s — %(ready)s ready, %(warning)s need attention, "
                   "%(blocked)s blocked", units=s["units"], ready=s["units_ready"],
                   warning=s["units_warning"], blocked=s["units_blocked"]))
    if s.get("hsa_confirmed") is False:
        lines.insert(1, predicted_note())
    if prov["problems"]:
        lines.append(_("Care provider: BLOCKED — %(problem)s",
                       problem=prov["problems"][0]["message"]))
    if s["open_manual_steps"]:
        steps = "; ".join(st["title"] for st in prov["onboarding"] if not st["done"])
        lines.append(_("Manual onboarding steps still open: %(steps)s", steps=steps))
    if not s["certificates_checked"]:
        lines.append(_("SITHS cards: not checked (run ansible-playbook playbooks/siths.yml "
                       "first)"))
    blocked = [p for p in data["people"] if p["uses_webcert"] and p["status"] == BLOCKED]
    if blocked:
        lines.append(_("Blocked:"))
        for p in blocked[:limit]:
            first = p["problems"][0]
            lines.append(f"  ✖ {p['name']} ({p['hsa_id']}): {first['message']}")
            lines.append("      " + _("What to do: %(fix)s", fix=first["fix"]))
            if first.get("it"):
                lines.append("      " + _("For IT: %(it)s", it=first["it"]))
            if len(p["problems"]) > 1:
                lines.append("      " + ngettext(
                    "(%(num)s more problem in the report)",
                    "(%(num)s more problems in the report)", len(p["problems"]) - 1))
        if len(blocked) > limit:
            lines.append("  " + ngettext("… and %(num)s more blocked person, see the report",
                                         "… and %(num)s more blocked people, see the report",
                                         len(blocked) - limit))
    warned: dict[str, list[str]] = {}
    for p in data["people"]:
        if p["uses_webcert"] and p["status"] == WARNING:
            warned.setdefault(p["warnings"][0]["message"], []).append(p["name"])
    for message, names in list(warned.items())[:5]:
        shown = ", ".join(names[:4])
        if len(names) > 4:
            shown = ngettext("%(names)s and %(num)s more", "%(names)s and %(num)s more",
                             len(names) - 4, names=shown)
        lines.append(_("Needs attention: %(message)s — %(names)s", message=message,
                       names=shown))
    if html_path:
        lines.append(_("HTML report: %(path)s", path=html_path))
    return "\n".join(lines)


# --------------------------------------------------------------------------- HTML


def cert_lines(cert: dict | None) -> list[str]:
    """The certificate status and the end date of each certificate, one line each."""
    if not cert or not cert.get("checked"):
        return [_("not checked")]
    status = {"ok": _("valid"), "warning": _("expires soon"),
              "error": _("not valid")}.get(cert.get("status"), cert.get("status") or "?")
    parts = [status]
    auth, sign = cert.get("auth"), cert.get("sign")
    parts.append(_("log-in until %(date)s", date=str(auth["not_after"])[:10])
                 if auth and auth.get("not_after") else _("no log-in certificate"))
    parts.append(_("signing until %(date)s", date=str(sign["not_after"])[:10])
                 if sign and sign.get("not_after") else _("no signing certificate"))
    return parts


def ws_text(ws: dict | None) -> str:
    if ws is None:
        return _("no host group")
    if not ws["checked"]:
        return _("group %(group)s: not checked", group=ws["host_group"])
    return _("%(ok)s ready, %(not_ok)s not (group %(group)s)", ok=len(ws["compliant"]),
             not_ok=len(ws["not_compliant"]), group=ws["host_group"])


def render_html(data: dict) -> str:
    s = data["summary"]
    prov = data["provider"]
    statuses = [BLOCKED, WARNING, READY, NOT_EXPECTED]
    cards = [("", s["expected"], _("expected to use Webcert")),
             (READY, s["ready"], "✔ " + _("ready")),
             (WARNING, s["warning"], "▲ " + _("need attention")),
             (BLOCKED, s["blocked"], "✖ " + _("blocked"))]
    if s["not_expected"]:
        cards.append((NOT_EXPECTED, s["not_expected"], _("not expected to use Webcert")))
    cards.append(("", s["units"], _("care units")))
    if s["blocked"]:
        verdict = ngettext("%(num)s person expected to use Webcert cannot use it yet.",
                           "%(num)s people expected to use Webcert cannot use it yet.",
                           s["blocked"])
    else:
        verdict = _("Nobody expected to use Webcert is blocked.")
    notes = []
    if s.get("hsa_confirmed") is False:
        notes.append(predicted_note())
    if not s["certificates_checked"]:
        notes.append(_("The SITHS cards were not checked (IT: run ansible-playbook "
                       "playbooks/siths.yml first)."))
    if not s["workstations_checked"]:
        notes.append(_("The computers were not checked (IT: ansible-playbook "
                       "playbooks/workstations.yml writes workstations.json)."))
    units = sorted(({"hsa_id": u["hsa_id"], "name": u["name"]} for u in data["units"]),
                   key=lambda u: u["name"].casefold())
    return render_template(
        "readiness.html.j2",
        data=data,
        title=_("Webcert status — %(provider)s", provider=prov["name"]),
        verdict=verdict,
        cards=cards,
        notes=notes,
        statuses=statuses,
        labels={k: status_label(k) for k in statuses},
        symbols=SYMBOLS,
        order=ORDER,
        unit_options=units,
        people_headers=[_("Status"), _("Name"), _("Role in Webcert"),
                        _("Care units (Vård och behandling)"), _("Rehabstöd"),
                        _("SITHS card"), _("Problems and what to do")],
        unit_headers=[_("Status"), _("Care unit"), _("E-mail"), _("Workplace code"),
                      _("Commissions (active care / all)"), _("Staff ready / not"),
                      _("Computers"), _("Problems and what to do")],
        cert_lines=cert_lines,
        ws_text=ws_text,
        shown_text=_("%(num)s shown", num="%(num)s"),
    )
