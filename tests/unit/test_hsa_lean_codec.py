"""The reconciler's own BER (requests it writes, search entries it reads) against ldap3's
pyasn1 encoder, the fast paths of the value/DN helpers, and the swap plan (pure)."""

from __future__ import annotations

import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.gateway import (
    decode_search_entry,
    encode_request,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.mapping import (
    _NEEDS_ESCAPE,
    desired_entries,
    dn_keys,
    escape_rdn_value,
    make_entry,
    match_key,
    parse_dn,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.plan import (
    AttributeChange,
    Operation,
    make_plan,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.plan_ldif import (
    render_ldif,
)
from hsa_builders import model, person, unit

ldap3 = pytest.importorskip("ldap3")
from ldap3.operation.add import add_operation  # noqa: E402
from ldap3.operation.delete import delete_operation  # noqa: E402
from ldap3.operation.modify import modify_operation  # noqa: E402
from ldap3.operation.modifyDn import modify_dn_operation  # noqa: E402
from ldap3.protocol.rfc4511 import LDAPMessage, MessageID, ProtocolOp  # noqa: E402
from pyasn1.codec.ber import encoder  # noqa: E402

LONG = "Å" * 200  # 400 bytes: two-octet BER lengths


def pyasn1(message_id, kind, request) -> bytes:
    m = LDAPMessage()
    m["messageID"] = MessageID(message_id)
    m["protocolOp"] = ProtocolOp().setComponentByName(kind, request)
    return encoder.encode(m)


@pytest.mark.parametrize("message_id", [1, 127, 128, 255, 256, 70000])
def test_add_modify_delete_encode_like_ldap3(message_id):
    add = Operation("add", "person", "P", "hsaIdentity=P,ou=Å\\2C B,c=SE", attributes=(
        ("objectClass", ("top", "person")), ("cn", ("Åsa", LONG)), ("sn", ("Ö",)), ("mail", ())))
    assert encode_request(message_id, add) == pyasn1(message_id, "addRequest", add_operation(
        add.dn, {"objectClass": ["top", "person"], "cn": ["Åsa", LONG], "sn": ["Ö"]}, True))
    mod = Operation("modify", "person", "P", "cn=a,c=SE", changes=(
        AttributeChange("mail", (), (), ("a@b",), ("c@d", "e")),
        AttributeChange("sn", (), (), (), ("Ny",)),
        AttributeChange("cn", (), (), ("Gammal",), ())))
    assert encode_request(message_id, mod) == pyasn1(message_id, "modifyRequest", modify_operation(
        mod.dn, {"mail": [(ldap3.MODIFY_DELETE, ["a@b"]), (ldap3.MODIFY_ADD, ["c@d", "e"])],
                 "sn": [(ldap3.MODIFY_ADD, ["Ny"])], "cn": [(ldap3.MODIFY_DELETE, ["Gammal"])]},
        True))
    delete = Operation("delete", "person", "P", "cn=Å,c=SE")
    assert encode_request(message_id, delete) == pyasn1(
        message_id, "delRequest", delete_operation("cn=Å,c=SE"))


@pytest.mark.parametrize("superior", [None, "o=Ny,c=SE"])
def test_modrdn_encodes_like_ldap3_except_the_canonical_true(superior):
    op = Operation("modrdn", "unit", "U", "ou=a,c=SE", new_rdn="ou=b", new_superior=superior)
    mine = encode_request(9, op)
    theirs = pyasn1(9, "modDNRequest", modify_dn_operation("ou=a,c=SE", "ou=b", True, superior))
    # pyasn1 writes BOOLEAN TRUE as 0x01; RFC 4511 section 5.1 asks for 0xFF
    assert mine.replace(b"\x01\x01\xff", b"\x01\x01\x01") == theirs
    assert b"\x01\x01\xff" in mine


def _entry_message(message_id, dn, attrs) -> bytes:
    """A SearchResultEntry as a server sends it (built with the same minimal BER rules)."""
    def tlv(tag, content):
        n = len(content)
        head = bytes([n]) if n < 128 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + \
            n.to_bytes((n.bit_length() + 7) // 8, "big")
        return bytes([tag]) + head + content
    body = tlv(0x04, dn.encode()) + tlv(0x30, b"".join(
        tlv(0x30, tlv(0x04, k.encode()) + tlv(0x31, b"".join(tlv(0x04, v) for v in vs)))
        for k, vs in attrs.items()))
    return tlv(0x30, tlv(0x02, message_id.to_bytes(2, "big")) + tlv(0x64, body))


def test_search_entries_decode_like_ldap3():
    from ldap3.operation.search import search_result_entry_response_to_dict_fast
    from ldap3.utils.asn1 import decode_message_fast

    attrs = {"objectClass": [b"top", b"hsaCommission"], "hsaCommissionMember":
             [f"SE1-P{i}".encode() for i in range(300)], "cn": [LONG.encode()],
             "userCertificate;binary": [bytes(range(256)) * 3]}
    msg = _entry_message(300, "cn=Vård,ou=Å,c=SE", attrs)
    mid, dn, got = decode_search_entry(msg)
    theirs = search_result_entry_response_to_dict_fast(
        decode_message_fast(msg)["payload"], None, None, False)
    assert (mid, dn) == (300, theirs["dn"])
    assert got == {k: list(v) for k, v in theirs["raw_attributes"].items()}
    assert got == attrs


def test_search_entry_decoder_ignores_other_messages_and_rejects_garbage():
    done = bytes.fromhex("300c02010265070a010004000400")  # searchResDone, success
    assert decode_search_entry(done) is None
    with pytest.raises((ValueError, IndexError)):
        decode_search_entry(b"\x04\x00")
    broken = bytearray(_entry_message(2, "cn=a", {"cn": [b"a"]}))
    broken[-3] = 0x10  # not an OCTET STRING
    with pytest.raises(ValueError):
        decode_search_entry(bytes(broken))
    broken = bytearray(_entry_message(2, "cn=a", {"cn": [b"a", b"b"]}))
    broken[-5] = 0x02  # the first value claims the second one's octets too
    with pytest.raises((ValueError, IndexError)):
        decode_search_entry(bytes(broken))


@pytest.mark.parametrize("value", [
    "plain", "a,b=c", "*)(objectClass=*", " leading", "trailing ", "#hash", "mid#dle",
    'q"uote', "back\\slash", "semi;colon", "nul\0x", "<>", "plus+", "Åsa Öberg", "a \n",
])
def test_escape_fast_path_gives_the_full_escaping(value):
    slow = []
    for i, ch in enumerate(value):
        if ch in ',+"\\<>;=' or (i == 0 and ch in "# ") or (i == len(value) - 1 and ch == " "):
            slow.append("\\" + ch)
        elif ch == "\0":
            slow.append("\\00")
        else:
            slow.append(ch)
    assert escape_rdn_value(value) == "".join(slow)
    if _NEEDS_ESCAPE.search(value) is None:
        assert escape_rdn_value(value) == value


@pytest.mark.parametrize("value", ["Läkare  Allmän", "ABC  def ", "Ǆ", "e\u0301", "Straße"])
def test_match_key_ascii_fast_path_agrees_with_the_rule(value):
    import unicodedata

    assert match_key("cn", value) == " ".join(
        unicodedata.normalize("NFC", value).split()).casefold()


def test_dn_keys_of_plain_and_escaped_dns_agree():
    for dn in ("hsaIdentity=SE1-P1,ou=Barn Vård,o=Bolaget,c=SE",
               "hsaIdentity = SE1-P1 ,OU=barn  vård,o=Bolaget,c=se"):
        assert dn_keys(dn) == dn_keys("hsaIdentity=se1-p1,ou=Barn Vård,o=Bolaget,c=SE")
    escaped = "cn=a\\,b,ou=x\\2Cy,c=SE"
    assert parse_dn(escaped)[1] == [("ou", "x,y")]
    assert dn_keys(escaped)[1] == dn_keys("ou=x\\,y")[0]


def test_make_entry_normalises_non_ascii_only():
    e = make_entry("cn=x", {"CN": [b"A\xcc\x8asa"], "mail": [b"a@b"], "sn": "plain"})
    assert e.get("cn") == ("Åsa",) and e.get("mail") == ("a@b",) and e.get("sn") == ("plain",)


# --------------------------------------------------------------------------- swaps


def _two_units(a_name, b_name, c_name="Akut"):
    return model(units=[unit("SE1-U1", "Mottagning"),
                        unit("SE1-UA", a_name, parent="SE1-U1"),
                        unit("SE1-UB", b_name, parent="SE1-U1"),
                        unit("SE1-UC", c_name, parent="SE1-U1")],
                 people=[person("SE1-P1", unit_id="SE1-UA"), person("SE1-P2", unit_id="SE1-UB")])


def _directory(m):
    out = []
    for e in desired_entries(m, "c=SE").entries:
        attrs = {"objectClass": e.object_classes, **{k: v for k, v in e.attributes.items() if v}}
        out.append(make_entry(e.dn, attrs))
    return out


def test_a_name_swap_goes_through_a_temporary_name():
    plan = make_plan(desired_entries(_two_units("Vuxen", "Barn"), "c=SE"),
                     _directory(_two_units("Barn", "Vuxen")), "c=SE")
    assert not plan.errors
    steps = [(o.op, o.hsa_id, o.dn.split(",")[0], (o.new_dn or "").split(",")[0])
             for o in plan.operations]
    assert steps == [
        ("modrdn", "SE1-UB", "ou=Vuxen", "ou=Vuxen ~SE1-UB"),
        ("modrdn", "SE1-UA", "ou=Barn", "ou=Vuxen"),
        ("modrdn", "SE1-UB", "ou=Vuxen ~SE1-UB", "ou=Barn"),
    ]
    assert "newrdn: ou=Vuxen ~SE1-UB" in render_ldif(plan)


def test_a_three_way_rotation_and_a_plain_rename():
    before = _directory(_two_units("Barn", "Vuxen", "Akut"))
    rotated = make_plan(desired_entries(_two_units("Vuxen", "Akut", "Barn"), "c=SE"),
                        before, "c=SE")
    assert not rotated.errors and rotated.counts["modrdn"] == 5  # two temporary names
    finals = {}
    held = {"SE1-UA": "ou=Barn", "SE1-UB": "ou=Vuxen", "SE1-UC": "ou=Akut"}
    for o in rotated.operations:  # replay: no step may land on a name another unit holds
        name = o.new_dn.split(",")[0]
        assert name not in {v for k, v in held.items() if k != o.hsa_id}, (o, held)
        held[o.hsa_id] = finals[o.hsa_id] = name
    assert finals == {"SE1-UA": "ou=Vuxen", "SE1-UB": "ou=Akut", "SE1-UC": "ou=Barn"}
    plain = make_plan(desired_entries(_two_units("Barn", "Ny"), "c=SE"), before, "c=SE")
    assert [o.op for o in plain.operations] == ["modrdn"]


def test_a_name_held_by_an_entry_outside_the_description_is_still_refused():
    before = _directory(_two_units("Barn", "Vuxen"))
    desired = desired_entries(model(units=[unit("SE1-U1", "Mottagning"),
                                           unit("SE1-UA", "Vuxen", parent="SE1-U1")],
                                    people=[person("SE1-P1", unit_id="SE1-UA")]), "c=SE")
    plan = make_plan(desired, before, "c=SE")
    assert any("needs the directory name" in e for e in plan.errors)
    assert not any("~" in (o.new_dn or "") for o in plan.operations)


def test_dn_keys_fast_path_agrees_with_the_full_parser_on_random_dns():
    import random

    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.mapping import (
        _ava_key,
    )

    rng = random.Random(4)
    pieces = ["a", "B", "ou", "=", ",", " ", "Å", "x", "\\", "+", '"', ";", "#", "cn", "  "]
    for _ in range(5000):
        dn = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        full = ["+".join(sorted(_ava_key(a, v) for a, v in one)) for one in parse_dn(dn)]
        assert dn_keys(dn) == full, dn
