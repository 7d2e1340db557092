"""Merge a staff list (CSV or XLSX from an HR or scheduling system) into the description.

``read_mapping(path)`` reads the small YAML mapping (which column holds what),
``read_staff(path, mapping)`` the list (``csv`` / ``openpyxl``), and
``merge_staff(provider_path, rows, ...)`` works out the change and the edited files:

* a person in the list and not in the description is added to the file of their care
  unit (``people:``) and made a member (medarbetare) of the unit's commission with the
  purpose "Vård och behandling";
* a person in both: the mapped fields that differ are updated (names, legitimerad
  yrkesgrupp, förskrivarkod, befattning, e-post, care unit);
* a person whose end date (slutdatum) has passed is a leaver: ``uses_webcert: false``
  and removed from every commission's members, with a comment; the entry stays
  (nothing is ever deleted). An end date ahead is only noted;
* people in the description who are not in the list are reported, never changed.

Every row that cannot be used is reported with its row number, column and value, and
skipped. The files are edited with ruamel.yaml's round-trip mode, so the comments and the
layout of the user's YAML stay as they were; only the lines that change, change. The
result is validated before anything is written.

Every message (the problems, the comments written into the YAML, ``messages()``) is in
the current language (``i18n.core.use_language``: Swedish unless English is asked for);
the column headers are quoted as the user's list has them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from dataclasses import dataclass, field

from ..i18n.core import N_, _, ngettext
from . import rules

FIELDS = ("hsa_id", "given_name", "surname", "titles", "prescriber_code",
          "group_prescriber_codes", "position", "position_code", "unit", "mail",
          "start", "end")
REQUIRED = ("hsa_id", "given_name", "surname", "unit")
CARE = "vård och behandling"
# A required column that is empty on a row (whole sentences, one per field).
EMPTY = {"hsa_id": N_("the HSA-id is empty"), "given_name": N_("the given name is empty"),
         "surname": N_("the surname is empty"), "unit": N_("the care unit is empty")}
# A required field that the mapping does not name.
MISSING = {
    "hsa_id": N_("%(file)s: columns.hsa_id is required: the column with each person's HSA-id"),
    "given_name": N_("%(file)s: columns.given_name is required: the column with the given name"),
    "surname": N_("%(file)s: columns.surname is required: the column with the surname"),
    "unit": N_("%(file)s: columns.unit is required: the column with the care unit "
               "(its HSA-id or its name)"),
}
# The description's fields, as the reader knows them (the list of changed fields).
LABELS = {"given_name": N_("given name"), "surname": N_("surname"),
          "titles": N_("licensed profession"), "prescriber_code": N_("prescriber code"),
          "group_prescriber_codes": N_("group prescriber code"), "positions": N_("position"),
          "unit": N_("care unit"), "mail": N_("e-mail address")}


class StaffError(ValueError):
    """Input that cannot be used at all (file, mapping, header): nothing is written."""


@dataclass
class Mapping:
    columns: dict[str, str]  # field -> column header
    sheet: str | None = None
    delimiter: str | None = None
    list_separator: str = ","


@dataclass
class RowProblem:
    row: int
    column: str  # the column header as the user's list has it ("" when not one column)
    value: str
    message: str  # in the language current when the problem was found
    file: str = ""  # the staff list's file name

    def __str__(self) -> str:
        if self.column:
            where = _("row %(row)s, column %(column)s", row=self.row, column=repr(self.column))
        else:
            where = _("row %(row)s", row=self.row)
        if self.file:
            where = f"{self.file}, {where}"
        shown = f" {self.value!r}" if self.value else ""
        return f"{where}:{shown} {self.message}"


@dataclass
class StaffRow:
    row: int
    values: dict  # field -> cleaned value (str, list[str] or date)
    columns: dict = field(default_factory=dict)  # field -> column header (the mapping)
    file: str = ""  # the staff list's file name


@dataclass
class MergeResult:
    files: dict[str, str] = field(default_factory=dict)  # relative path -> new text
    added: list[dict] = field(default_factory=list)
    updated: list[dict] = field(default_factory=list)
    leavers: list[dict] = field(default_factory=list)
    leaving: list[dict] = field(default_factory=list)
    not_in_list: list[dict] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    def summary(self) -> dict:
        return {"added": len(self.added), "updated": len(self.updated),
                "leavers": len(self.leavers), "leaving_later": len(self.leaving),
                "not_in_list": len(self.not_in_list), "rows_skipped": len(self.problems),
                "files_changed": len(self.files)}

    def messages(self, source: str, written: bool = True) -> list[str]:
        """What the merge did, line by line, for the person who runs it (current language).
        ``written``: the files were written (False in check mode)."""
        s = self.summary()
        out = [_("%(source)s: added %(added)s, updated %(updated)s, leavers %(leavers)s, "
                 "rows skipped %(skipped)s, files changed %(files)s.", source=source,
                 added=s["added"], updated=s["updated"], leavers=s["leavers"],
                 skipped=s["rows_skipped"], files=s["files_changed"])]
        for a in self.added:
            if a["commission"]:
                out.append(_("Added: %(name)s (%(hsa_id)s), row %(row)s, to care unit "
                             "%(unit_name)s and as a member (medarbetare) of commission %(commission)s.",
                             **a))
            else:
                out.append(_("Added: %(name)s (%(hsa_id)s), row %(row)s, to care unit "
                             "%(unit_name)s; the unit has no commission for \"Vård och "
                             "behandling\": add one.",
                             **a))
        for u in self.updated:
            out.append(_("Updated: %(hsa_id)s, row %(row)s: %(fields)s.", row=u["row"],
                         hsa_id=u["hsa_id"],
                         fields=", ".join(_(LABELS[f]) if f in LABELS else f
                                          for f in u["fields"])))
        for x in self.leavers:
            out.append(_("Left on %(end)s: %(name)s (%(hsa_id)s), row %(row)s: removed as a member of "
                         "every commission, will not use Webcert (for IT: uses_webcert: "
                         "false). The person stays in the description.", **x))
        for x in self.leaving:
            out.append(_("Leaves on %(end)s: %(name)s (%(hsa_id)s), row %(row)s (nothing "
                         "changed yet).",
                         **x))
        for x in self.not_in_list:
            out.append(_("In the description but not in %(source)s (not changed): %(name)s "
                         "(%(hsa_id)s), care unit %(unit_name)s.", source=source, **x))
        if self.problems:
            out.append(ngettext("%(num)s row could not be used and was skipped:",
                                "%(num)s rows could not be used and were skipped:",
                                len(self.problems)))
            out.extend(f"  {p}" for p in self.problems)
        if self.files:
            files = ", ".join(sorted(self.files))
            if written:
                out.append(_("Files changed: %(files)s. Review the change with git diff, then "
                             "commit it in a merge request.", files=files))
            else:
                out.append(_("Files that would change (check mode, nothing written): "
                             "%(files)s.", files=files))
        else:
            out.append(_("The description already matches %(source)s: no file changed.",
                         source=source))
        return out


# --------------------------------------------------------------------------- reading


def read_mapping(path: str) -> Mapping:
    import yaml

    try:
        with open(path, encoding="utf-8-sig") as fh:
            data = yaml.safe_load(fh)
    except OSError as exc:
        raise StaffError(_("%(file)s: cannot read the mapping (%(error)s)", file=path,
                           error=exc.strerror)) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else path
        raise StaffError(_("%(file)s: not valid YAML (%(error)s)", file=where,
                           error=getattr(exc, "problem", exc))) from exc
    if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
        raise StaffError(_("%(file)s: the mapping needs a 'columns:' section (field: column "
                           "header), e.g. columns: {hsa_id: HSA-id, given_name: Förnamn}",
                           file=path))
    unknown = sorted(set(data) - {"columns", "sheet", "delimiter", "list_separator"})
    if unknown:
        raise StaffError(_("%(file)s: unknown key %(key)s (known: columns, sheet, delimiter, "
                           "list_separator)", file=path, key=repr(unknown[0])))
    columns = {}
    for key, header in data["columns"].items():
        if key not in FIELDS:
            hint = rules.did_you_mean(str(key), FIELDS)
            if hint:
                raise StaffError(_("%(file)s: columns.%(key)s is not a field the import knows "
                                   "(did you mean %(hint)s?); known: %(known)s", file=path,
                                   key=key, hint=repr(hint), known=", ".join(FIELDS)))
            raise StaffError(_("%(file)s: columns.%(key)s is not a field the import knows; "
                               "known: %(known)s", file=path, key=key, known=", ".join(FIELDS)))
        if not isinstance(header, str) or not header.strip():
            raise StaffError(_("%(file)s: columns.%(key)s must name a column header (text)",
                               file=path, key=key))
        columns[key] = header.strip()
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        raise StaffError(_(MISSING[missing[0]], file=path))
    return Mapping(columns, data.get("sheet"), data.get("delimiter"),
                   str(data.get("list_separator") or ","))


def _cell(value) -> str | dt.date:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _read_table(path: str, mapping: Mapping) -> tuple[list[str], list[tuple[int, list]]]:
    """Header and (row number, cells) of the staff list; row numbers as the user sees them
    (the header is row 1)."""
    if path.lower().endswith((".xlsx", ".xlsm")):
        try:
            import openpyxl
        except ImportError as exc:  # pragma: no cover - requirements.txt has it
            raise StaffError(_("openpyxl is needed to read .xlsx files")) from exc
        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except (OSError, ValueError, KeyError) as exc:
            raise StaffError(_("%(file)s: cannot read the Excel file (%(error)s)", file=path,
                               error=exc)) from exc
        try:
            if mapping.sheet:
                if mapping.sheet not in book.sheetnames:
                    raise StaffError(_("%(file)s: no sheet %(sheet)s (sheets: %(sheets)s)",
                                       file=path, sheet=repr(mapping.sheet),
                                       sheets=", ".join(book.sheetnames)))
                sheet = book[mapping.sheet]
            else:
                sheet = book.worksheets[0]
            rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        finally:
            book.close()
    else:
        try:
            with open(path, "rb") as fh:
                raw = fh.read()
        except OSError as exc:
            raise StaffError(_("%(file)s: cannot read the staff list (%(error)s)", file=path,
                               error=exc.strerror)) from exc
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("cp1252")  # Excel's "CSV" on Swedish Windows
        delimiter = mapping.delimiter
        if not delimiter:
            first = text.split("\n", 1)[0]
            delimiter = ";" if first.count(";") >= first.count(",") else ","
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    while rows and not any(_cell(c) for c in rows[0]):
        rows.pop(0)
    if not rows:
        raise StaffError(_("%(file)s: the staff list is empty (no header row)", file=path))
    header = [str(_cell(c)) for c in rows[0]]
    return header, [(n, r) for n, r in enumerate(rows[1:], 2) if any(_cell(c) for c in r)]


def _date(text) -> dt.date | None:
    if isinstance(text, dt.date):
        return text
    for fmt in ("%Y-%m-%d", "%Y%m%d", "%d.%m.%Y", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def _what_to_do(found) -> str:
    """A rule's (problem, fix) as one line: what is wrong, then what to write."""
    problem, fix = (*tuple(found), "")[:2]
    return f"{problem}; {fix}" if fix else problem


def read_staff(path: str, mapping: Mapping, strict_ids: bool = True
               ) -> tuple[list[StaffRow], list[RowProblem]]:
    header, table = _read_table(path, mapping)
    name = os.path.basename(path)
    index = {h.strip().lower(): i for i, h in enumerate(header)}
    where = {}
    for fld, column in mapping.columns.items():
        if column.lower() not in index:
            raise StaffError(_("%(file)s: row 1 has no column %(column)s (columns.%(field)s in "
                               "the mapping); the columns are: %(columns)s", file=path,
                               column=repr(column), field=fld,
                               columns=", ".join(h for h in header if h)))
        where[fld] = index[column.lower()]
    rows, problems = [], []
    seen: dict[str, int] = {}
    for number, cells in table:
        values, bad = {}, []
        for fld, i in where.items():
            raw = _cell(cells[i]) if i < len(cells) else ""
            column = mapping.columns[fld]
            if raw == "":
                if fld in REQUIRED:
                    bad.append(RowProblem(number, column, "", _(EMPTY[fld]), name))
                continue
            problem = None
            if fld in ("start", "end"):
                try:
                    values[fld] = _date(raw)
                except ValueError:
                    problem = _("is not a date (write it as YYYY-MM-DD)")
            elif fld in ("titles", "group_prescriber_codes"):
                values[fld] = [v.strip() for v in str(raw).split(mapping.list_separator)
                               if v.strip()]
                if fld == "group_prescriber_codes":
                    problem = next((_what_to_do(rules.group_prescriber_code_problem(v))
                                    for v in values[fld]
                                    if rules.group_prescriber_code_problem(v)), None)
            else:
                text = str(raw)
                check = {"hsa_id": lambda v: rules.hsa_id_problem(v, strict_ids),
                         "prescriber_code": rules.prescriber_code_problem,
                         "position_code": rules.position_code_problem,
                         "mail": rules.email_problem}.get(fld)
                if fld in ("prescriber_code", "position_code") and isinstance(
                        cells[i], (int, float)):
                    # a code Excel stored as a number lost its leading zeros
                    text = text.zfill(7 if fld == "prescriber_code" else 6)
                found = check(text) if check else None
                problem = _what_to_do(found) if found else None
                values[fld] = text
            if problem:
                bad.append(RowProblem(number, column, str(raw), problem, name))
        if not bad and values["hsa_id"] in seen:
            bad.append(RowProblem(number, mapping.columns["hsa_id"], values["hsa_id"],
                                  _("is also on row %(other)s; the row is skipped",
                                    other=seen[values["hsa_id"]]), name))
        if bad:
            problems.extend(bad)
            continue
        seen[values["hsa_id"]] = number
        rows.append(StaffRow(number, values, dict(mapping.columns), name))
    return rows, problems


# --------------------------------------------------------------------------- merging


def _yaml():
    from ruamel.yaml import YAML

    y = YAML()
    y.preserve_quotes = True
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 4096
    return y


def _dump(y, data) -> str:
    out = io.StringIO()
    y.dump(data, out)
    return out.getvalue()


def _block_seq(values=()):
    from ruamel.yaml.comments import CommentedSeq

    seq = CommentedSeq(values)
    seq.fa.set_block_style()
    return seq


def _flow_seq(values):
    from ruamel.yaml.comments import CommentedSeq

    seq = CommentedSeq(values)
    seq.fa.set_flow_style()
    return seq


def _quoted(text: str):
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    return DoubleQuotedScalarString(text)


def _person_fields(values: dict, units: dict) -> dict:
    """The description's keys for a staff row (only what the list gives), in the order of
    docs/provider-yaml.md."""
    out = {}
    for key in ("given_name", "surname"):
        if key in values:
            out[key] = values[key]
    for key in ("titles", "prescriber_code", "group_prescriber_codes"):
        if key in values:
            out[key] = list(values[key]) if isinstance(values[key], list) else values[key]
    if "position" in values or "position_code" in values:
        pos = {}
        if "position_code" in values:
            pos["code"] = values["position_code"]
        if "position" in values:
            pos["name"] = values["position"]
        out["positions"] = [pos]
    out["unit"] = units[values["unit"]]
    if "mail" in values:
        out["mail"] = values["mail"]
    return out


def _current(person) -> dict:
    out = {"given_name": person.given_name, "surname": person.surname, "mail": person.mail,
           "titles": list(person.titles), "prescriber_code": person.prescriber_code,
           "group_prescriber_codes": list(person.group_prescriber_codes),
           "positions": [{k: v for k, v in (("code", p.code), ("name", p.name)) if v}
                         for p in person.positions], "unit": person.unit}
    return out


def merge_staff(provider_path: str, rows: list[StaffRow], today: dt.date | None = None,
                strict_ids: bool = True, source: str | None = None) -> MergeResult:
    from .model import load_provider

    today = today or dt.date.today()
    source = source or _("the staff list")
    loaded = load_provider(provider_path, strict_ids=strict_ids)
    if loaded.model is None:
        raise StaffError(_("the provider description has errors; fix them first:")
                         + "\n" + "\n".join(str(f) for f in loaded.errors))
    model = loaded.model
    result = MergeResult()
    base = provider_path if os.path.isdir(provider_path) else os.path.dirname(provider_path)
    single = None if os.path.isdir(provider_path) else os.path.basename(provider_path)

    def rel_path(origin_file: str) -> str:
        return single or origin_file

    y = _yaml()
    docs: dict[str, object] = {}
    originals: dict[str, str] = {}

    def doc(rel: str):
        if rel not in docs:
            with open(os.path.join(base, rel), encoding="utf-8-sig") as fh:
                originals[rel] = fh.read()
            docs[rel] = y.load(originals[rel])
        return docs[rel]

    units = {}
    for u in model.units:
        units[u.hsa_id.lower()] = u.hsa_id
        units.setdefault(u.name.strip().lower(), u.hsa_id)
    unit_file = {u.hsa_id: rel_path(u.origin.file) for u in model.units}
    unit_name = {u.hsa_id: u.name for u in model.units}
    care = {}
    for c in model.commissions:
        if c.purpose.strip().lower() == CARE:
            care.setdefault(c.unit, c)

    def find_item(rel: str, section: str, hsa_id: str):
        for item in doc(rel).get(section) or ():
            if str(item.get("hsa_id", "")).lower() == hsa_id.lower():
                return item
        return None

    def set_members(c, add: str | None = None, remove: str | None = None) -> None:
        item = find_item(rel_path(c.origin.file), "commissions", c.hsa_id)
        members = item.get("members")
        if members is None or (not members and add):
            members = _block_seq(list(members or ()))
            item["members"] = members
        # what follows the last member (a blank line, a comment) stays at the end
        tail = members.ca.items.pop(len(members) - 1, None) if len(members) else None
        if add and add.lower() not in {str(m).lower() for m in members}:
            members.append(add)
        if remove:
            for i in reversed(range(len(members))):
                if str(members[i]).lower() == remove.lower():
                    del members[i]
                    members.ca.items.pop(i, None)
        if tail is not None and len(members):
            members.ca.items[len(members) - 1] = tail

    listed = set()
    for r in rows:
        v = dict(r.values)
        unit_key = str(v["unit"]).strip().lower()
        if unit_key not in units:
            result.problems.append(RowProblem(
                r.row, r.columns.get("unit", ""), v["unit"],
                _("is not a care unit of the description (write the care unit's HSA-id or "
                  "its name as the description has it)"), r.file))
            continue
        v["unit"] = unit_key
        hsa_id = v["hsa_id"]
        listed.add(hsa_id.lower())
        person = model.person(hsa_id)
        end = v.get("end")
        left = end is not None and end < today
        wanted = _person_fields(v, units)
        if person is None:
            if left:
                result.problems.append(RowProblem(
                    r.row, r.columns.get("end", ""), end.isoformat(),
                    _("%(hsa_id)s has left and is not in the description; nothing to do",
                      hsa_id=hsa_id), r.file))
                continue
            target = unit_file[wanted["unit"]]
            data = doc(target)
            people = data.get("people")
            if people is None or not people:
                people = _block_seq(list(people or ()))
                data["people"] = people
            from ruamel.yaml.comments import CommentedMap

            item = CommentedMap()
            item["hsa_id"] = hsa_id
            for key, value in wanted.items():
                item[key] = _value(key, value)
            people.append(item)
            if v.get("start") and v["start"] > today:
                note = _("added from %(source)s (row %(row)s); starts %(start)s", source=source,
                         row=r.row, start=v["start"].isoformat())
            else:
                note = _("added from %(source)s (row %(row)s)", source=source, row=r.row)
            people.yaml_set_comment_before_after_key(len(people) - 1, before=note,
                                                     indent=2)
            commission = care.get(wanted["unit"])
            if commission is not None:
                set_members(commission, add=hsa_id)
            result.added.append({"row": r.row, "hsa_id": hsa_id,
                                 "name": f"{v['given_name']} {v['surname']}",
                                 "unit": wanted["unit"], "unit_name": unit_name[wanted["unit"]],
                                 "file": target,
                                 "commission": commission.hsa_id if commission else None})
            continue
        rel = rel_path(person.origin.file)
        item = find_item(rel, "people", hsa_id)
        now = _current(person)
        changed = [k for k, value in wanted.items() if now.get(k) != value]
        if left:
            if person.uses_webcert or any(c.members for c in model.commissions_of(hsa_id)):
                item["uses_webcert"] = False
                for c in model.commissions_of(hsa_id):
                    set_members(c, remove=hsa_id)
                _note(item, _("left %(end)s according to %(source)s (row %(row)s)",
                              end=end.isoformat(), source=source, row=r.row))
                result.leavers.append({"row": r.row, "hsa_id": hsa_id, "name": person.full_name,
                                       "end": end.isoformat(),
                                       "commissions": [c.hsa_id for c in
                                                       model.commissions_of(hsa_id)]})
            continue
        for key in changed:
            item[key] = _value(key, wanted[key])
        if "unit" in changed:
            for c in model.commissions_of(hsa_id):
                if c.unit == person.unit and c.purpose.strip().lower() == CARE:
                    set_members(c, remove=hsa_id)
            if wanted["unit"] in care:
                set_members(care[wanted["unit"]], add=hsa_id)
        if changed:
            result.updated.append({"row": r.row, "hsa_id": hsa_id, "fields": changed})
        if end is not None:
            result.leaving.append({"row": r.row, "hsa_id": hsa_id, "name": person.full_name,
                                   "end": end.isoformat()})
    covered = {units[str(r.values["unit"]).strip().lower()] for r in rows
               if str(r.values["unit"]).strip().lower() in units}
    for p in model.people:
        if p.unit in covered and p.uses_webcert and p.hsa_id.lower() not in listed:
            result.not_in_list.append({"hsa_id": p.hsa_id, "name": p.full_name,
                                       "unit": p.unit, "unit_name": unit_name.get(p.unit, p.unit)})
    for rel, data in docs.items():
        text = _dump(y, data)
        if text != originals[rel]:
            result.files[rel] = text
    return result


def _value(key: str, value):
    if key in ("titles", "group_prescriber_codes"):
        return _flow_seq(list(value))
    if key == "positions":
        from ruamel.yaml.comments import CommentedMap

        seq = _block_seq()
        for pos in value:
            m = CommentedMap((k, _quoted(v) if k == "code" else v) for k, v in pos.items())
            m.fa.set_flow_style()
            seq.append(m)
        return seq
    if key == "prescriber_code":
        return _quoted(value)
    return value


def _note(item, text: str) -> None:
    key = "uses_webcert"
    item.yaml_add_eol_comment(text, key)


def validate_merged(provider_path: str, files: dict[str, str], strict_ids: bool = True):
    """Load the description as it would be after writing ``files`` (in a temporary copy)."""
    import shutil
    import tempfile

    from .model import load_provider

    tmp = tempfile.mkdtemp(prefix="staff-import-")
    try:
        if os.path.isdir(provider_path):
            target = os.path.join(tmp, "provider")
            shutil.copytree(provider_path, target, symlinks=False)
        else:
            target = os.path.join(tmp, os.path.basename(provider_path))
            shutil.copyfile(provider_path, target)
        root = target if os.path.isdir(target) else tmp
        for rel, text in files.items():
            with open(os.path.join(root, rel), "w", encoding="utf-8") as fh:
                fh.write(text)
        return load_provider(target, strict_ids=strict_ids)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
