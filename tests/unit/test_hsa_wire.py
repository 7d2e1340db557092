"""hsa_wire without a server: BER decoding of entries and the framing of search answers.

A fake socket hands the client crafted answers in chunks of every size, so message
boundaries, split length octets and split TLS records are all exercised. The same client
against the real slapd is in tests/integration/test_hsa_plan_cache_live.py.
"""

from __future__ import annotations

import pytest
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.ldap import (
    LdapConnectError,
    LdapSettings,
)
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.wire import (
    NOTICE_OF_DISCONNECTION,
    PAGED_RESULTS,
    WireConnection,
    _int,
    _message,
    _str,
    _tlv,
    decode_entry,
)

BASE = "o=Vårdbolaget,c=SE"


def entry_op(dn: str, attrs: dict[str, list[bytes]]) -> bytes:
    parts = b"".join(_tlv(0x30, _str(name) + _tlv(0x31, b"".join(_str(v) for v in values)))
                     for name, values in attrs.items())
    return _tlv(0x64, _str(dn) + _tlv(0x30, parts))


def done(code: int = 0, cookie: bytes | None = b"", message: str = "") -> tuple[bytes, bytes]:
    op = _tlv(0x65, b"\x0a\x01" + bytes((code,)) + _str("") + _str(message))
    controls = b""
    if cookie is not None:
        value = _tlv(0x30, _int(0) + _str(cookie))
        controls = _tlv(0xA0, _tlv(0x30, _str(PAGED_RESULTS) + _str(value)))
    return op, controls


class FakeSocket:
    """Answers each search request with the next scripted page, in ``chunk``-byte reads."""

    def __init__(self, pages: list[list[tuple[int | None, bytes, bytes]]], chunk: int):
        self.pages = pages
        self.chunk = chunk
        self.pending = b""
        self.sent: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.sent.append(data)
        if data[-2:] == b"\x42\x00" or not self.pages:  # unbind, or nothing scripted
            return
        mid = len([d for d in self.sent if d[-2:] != b"\x42\x00"])
        for msg_id, op, controls in self.pages.pop(0):
            self.pending += _message(mid if msg_id is None else msg_id, op, controls)

    def recv_into(self, view) -> int:
        n = min(self.chunk, len(view), len(self.pending))
        view[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n

    def close(self) -> None:
        pass


def wire(pages, chunk=7) -> tuple[WireConnection, FakeSocket]:
    sock = FakeSocket(pages, chunk)
    return WireConnection(LdapSettings(uri="ldap://h", base_dn=BASE), sock), sock


ENTRIES = [
    entry_op(BASE, {"objectClass": [b"organization"], "o": ["Vårdbolaget".encode()]}),
    entry_op(f"ou=Norr,{BASE}", {"objectClass": [b"organizationalUnit"], "ou": [b"Norr"],
                                 "description": [b"x" * 300]}),  # a long-form length
    entry_op(f"hsaIdentity=SE1-P1,ou=Norr,{BASE}", {"hsaIdentity": [b"SE1-P1"],
                                                     "title": [b"A", b"B"], "cn": [b""]}),
]


# --------------------------------------------------------------------------- decode_entry


def test_decode_entry_gives_dn_and_values():
    dn, attrs = decode_entry(ENTRIES[2])
    assert dn == f"hsaIdentity=SE1-P1,ou=Norr,{BASE}"
    assert attrs == {"hsaIdentity": [b"SE1-P1"], "title": [b"A", b"B"], "cn": [b""]}
    assert decode_entry(ENTRIES[1])[1]["description"] == [b"x" * 300]


def test_decode_entry_joins_an_attribute_sent_twice():
    op = entry_op(BASE, {"title": [b"A"]})
    twice = _tlv(0x64, _str(BASE) + _tlv(0x30, 2 * _tlv(0x30, _str("title")
                                                        + _tlv(0x31, _str("A")))))
    assert decode_entry(op)[1] == {"title": [b"A"]}
    assert decode_entry(twice)[1] == {"title": [b"A", b"A"]}


@pytest.mark.parametrize("op", ENTRIES)
def test_every_truncation_of_an_entry_is_a_value_error(op):
    for n in range(len(op)):
        with pytest.raises(ValueError):
            decode_entry(op[:n])


@pytest.mark.parametrize("bad", [
    b"\x65\x00",  # not an entry
    _tlv(0x64, _str(BASE) + _tlv(0x31, b"")),  # attributes not a SEQUENCE
    _tlv(0x64, _str(BASE) + _tlv(0x30, _tlv(0x30, _str("cn") + _tlv(0x30, b"")))),  # vals
    _tlv(0x64, _str(BASE) + _tlv(0x30, _tlv(0x30, _str("cn") + _tlv(0x31, _tlv(0x02, b"\x01"))))),
    _tlv(0x64, _str(b"\xff\xfe") + _tlv(0x30, b"")),  # a DN that is not UTF-8
    _tlv(0x64, _str(BASE) + _tlv(0x30, b"")) + b"\x00",  # trailing bytes
    b"\x64\x80" + _str(BASE),  # indefinite length
])
def test_malformed_entries_are_value_errors(bad):
    with pytest.raises(ValueError):
        decode_entry(bad)


# --------------------------------------------------------------------------- search framing


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 64, 100_000])
def test_pages_in_any_chunking_give_every_entry_in_order(chunk):
    page1 = [(None, ENTRIES[0], b""), (None, ENTRIES[1], b""), (None, *done(cookie=b"c1"))]
    page2 = [(None, ENTRIES[2], b""), (None, *done(cookie=b""))]
    conn, sock = wire([page1, page2], chunk)
    got = conn.search(BASE, ["objectClass"], page_size=2)
    assert got == ENTRIES
    assert len(sock.sent) == 2 and b"c1" in sock.sent[1]  # the 2nd request has the cookie


def test_entries_with_controls_long_lengths_or_large_message_ids_are_read_too():
    """Not the usual shape: an entry with controls after it, a four-octet length, and a
    messageID of two octets (the 200th request of a connection)."""
    control = _tlv(0xA0, _tlv(0x30, _str("1.2.3.4")))
    big = entry_op(BASE, {"description": [b"y" * 70_000]})  # 83 xx xx xx
    page = [(200, ENTRIES[0], control), (200, big, b""), (200, ENTRIES[2], b""),
            (200, *done(cookie=None))]
    conn, sock = wire([page], chunk=4096)
    conn.message_id = 199
    sock.sent = [b""] * 199  # the fake answers the 200th request
    assert conn.search(BASE, ["cn"]) == [ENTRIES[0], big, ENTRIES[2]]


def test_continuation_references_are_collected_not_followed():
    ref = _tlv(0x73, _str("ldap://other.example.se/ou=Syd,o=X,c=SE??sub"))
    page = [(None, ENTRIES[0], b""), (None, ref, b""), (None, *done(cookie=None))]
    conn, _ = wire([page])
    refs: list[str] = []
    assert conn.search(BASE, ["cn"], references=refs) == ENTRIES[:1]
    assert refs == ["ldap://other.example.se/ou=Syd,o=X,c=SE??sub"]


def test_no_such_object_is_an_empty_tree():
    conn, _ = wire([[(None, *done(code=32))]])
    assert conn.search(BASE, ["cn"]) == []


@pytest.mark.parametrize(("code", "words"), [
    (4, "stopped early: sizeLimitExceeded"),
    (3, "stopped early: timeLimitExceeded"),
    (50, "insufficientAccessRights"),
    (10, "referral"),
])
def test_a_failed_or_truncated_search_is_an_error_not_a_partial_read(code, words):
    conn, _ = wire([[(None, ENTRIES[0], b""), (None, *done(code=code))]])
    with pytest.raises(LdapConnectError, match=words):
        conn.search(BASE, ["cn"])


def test_the_connection_dropping_mid_search_is_an_error():
    conn, _ = wire([[(None, ENTRIES[0], b"")]])  # no searchResDone, then EOF
    with pytest.raises(LdapConnectError, match="connection was lost"):
        conn.search(BASE, ["cn"])


def test_notice_of_disconnection_is_an_error():
    notice = _tlv(0x78, b"\x0a\x01\x34" + _str("") + _str("") + _str(NOTICE_OF_DISCONNECTION, 0x8A))
    conn, _ = wire([[(None, ENTRIES[0], b""), (0, notice, b"")]])
    with pytest.raises(LdapConnectError, match="notice of disconnection"):
        conn.search(BASE, ["cn"])


@pytest.mark.parametrize("page", [
    [(99, ENTRIES[0], b""), (None, *done())],  # an answer to another request
    [(None, ENTRIES[0], b""), (None, *done()), (None, ENTRIES[1], b"")],  # data after done
    [(None, _tlv(0x61, b"\x0a\x01\x00" + _str("") + _str("")), b"")],  # a bind response
])
def test_answers_that_do_not_belong_to_the_search_are_refused(page):
    conn, _ = wire([page], chunk=100_000)  # data after the end is seen when it comes along
    with pytest.raises(LdapConnectError, match="could not be read"):
        conn.search(BASE, ["cn"])


def test_close_sends_unbind_once():
    conn, sock = wire([])
    conn.close()
    conn.close()
    assert sock.sent == [_message(1, b"\x42\x00")]


# --------------------------------------------------------------------------- replaying pages


def scripted_pages(entries_per_page):
    pages = []
    for k, chunk in enumerate(entries_per_page):
        last = k == len(entries_per_page) - 1
        pages.append([(None, e, b"") for e in chunk]
                     + [(None, *done(cookie=None if last else f"c{k}".encode()))])
    return pages


def first_read(pages_script, chunk=64):
    conn, _ = wire([list(p) for p in pages_script], chunk)
    answer = conn.read(BASE, ["cn"], page_size=2, keep_pages=True)
    return answer


@pytest.mark.parametrize("chunk", [1, 7, 100_000])
def test_the_same_answer_again_is_only_compared(chunk):
    script = scripted_pages([ENTRIES[:2], ENTRIES[2:]])
    kept = first_read(script).pages
    assert [c for _, c, _ in kept] == [b"c0", b""]
    conn, _ = wire([list(p) for p in script], chunk)
    again = conn.read(BASE, ["cn"], page_size=2, expected=kept)
    assert again.unchanged
    assert again.entries == ENTRIES  # cut from the kept pages when asked for
    assert again.pages == kept


@pytest.mark.parametrize("chunk", [1, 7, 100_000])
@pytest.mark.parametrize("change", ["a value", "an entry less", "an entry more",
                                    "first page", "a page more"])
def test_any_difference_is_read_as_usual(chunk, change):
    old = [ENTRIES[:2], ENTRIES[2:]]
    kept = first_read(scripted_pages(old)).pages
    changed_entry = entry_op(f"hsaIdentity=SE1-P1,ou=Norr,{BASE}", {
        "hsaIdentity": [b"SE1-P1"], "title": [b"A", b"C"], "cn": [b""]})
    new = {
        "a value": [ENTRIES[:2], [changed_entry]],
        "an entry less": [ENTRIES[:2], []],
        "an entry more": [ENTRIES[:2], [ENTRIES[2], changed_entry]],
        "first page": [[ENTRIES[1], ENTRIES[0]], ENTRIES[2:]],
        "a page more": [ENTRIES[:2], ENTRIES[2:], [changed_entry]],
    }[change]
    conn, _ = wire(scripted_pages(new), chunk)
    answer = conn.read(BASE, ["cn"], page_size=2, expected=kept, keep_pages=True)
    assert not answer.unchanged
    assert answer.entries == [e for page in new for e in page]
    conn, _ = wire(scripted_pages(new), chunk)  # its pages replay as the new answer
    assert conn.read(BASE, ["cn"], page_size=2, expected=answer.pages).unchanged


def test_a_kept_page_that_does_not_end_the_page_is_read_again_not_trusted():
    kept = first_read(scripted_pages([ENTRIES])).pages
    torn = [(kept[0][0][:-5], b"", kept[0][2])]  # a damaged page: its end is missing
    conn, _ = wire(scripted_pages([ENTRIES]), 100_000)
    answer = conn.read(BASE, ["cn"], expected=torn)
    assert not answer.unchanged and answer.entries == ENTRIES


@pytest.mark.parametrize("damage", ["done moved", "other cookie", "no done there"])
def test_kept_pages_are_checked_before_a_read_stops_at_their_end(damage):
    script = scripted_pages([ENTRIES[:2], ENTRIES[2:]])
    kept = first_read(script).pages
    page, cookie, done_at = kept[0]
    if damage == "done moved":
        kept[0] = (page, cookie, done_at - 1)
    elif damage == "other cookie":
        kept[0] = (page, b"c9", done_at)
    else:
        kept[0] = (page, cookie, len(page))  # no SearchResultDone there at all
    conn, _ = wire([list(p) for p in script], 64)
    answer = conn.read(BASE, ["cn"], page_size=2, expected=kept)
    assert not answer.unchanged and answer.entries == ENTRIES


def test_the_base_going_away_after_the_first_page_is_an_error_not_an_empty_tree():
    page1 = [(None, ENTRIES[0], b""), (None, *done(cookie=b"c1"))]
    page2 = [(None, *done(code=32, cookie=None))]
    conn, _ = wire([page1, page2], 64)
    with pytest.raises(LdapConnectError, match="went away"):
        conn.search(BASE, ["cn"], page_size=1)


def test_an_empty_password_is_refused_before_any_connection():
    """A simple bind with a name and an empty password is "unauthenticated" (RFC 4513
    5.1.2): a server may accept it as anonymous, and the read would be partial."""
    from ansible_collections.webcert_siths.onboarding.plugins.module_utils.directory.ldap import (
        LdapConfigError,
        check_settings,
    )

    with pytest.raises(LdapConfigError, match="empty"):
        check_settings(LdapSettings(uri="ldaps://h", base_dn=BASE, bind_dn="cn=x",
                                    bind_password=""))
    assert check_settings(LdapSettings(uri="ldaps://h", base_dn=BASE))  # anonymous: fine
