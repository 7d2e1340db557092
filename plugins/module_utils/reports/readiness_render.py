"""Render readiness data (``webcert_readiness.build_readiness``) as HTML, JSON and text.

The HTML page is one self-contained file: inline CSS and a small inline script, no
fonts, images or scripts from elsewhere (a Content-Security-Policy forbids them), readable
on a phone (tables turn into cards on narrow screens), tables sortable by clicking a
column heading and filterable by text and status. Status is shown as a colour *and* a
word with a symbol. Every value from the data is HTML-escaped. When the script has run
it sets ``data-report-ready="1"`` on ``<body>`` (the browser test checks it).
"""

from __future__ import annotations

import json
from html import escape

STATUS_TEXT = {"ready": "✔ Ready", "warning": "▲ Warning", "blocked": "✖ Blocked"}
STATUS_WORD = {"ready": "READY", "warning": "WARNING", "blocked": "BLOCKED"}


def to_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


# --------------------------------------------------------------------------- terminal


def render_text(data: dict, html_path: str | None = None, limit: int = 20) -> str:
    """A short summary for the terminal: counts, then every blocked person with the first fix."""
    s = data["summary"]
    prov = data["provider"]
    lines = [
        f"Webcert readiness for {prov['name']} ({prov['hsa_id']}) on {data['today']}",
        f"People expected to use Webcert: {s['expected']} — {s['ready']} ready, "
        f"{s['warning']} with warnings, {s['blocked']} blocked"
        + (f" ({s['not_expected']} more not expected to use Webcert)" if s["not_expected"]
           else ""),
        f"Units: {s['units']} — {s['units_ready']} ready, {s['units_warning']} with warnings, "
        f"{s['units_blocked']} blocked",
    ]
    if prov["problems"]:
        lines.append(f"Provider: BLOCKED — {prov['problems'][0]['message']}")
    if s["open_manual_steps"]:
        steps = ", ".join(st["step"] for st in prov["onboarding"] if not st["done"])
        lines.append(f"Manual onboarding steps still open: {steps}")
    if not s["certificates_checked"]:
        lines.append("Certificates: not checked (run playbooks/siths.yml first)")
    blocked = [p for p in data["people"] if p["uses_webcert"] and p["status"] == "blocked"]
    if blocked:
        lines.append("Blocked:")
        for p in blocked[:limit]:
            first = p["problems"][0]
            lines.append(f"  ✖ {p['name']} ({p['hsa_id']}): {first['message']}")
            lines.append(f"      fix: {first['fix']}")
            if len(p["problems"]) > 1:
                lines.append(f"      (+{len(p['problems']) - 1} more problem(s) in the report)")
        if len(blocked) > limit:
            lines.append(f"  … and {len(blocked) - limit} more blocked, see the report")
    warned: dict[str, list[str]] = {}
    for p in data["people"]:
        if p["uses_webcert"] and p["status"] == "warning":
            warned.setdefault(p["warnings"][0]["message"], []).append(p["name"])
    for message, names in list(warned.items())[:5]:
        shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        lines.append(f"Warning: {message} — {shown}")
    if html_path:
        lines.append(f"HTML report: {html_path}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- HTML


def e(value) -> str:
    """HTML-escape any value (None -> empty)."""
    return "" if value is None else escape(str(value), quote=True)


def badge(status: str) -> str:
    return (f'<span class="badge {e(status)}">{e(STATUS_TEXT.get(status, status))}</span>')


def _items(entries, cls: str) -> str:
    if not entries:
        return ""
    out = [f'<ul class="{cls}">']
    for p in entries:
        out.append(f"<li><span class=\"msg\">{e(p['message'])}</span>"
                   f"<span class=\"fix\"><b>Fix:</b> {e(p['fix'])}</span></li>")
    out.append("</ul>")
    return "".join(out)


def _issues(entry) -> str:
    html = _items(entry.get("problems"), "problems") + _items(entry.get("warnings"), "warnings")
    return html or '<span class="none">—</span>'


def _cell(label: str, content: str, sort=None, cls: str = "") -> str:
    attrs = f' data-label="{e(label)}"'
    if sort is not None:
        attrs += f' data-sort="{e(sort)}"'
    if cls:
        attrs += f' class="{cls}"'
    return f"<td{attrs}>{content}</td>"


_ORDER = {"blocked": 0, "warning": 1, "ready": 2}


def _cert_text(cert: dict) -> str:
    if not cert or not cert.get("checked"):
        return "not checked"
    parts = [cert.get("status", "?")]
    for key, label in (("auth", "auth"), ("sign", "sign")):
        c = cert.get(key)
        if c and c.get("not_after"):
            parts.append(f"{label} to {str(c['not_after'])[:10]}")
        else:
            parts.append(f"{label}: none")
    return " · ".join(parts)


def _table(table_id: str, caption: str, headers: list[str], rows: list[str]) -> str:
    head = "".join(f'<th scope="col" tabindex="0" aria-sort="none">{e(h)}</th>' for h in headers)
    body = "".join(rows) or (f'<tr><td colspan="{len(headers)}">Nothing to show.</td></tr>')
    return (f'<div class="tablewrap"><table id="{table_id}" class="sortable">'
            f"<caption>{e(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></div>")


def _people_rows(data: dict) -> list[str]:
    rows = []
    for p in data["people"]:
        units = ", ".join(u["name"] for u in p["units"]) or "—"
        role = p["role_label"] or "—"
        if p["expected_role"] and p["expected_role"] != p["role"]:
            role += f" (expected {p.get('expected_role_label') or p['expected_role']})"
        rows.append(
            f'<tr data-status="{e(p["status"])}">'
            + _cell("Status", badge(p["status"]), _ORDER.get(p["status"], 9))
            + _cell("Name", e(p["name"]) + ("" if p["uses_webcert"] else
                    "<br><small>not expected to use Webcert</small>"))
            + _cell("HSA-id", f"<code>{e(p['hsa_id'])}</code>")
            + _cell("Webcert role", f'{e(role)}<br><small>{e(p["role_reason"])}</small>', role)
            + _cell("Units (Vård och behandling)", e(units))
            + _cell("Rehabstöd", "yes" if p["rehabstod"] else "no")
            + _cell("Certificates", e(_cert_text(p["certificates"])))
            + _cell("Problems and fixes", _issues(p), len(p["problems"]) * 100
                    + len(p["warnings"]), "issues")
            + "</tr>")
    return rows


def _unit_rows(data: dict) -> list[str]:
    rows = []
    for u in data["units"]:
        care = [c for c in u["commissions"] if c["care"] and c["active"]]
        ws = u.get("workstations")
        if ws is None:
            ws_text = "no host group"
        elif not ws["checked"]:
            ws_text = f"group {ws['host_group']}: not checked"
        else:
            ws_text = (f"{len(ws['compliant'])} compliant, {len(ws['not_compliant'])} not "
                       f"(group {ws['host_group']})")
        rows.append(
            f'<tr data-status="{e(u["status"])}">'
            + _cell("Status", badge(u["status"]), _ORDER.get(u["status"], 9))
            + _cell("Unit", e(u["name"]))
            + _cell("HSA-id", f"<code>{e(u['hsa_id'])}</code>")
            + _cell("E-mail", e(u["email"]) if u["email"] else "<b>missing</b>")
            + _cell("Arbetsplatskod", e(", ".join(u["workplace_codes"])) if u["workplace_codes"]
                    else "<b>missing</b>")
            + _cell("Commissions (active care / all)", f"{len(care)} / {len(u['commissions'])}",
                    len(care))
            + _cell("People ready / not", f"{len(u['people_ready'])} / "
                    f"{len(u['people_not_ready'])}", len(u["people_ready"]))
            + _cell("Workstations", e(ws_text))
            + _cell("Problems and fixes", _issues(u), len(u["problems"]) * 100
                    + len(u["warnings"]), "issues")
            + "</tr>")
    return rows


def _provider_section(prov: dict) -> str:
    steps = "".join(
        f'<li class="{"done" if s["done"] else "open"}">'
        f'<b>{"✔ done" if s["done"] else "○ open"}</b> {e(s["title"])}'
        + (f" — {e(s['value'])}" if s["value"] else "")
        + ("" if s["done"] else f'<span class="fix"><b>Fix:</b> {e(s["fix"])}</span>')
        + "</li>"
        for s in prov["onboarding"])
    return (
        '<section id="provider"><h2>Care provider (vårdgivare)</h2>'
        f'<p>{badge(prov["status"])} <b>{e(prov["name"])}</b> <code>{e(prov["hsa_id"])}</code>'
        f' — organisationsnummer: {e(prov["org_no"]) if prov["org_no"] else "<b>missing</b>"}'
        f"</p>{_items(prov['problems'], 'problems')}"
        f"<h3>Onboarding with Inera (manual steps)</h3><ul class=\"steps\">{steps}</ul>"
        "</section>")


CSS = """
:root{--ok:#1b7f3b;--warn:#8a5a00;--bad:#b00020;--okbg:#e3f4e8;--warnbg:#fff3d6;
--badbg:#fde7ea;--line:#d0d4da;--muted:#555}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
padding:1rem;color:#111;background:#fff}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.15rem;margin:1.6rem 0 .5rem}
h3{font-size:1rem}
code{font:13px ui-monospace,Consolas,monospace;word-break:break-all}
.meta{color:var(--muted)}
.cards{display:flex;flex-wrap:wrap;gap:.6rem;margin:1rem 0}
.card{border:1px solid var(--line);border-radius:8px;padding:.6rem .9rem;min-width:8.5rem}
.card b{display:block;font-size:1.5rem}
.card.ready{background:var(--okbg)}.card.warning{background:var(--warnbg)}
.card.blocked{background:var(--badbg)}
.badge{display:inline-block;border-radius:999px;padding:.1rem .6rem;font-weight:600;
white-space:nowrap;border:1px solid}
.badge.ready{color:var(--ok);background:var(--okbg);border-color:var(--ok)}
.badge.warning{color:var(--warn);background:var(--warnbg);border-color:var(--warn)}
.badge.blocked{color:var(--bad);background:var(--badbg);border-color:var(--bad)}
.controls{display:flex;flex-wrap:wrap;gap:.5rem;margin:.4rem 0}
.controls input,.controls select{font:inherit;padding:.35rem .5rem;border:1px solid #888;
border-radius:6px;min-width:12rem}
.tablewrap{overflow-x:auto}
table{border-collapse:collapse;width:100%}
caption{text-align:left;font-weight:600;padding:.3rem 0}
th,td{border-bottom:1px solid var(--line);padding:.45rem .5rem;text-align:left;
vertical-align:top}
th{background:#f3f4f6;cursor:pointer;user-select:none;white-space:nowrap}
th[aria-sort=ascending]::after{content:" ▲"}th[aria-sort=descending]::after{content:" ▼"}
tr[data-status=blocked] td:first-child{border-left:4px solid var(--bad)}
tr[data-status=warning] td:first-child{border-left:4px solid var(--warn)}
tr[data-status=ready] td:first-child{border-left:4px solid var(--ok)}
ul.problems,ul.warnings,ul.steps{margin:.2rem 0;padding-left:1.1rem}
ul.problems li{color:var(--bad)}ul.warnings li{color:var(--warn)}
.fix{display:block;color:#222}
li.done{color:var(--ok)}li.open{color:var(--warn)}
.none{color:var(--muted)}
td.issues{min-width:22rem}td code{white-space:nowrap;word-break:normal}
small{color:var(--muted)}
footer{margin-top:2rem;color:var(--muted);font-size:.85rem}
@media (max-width:760px){
 table,thead,tbody,tr,td,caption{display:block;width:100%}
 thead{position:absolute;left:-9999px}
 tr{border:1px solid var(--line);border-radius:8px;margin:.6rem 0;padding:.2rem}
 td{border:0;padding:.25rem .4rem}td.issues{min-width:0}td code{white-space:normal;
 word-break:break-all}
 td::before{content:attr(data-label);display:block;font-size:.78rem;color:var(--muted);
 font-weight:600}
 tr[data-status] td:first-child{border-left:0}
}
@media print{.controls{display:none}}
"""

JS = """
(function(){
 function key(td){var s=td.getAttribute('data-sort');return s!==null?s:td.textContent.trim();}
 function cmp(a,b){var x=parseFloat(a),y=parseFloat(b);
  if(!isNaN(x)&&!isNaN(y)&&String(x)===a&&String(y)===b){return x-y;}
  return a.localeCompare(b,'sv',{sensitivity:'base'});}
 function sortBy(table,th){
  var idx=Array.prototype.indexOf.call(th.parentNode.children,th);
  var dir=th.getAttribute('aria-sort')==='ascending'?'descending':'ascending';
  Array.prototype.forEach.call(th.parentNode.children,function(h){h.setAttribute('aria-sort','none');});
  th.setAttribute('aria-sort',dir);
  var body=table.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
  rows.sort(function(r1,r2){var c=cmp(key(r1.cells[idx]),key(r2.cells[idx]));
   return dir==='ascending'?c:-c;});
  rows.forEach(function(r){body.appendChild(r);});
 }
 function filter(table){
  var box=document.querySelector('[data-filter-text="'+table.id+'"]');
  var sel=document.querySelector('[data-filter-status="'+table.id+'"]');
  var q=(box&&box.value||'').toLowerCase();var st=sel&&sel.value||'';var shown=0;
  Array.prototype.forEach.call(table.tBodies[0].rows,function(r){
   var ok=(!q||r.textContent.toLowerCase().indexOf(q)>=0)&&
    (!st||r.getAttribute('data-status')===st);
   r.hidden=!ok;if(ok){shown++;}});
  var out=document.querySelector('[data-count="'+table.id+'"]');
  if(out){out.textContent=shown+' shown';}
 }
 var tables=document.querySelectorAll('table.sortable');
 Array.prototype.forEach.call(tables,function(table){
  Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th){
   th.addEventListener('click',function(){sortBy(table,th);});
   th.addEventListener('keydown',function(ev){
    if(ev.key==='Enter'||ev.key===' '){ev.preventDefault();sortBy(table,th);}});
  });
  var sel='[data-filter-text="'+table.id+'"],[data-filter-status="'+table.id+'"]';
  Array.prototype.forEach.call(document.querySelectorAll(sel),
   function(el){el.addEventListener('input',function(){filter(table);});
    el.addEventListener('change',function(){filter(table);});});
  filter(table);
 });
 document.body.setAttribute('data-tables',String(tables.length));
 document.body.setAttribute('data-report-ready','1');
})();
"""


def _controls(table_id: str, what: str) -> str:
    options = "".join(f'<option value="{k}">{e(v)}</option>' for k, v in
                      (("", "All statuses"), ("blocked", "Blocked"), ("warning", "Warning"),
                       ("ready", "Ready")))
    return (f'<div class="controls"><input type="search" placeholder="Filter {e(what)}…" '
            f'aria-label="Filter {e(what)}" data-filter-text="{table_id}">'
            f'<select aria-label="Status" data-filter-status="{table_id}">{options}</select>'
            f'<span class="meta" data-count="{table_id}" aria-live="polite"></span></div>')


def render_html(data: dict) -> str:
    s = data["summary"]
    prov = data["provider"]
    cards = "".join(
        f'<div class="card {cls}"><b>{n}</b>{e(label)}</div>'
        for cls, n, label in (
            ("", s["expected"], "expected to use Webcert"),
            ("ready", s["ready"], "✔ ready"),
            ("warning", s["warning"], "▲ with warnings"),
            ("blocked", s["blocked"], "✖ blocked"),
            ("", s["rehabstod"], "with Rehabstöd"),
        ))
    verdict = data["exit"]["message"]
    notes = []
    if not s["certificates_checked"]:
        notes.append("SITHS certificates were not checked (run playbooks/siths.yml first).")
    if not s["workstations_checked"]:
        notes.append("No workstation report (playbooks/workstations.yml) was given.")
    notes_html = "".join(f'<p class="meta">{e(n)}</p>' for n in notes)
    title = f"Webcert readiness — {prov['name']}"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
        f"<title>{e(title)}</title><style>{CSS}</style></head>"
        '<body data-report-ready="0">'
        f"<header><h1>{e(title)}</h1>"
        f'<p class="meta">Directory state on {e(data["today"])}'
        + (f", generated {e(data['generated'])}" if data.get("generated") else "")
        + f'. {badge(s["status"])} {e(verdict)}</p></header>'
        f'<div class="cards">{cards}</div>{notes_html}'
        '<section id="people"><h2>People</h2>'
        f'{_controls("people-table", "people")}'
        + _table("people-table", "One row per person: will Webcert let them log in and sign?",
                 ["Status", "Name", "HSA-id", "Webcert role", "Units (Vård och behandling)",
                  "Rehabstöd", "Certificates", "Problems and fixes"],
                 _people_rows(data))
        + "</section>"
        '<section id="units"><h2>Care units (vårdenheter)</h2>'
        f'{_controls("units-table", "units")}'
        + _table("units-table", "One row per care unit",
                 ["Status", "Unit", "HSA-id", "E-mail", "Arbetsplatskod",
                  "Commissions (active care / all)", "People ready / not", "Workstations",
                  "Problems and fixes"], _unit_rows(data))
        + "</section>"
        + _provider_section(prov)
        + "<footer>Roles follow Webcert's own rules (legitimerad yrkesgrupp, befattningskod, "
        "gruppförskrivarkod). Only active commissions with purpose \"Vård och behandling\" "
        "count. Green = ready, amber = works but needs attention, red = blocked.</footer>"
        f"<script>{JS}</script></body></html>\n")
