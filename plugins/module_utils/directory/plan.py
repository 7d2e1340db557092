"""The plan: diff desired HSA entries against the directory (pure, no I/O).

The renderers live next to it: ``plan_text`` (readable diff, Ansible diff mode),
``plan_ldif`` (LDIF change file, backup), ``change_request`` (for the HSA agent).

``make_plan(desired, actual, base_dn, prune=False, max_deletes=10) -> Plan``

* Objects are matched by ``hsaIdentity``, never by DN: a changed name or a new parent is
  a ``modrdn`` (a unit's whole subtree moves with it), not delete + add.
* Only the managed attributes of each kind are compared (``hsa_ldap_map.MANAGED``);
  names are case-insensitive, multi-valued attributes are sets, values are compared the
  way the schema's equality matching rule compares them, after NFC normalisation.
* Modifications delete the old values as read and add the new ones (never a blind
  replace), so a value changed by someone else since the read makes the operation fail.
* Order: provider, units (parents first), people, commissions; then deletes
  (only with ``prune``), deepest first. Membership removals are commission
  modifications, so they always come before the person is deleted.
* Deletes: only entries with an ``hsaIdentity`` inside the provider's subtree, only
  with ``prune``, never more than ``max_deletes``, never when the description lists
  no units, people or commissions, never an entry that has kept entries below it.

``refuse_referred(plan, referred)`` then takes out of the plan every operation at or
below a part of the tree the server refers to another server (a referral): the read
cannot see what is there, so such an operation is refused, with a message naming the
referral, and listed in ``plan.refused``; the rest of the plan stays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..i18n.core import N_, _, ngettext
from .mapping import (
    KINDS,
    MANAGED,
    RDN_ATTRIBUTE,
    DesiredEntry,
    DesiredState,
    DirectoryEntry,
    dn_keys,
    match_key,
    normalize_dn,
    object_name,
    parse_dn,
    rdn,
)

OPS = ("add", "modify", "modrdn", "delete")


@dataclass(frozen=True)
class AttributeChange:
    attribute: str
    before: tuple[str, ...]
    after: tuple[str, ...]
    delete: tuple[str, ...]  # exact values as read: the server must still hold them
    add: tuple[str, ...]

    def to_dict(self) -> dict:
        return {
            "attribute": self.attribute,
            "before": list(self.before),
            "after": list(self.after),
            "delete": list(self.delete),
            "add": list(self.add),
        }


@dataclass(frozen=True)
class Operation:
    op: str  # add | modify | modrdn | delete
    kind: str
    hsa_id: str | None
    dn: str  # the DN the operation addresses when it runs
    attributes: tuple[tuple[str, tuple[str, ...]], ...] = ()  # add
    changes: tuple[AttributeChange, ...] = ()  # modify
    new_rdn: str | None = None  # modrdn
    new_superior: str | None = None  # modrdn, None = same parent
    new_dn: str | None = None  # modrdn
    reason: str = ""

    def to_dict(self) -> dict:
        d: dict = {"op": self.op, "kind": self.kind, "hsa_id": self.hsa_id, "dn": self.dn}
        if self.op == "add":
            d["attributes"] = {k: list(v) for k, v in self.attributes}
        if self.op == "modify":
            d["changes"] = [c.to_dict() for c in self.changes]
        if self.op == "modrdn":
            d.update(new_rdn=self.new_rdn, new_superior=self.new_superior, new_dn=self.new_dn)
        if self.reason:
            d["reason"] = self.reason
        return d


@dataclass
class Plan:
    base_dn: str
    operations: list[Operation] = field(default_factory=list)
    unmanaged: list[dict] = field(default_factory=list)  # {dn, hsa_id, kind, action}
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    foreign: int = 0  # entries below the base DN without hsaIdentity (never touched)
    refused: list[dict] = field(default_factory=list)  # {op, kind, hsa_id, dn, message}

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(OPS, 0)
        for o in self.operations:
            counts[o.op] += 1
        return counts

    @property
    def changed(self) -> bool:
        return bool(self.operations)

    def to_dict(self) -> dict:
        return {
            "base_dn": self.base_dn,
            "counts": self.counts,
            "operations": [o.to_dict() for o in self.operations],
            "unmanaged": list(self.unmanaged),
            "foreign_entries": self.foreign,
            "errors": list(self.errors),
            "warnings": list(self.warnings),
            "refused": list(self.refused),
        }


# --------------------------------------------------------------------------- planning


class _Node:
    """An actual entry while the plan is built: its DN follows planned moves."""

    __slots__ = ("_rdns", "entry", "final", "keys")

    def __init__(self, entry: DirectoryEntry):
        self.entry = entry
        self._rdns: list[str] | None = None  # parsed when needed (most entries never are)
        self.keys = dn_keys(entry.dn)  # where the plan puts it
        self.final = True  # still exists after the plan

    @property
    def rdns(self) -> list[str]:
        if self._rdns is None:
            self._rdns = ["+".join(rdn(a, v) for a, v in one) for one in parse_dn(self.entry.dn)]
        return self._rdns

    @rdns.setter
    def rdns(self, value: list[str]) -> None:
        self._rdns = value

    @property
    def dn(self) -> str:
        return ",".join(self.rdns)

    @property
    def key(self) -> str:
        return ",".join(self.keys)


def _is_below(keys: list[str], ancestor: list[str]) -> bool:
    n = len(ancestor)
    return len(keys) > n and keys[-n:] == ancestor


def _diff_values(attribute: str, before, after) -> AttributeChange | None:
    if tuple(before) == tuple(after):  # the same values: the same under any matching rule
        return None
    bkeys = {match_key(attribute, v): v for v in before}
    akeys = {match_key(attribute, v): v for v in after}
    if bkeys.keys() == akeys.keys():
        return None
    return AttributeChange(
        attribute,
        tuple(before),
        tuple(after),
        delete=tuple(v for k, v in bkeys.items() if k not in akeys),
        add=tuple(v for k, v in akeys.items() if k not in bkeys),
    )


def _apply_rdn_change(
    attrs: dict[str, tuple[str, ...]],
    old_rdn: list[tuple[str, str]],
    new_rdn: list[tuple[str, str]],
) -> dict[str, tuple[str, ...]]:
    """The attributes of an entry after ``modrdn`` with deleteoldrdn=1."""
    out = dict(attrs)

    def find(a):
        return next((k for k in out if k.lower() == a.lower()), a)

    for a, v in old_rdn:
        k = find(a)
        mk = match_key(a, v)
        out[k] = tuple(x for x in out.get(k, ()) if match_key(a, x) != mk)
    for a, v in new_rdn:
        k = find(a)
        if match_key(a, v) not in {match_key(a, x) for x in out.get(k, ())}:
            out[k] = (*out.get(k, ()), v)
    return out


_A_KIND = {
    "provider": N_("a care provider"),
    "unit": N_("a care unit"),
    "person": N_("a person"),
    "commission": N_("a commission"),
}


def _a_kind(kind: str | None) -> str:
    return _(_A_KIND[kind]) if kind in _A_KIND else _("an entry of another kind")


def make_plan(
    desired: DesiredState, actual, base_dn: str, prune: bool = False, max_deletes: int = 10,
) -> Plan:
    """The operations that make ``actual`` (the entries read) what ``desired`` wants."""
    plan = Plan(base_dn=base_dn, errors=[str(e) for e in desired.errors])
    base_keys = dn_keys(base_dn)

    id_keys = {id(e): match_key("hsaIdentity", e.hsa_id) for e in desired.entries}
    wanted = set(id_keys.values())
    nodes: list[_Node] = []
    by_id: dict[str, _Node] = {}
    for entry in actual:
        node = _Node(entry)
        if not _is_below(node.keys, base_keys):
            if node.keys != base_keys:
                plan.warnings.append(_(
                    "An entry outside the part of the directory the toolkit manages was "
                    "skipped. For IT: %(dn)s is not below the base DN %(base_dn)s.",
                    dn=entry.dn, base_dn=base_dn))
            continue
        nodes.append(node)
        ident = entry.hsa_id
        if not ident:
            plan.foreign += 1
            continue
        key = match_key("hsaIdentity", ident)
        if key in by_id:
            plan.errors.append(_(
                "The HSA-id %(hsa_id)s is on two entries in the directory; ask the HSA "
                "administrator to remove one of them. For IT: %(dn)s and %(other)s.",
                hsa_id=entry.hsa_id, dn=by_id[key].entry.dn, other=entry.dn))
            continue
        by_id[key] = node

    # Provider entries below the base DN that are not ours: what lives under them belongs
    # to someone else and is never moved into our subtree or rewritten.
    ours = {id_keys[id(e)] for e in desired.entries if e.kind == "provider"}
    others = [
        n
        for n in nodes
        if n.entry.kind == "provider"
        and n.entry.hsa_id
        and match_key("hsaIdentity", n.entry.hsa_id) not in ours
    ]
    ops: list[Operation] = []
    for want in desired.entries:
        node = by_id.get(id_keys[id(want)])
        if node is None:
            ops.append(_add(want))
            continue
        owner = others and next(
            (o for o in others if o is node or _is_below(node.keys, o.keys)), None)
        if owner:
            plan.errors.append(_(
                "%(object)s is in the directory under another care provider (%(owner)s), so "
                "it is neither moved nor changed. Check the HSA-id in the description, or ask "
                "that care provider to remove the entry. For IT: %(dn)s.",
                object=object_name(want.kind, want.hsa_id, capital=True),
                owner=owner.entry.hsa_id, dn=node.entry.dn))
            continue
        have_kind = node.entry.kind
        if have_kind != want.kind:
            plan.errors.append(_(
                "%(hsa_id)s is %(have)s in the directory but %(want)s in the description; "
                "check the HSA-id in the description. For IT: %(dn)s.",
                hsa_id=want.hsa_id, have=_a_kind(have_kind), want=_a_kind(want.kind),
                dn=node.entry.dn))
            continue
        ops.extend(_free_target(want, node, nodes, wanted))
        ops.extend(_update(want, node, nodes))

    _check_targets(desired, nodes, by_id, plan, id_keys)

    unmanaged = [n for k, n in by_id.items() if k not in wanted]
    provider_keys = None
    prov = next((e for e in desired.entries if e.kind == "provider"), None)
    if prov is not None:
        pnode = by_id.get(match_key("hsaIdentity", prov.hsa_id))
        provider_keys = pnode.keys if pnode else dn_keys(prov.dn)
    deletes: list[_Node] = []
    for n in sorted(unmanaged, key=lambda n: n.dn.lower()):
        inside = provider_keys is not None and _is_below(n.keys, provider_keys)
        item = {"dn": n.dn, "hsa_id": n.entry.hsa_id, "kind": n.entry.kind, "action": "kept"}
        if prune and inside:
            deletes.append(n)
            item["action"] = "delete"
        elif prune:
            item["action"] = "kept (outside the provider's subtree)"
        plan.unmanaged.append(item)

    if prune and deletes:
        has_content = any(e.kind != "provider" for e in desired.entries)
        if not has_content:
            plan.errors.append(ngettext(
                "Pruning refused: the description lists no care units, people or "
                "commissions, so %(num)s entry would be removed from the directory. Check "
                "that the right description is used (for IT: hsa_provider_path).",
                "Pruning refused: the description lists no care units, people or "
                "commissions, so %(num)s entries would be removed from the directory. Check "
                "that the right description is used (for IT: hsa_provider_path).",
                len(deletes)))
            deletes = []
        for n in deletes:
            n.final = False
        blocked = set()
        for n in deletes:
            kept_below = [m for m in nodes if m.final and _is_below(m.keys, n.keys)]
            if kept_below:
                blocked.add(id(n))
                plan.warnings.append(ngettext(
                    "An entry that is no longer in the description is not removed, because "
                    "%(num)s entry below it is kept. For IT: %(dn)s, below it %(example)s.",
                    "An entry that is no longer in the description is not removed, because "
                    "%(num)s entries below it are kept. For IT: %(dn)s, below it e.g. "
                    "%(example)s.", len(kept_below), dn=n.dn, example=kept_below[0].dn))
        for n in deletes:
            if id(n) in blocked:
                n.final = True
        deletes = [n for n in deletes if id(n) not in blocked]
        for item in plan.unmanaged:
            if item["action"] == "delete" and not any(n.dn == item["dn"] for n in deletes):
                item["action"] = "kept (entries below it are kept)"
        if len(deletes) > max_deletes:
            plan.errors.append(ngettext(
                "Pruning refused: it would remove %(num)s entry from the directory, more "
                "than max_deletes (%(max)s) allows. If that is intended, raise "
                "hsa_max_deletes to %(num)s.",
                "Pruning refused: it would remove %(num)s entries from the directory, more "
                "than max_deletes (%(max)s) allows. If that is intended, raise "
                "hsa_max_deletes to %(num)s.", len(deletes), max=max_deletes))
        kind_rank = {"commission": 0, "person": 1, "unit": 2, "provider": 3}
        deletes.sort(key=lambda n: (-len(n.keys), kind_rank.get(n.entry.kind or "", 4), n.dn))
        ops.extend(
            Operation(
                "delete",
                n.entry.kind or "",
                n.entry.hsa_id,
                n.dn,
                reason="not in the description (prune)",
            )
            for n in deletes
        )
    plan.operations = ops
    return plan


def refuse_referred(plan: Plan, referred: dict[str, list[str]]) -> list[dict]:
    """Move the operations that touch a referred part of the tree to ``plan.refused``.

    ``referred`` maps the local DN of each referral (an entry the server answers with a
    reference to another server) to its URLs. Refused: an operation whose entry, or
    whose new DN (a rename or move), is at or below a referred DN, and a delete of an
    entry above one. Returns the refused items ({op, kind, hsa_id, dn, message}).
    """
    if not referred:
        return []
    refs = [(dn_keys(dn), dn, urls) for dn, urls in referred.items()]

    def hit(dn: str | None):
        if not dn:
            return None
        keys = dn_keys(dn)
        for rkeys, rdn_, urls in refs:
            if keys == rkeys or _is_below(keys, rkeys):
                return rdn_, urls
        return None

    kept, refused = [], []
    for o in plan.operations:
        found = hit(o.dn) or hit(o.new_dn)
        above = False
        if found is None and o.op == "delete":
            okeys = dn_keys(o.dn)
            found = next(((d, u) for k, d, u in refs if _is_below(k, okeys)), None)
            above = True
        if found is None:
            kept.append(o)
            continue
        ref_dn, urls = found
        target = o.new_dn if o.op == "modrdn" and hit(o.new_dn) else o.dn
        params = {"object": object_name(o.kind, o.hsa_id, capital=True), "op": o.op,
                  "dn": target, "ref_dn": ref_dn, "urls": ", ".join(urls) or _("another server")}
        if above:
            message = _(
                "%(object)s: nothing was sent, because a part of the directory below it is "
                "held by another server and was not read here. Ask the directory "
                "administrator which server holds it. For IT: %(op)s %(dn)s refused; "
                "%(ref_dn)s below it is a referral to %(urls)s.", **params)
        else:
            message = _(
                "%(object)s: nothing was sent, because that part of the directory is held by "
                "another server and was not read here. Ask the directory administrator which "
                "server holds it. For IT: %(op)s %(dn)s refused; it is at or below "
                "%(ref_dn)s, a referral to %(urls)s.", **params)
        refused.append({
            "op": o.op,
            "kind": o.kind,
            "hsa_id": o.hsa_id,
            "dn": o.dn,
            "message": message,
        })
    plan.operations = kept
    plan.refused.extend(refused)
    return refused


def _add(want: DesiredEntry) -> Operation:
    attrs = [("objectClass", want.object_classes)]
    attrs += [(a, v) for a, v in want.attributes.items() if v]
    return Operation(
        "add",
        want.kind,
        want.hsa_id,
        want.dn,
        attributes=tuple(attrs),
        reason="not in the directory",
    )


def _update(want: DesiredEntry, node: _Node, nodes: list[_Node]) -> list[Operation]:
    ops = []
    attrs = node.entry.attributes
    want_keys = dn_keys(want.dn)
    if node.keys != want_keys:
        old_dn = node.dn
        old_keys = list(node.keys)
        new_parsed = parse_dn(want.dn)
        new_rdn = "+".join(rdn(a, v) for a, v in new_parsed[0])
        new_parent = ",".join("+".join(rdn(a, v) for a, v in one) for one in new_parsed[1:])
        moved = want_keys[1:] != old_keys[1:]
        renamed = want_keys[0] != old_keys[0]
        ops.append(
            Operation(
                "modrdn",
                want.kind,
                want.hsa_id,
                old_dn,
                new_rdn=new_rdn,
                new_superior=new_parent if moved else None,
                new_dn=want.dn,
                reason=" and ".join(
                    x for x in ("renamed" if renamed else "", "moved" if moved else "") if x
                ),
            )
        )
        if renamed:
            attrs = _apply_rdn_change(attrs, parse_dn(old_dn)[0], new_parsed[0])
        new_rdns = ["+".join(rdn(a, v) for a, v in one) for one in new_parsed]
        _move(node, nodes, new_rdns, want_keys)
    changes = []
    have_classes = {c.lower() for c in attrs.get("objectClass", ())}
    missing = tuple(
        c
        for c in want.object_classes
        if c.lower() not in have_classes and c.lower() == _aux(want.kind).lower()
    )
    if missing:
        changes.append(
            AttributeChange(
                "objectClass",
                attrs.get("objectClass", ()),
                (*attrs.get("objectClass", ()), *missing),
                (),
                missing,
            )
        )
    for name in MANAGED[want.kind]:
        change = _diff_values(name, attrs.get(name, ()), want.attributes.get(name, ()))
        if change is not None:
            changes.append(change)
    if changes:
        ops.append(
            Operation(
                "modify",
                want.kind,
                want.hsa_id,
                want.dn,
                changes=tuple(changes),
                reason="attributes differ",
            )
        )
    return ops


def _move(node: _Node, nodes: list[_Node], new_rdns: list[str], new_keys: list[str]) -> None:
    """Record a planned modrdn: the node and its whole subtree get their new DNs."""
    old_keys = list(node.keys)
    n = len(old_keys)
    for other in nodes:  # the subtree moves with it
        if _is_below(other.keys, old_keys):
            other.rdns = other.rdns[: len(other.rdns) - n] + new_rdns
            other.keys = other.keys[: len(other.keys) - n] + new_keys
    node.rdns, node.keys = new_rdns, new_keys


def _free_target(want: DesiredEntry, node: _Node, nodes: list[_Node], wanted) -> list[Operation]:
    """When ``want``'s new DN is held by another described entry that moves later (two
    sibling units swapping names), move that entry to a temporary name first."""
    want_keys = dn_keys(want.dn)
    if node.keys == want_keys:
        return []
    blocker = next((m for m in nodes if m is not node and m.keys == want_keys), None)
    if blocker is None or not blocker.entry.hsa_id:
        return []
    if match_key("hsaIdentity", blocker.entry.hsa_id) not in wanted:
        return []  # not ours to move: _check_targets reports it
    first = parse_dn(blocker.dn)[0]
    if len(first) != 1:
        return []
    attribute, value = first[0]
    taken = {m.key for m in nodes}
    parent = blocker.rdns[1:]
    for n in range(1, 100):
        suffix = f" ~{blocker.entry.hsa_id}" + (f" {n}" if n > 1 else "")
        temp_rdn = rdn(attribute, value + suffix)
        temp_dn = ",".join([temp_rdn, *parent])
        temp_keys = dn_keys(temp_dn)
        if ",".join(temp_keys) not in taken:
            break
    else:  # pragma: no cover - 99 temporary names taken
        return []
    op = Operation(
        "modrdn",
        blocker.entry.kind or "",
        blocker.entry.hsa_id,
        blocker.dn,
        new_rdn=temp_rdn,
        new_dn=temp_dn,
        reason=f"temporary name: frees {want.dn} for {want.hsa_id}; renamed again below",
    )
    attrs = _apply_rdn_change(blocker.entry.attributes, first, parse_dn(temp_dn)[0])
    _move(blocker, nodes, [temp_rdn, *parent], temp_keys)
    blocker.entry = DirectoryEntry(temp_dn, attrs)
    return [op]


def _aux(kind: str) -> str:
    return {
        "provider": "hsaHealthCareProvider",
        "unit": "hsaHealthCareUnit",
        "person": "hsaPersonExtension",
        "commission": "hsaCommission",
    }[kind]


def _check_targets(desired: DesiredState, nodes, by_id, plan: Plan, id_keys) -> None:
    """A new or moved entry must not land on a DN another kept entry holds."""
    mine = {id(by_id[k]) for k in id_keys.values() if k in by_id}
    taken = {n.key: n for n in nodes if id(n) not in mine}
    if not taken:
        return
    for want in desired.entries:
        key = normalize_dn(want.dn)
        other = taken.get(key)
        if other is not None:
            plan.errors.append(_(
                "%(object)s cannot get its name in the directory: another entry (%(other)s) "
                "already has it. Ask the HSA administrator to rename or move that entry "
                "first. For IT: %(dn)s.",
                object=object_name(want.kind, want.hsa_id, capital=True),
                other=other.entry.hsa_id or _("without an HSA-id"), dn=want.dn))


__all__ = [
    "KINDS",
    "OPS",
    "RDN_ATTRIBUTE",
    "AttributeChange",
    "Operation",
    "Plan",
    "make_plan",
    "refuse_referred",
]
