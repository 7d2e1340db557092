"""The messages playbooks print through the ``message`` filter: every key a playbook or
role uses exists, every key is used, the placeholders a playbook fills are exactly the
message's, and each message reads in Swedish by default and in English on request."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.webcert_siths.onboarding.plugins.filter.message import message
from ansible_collections.webcert_siths.onboarding.plugins.module_utils.i18n.playbook_messages import (
    MESSAGES,
)

ROOT = Path(__file__).resolve().parents[2]
CALL = re.compile(r"'(\w+)'\s*\|\s*webcert_siths\.onboarding\.message\(")
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _arguments(text: str, start: int) -> str:
    """The text between the call's parentheses (balanced), starting after '('."""
    depth, i = 1, start
    while depth:
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        i += 1
    return text[start:i - 1]


def _top_level_keywords(args: str) -> set[str]:
    depth, names = 0, set()
    for m in re.finditer(r"[()\[\]]|\b(\w+)=(?!=)", args):
        tok = m.group(0)
        if tok in "([":
            depth += 1
        elif tok in ")]":
            depth -= 1
        elif depth == 0:
            names.add(m.group(1))
    return names


def uses() -> list[tuple[str, str, set[str]]]:
    found = []
    for path in sorted([*ROOT.glob("playbooks/**/*.yml"), *ROOT.glob("roles/*/tasks/*.yml")]):
        text = path.read_text(encoding="utf-8")
        for m in CALL.finditer(text):
            found.append((f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}",
                          m.group(1), _top_level_keywords(_arguments(text, m.end()))))
    return found


def test_every_key_used_exists_with_exactly_the_placeholders_given():
    found = uses()
    assert len(found) >= 15, found  # the scan itself works
    for where, key, given in found:
        assert key in MESSAGES, f"{where}: no message {key!r}"
        wanted = set(PLACEHOLDER.findall(MESSAGES[key]))
        assert given == wanted, f"{where}: {key} fills {sorted(given)}, needs {sorted(wanted)}"


def test_every_message_is_used_by_a_playbook():
    used = {key for _, key, _ in uses()}
    assert set(MESSAGES) - used == set()


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_swedish_by_default_english_on_request(key):
    params = {name: f"<{name}>" for name in PLACEHOLDER.findall(MESSAGES[key])}
    english = message(key, "en", **params)
    swedish = message(key, **params)
    assert english == MESSAGES[key] % params
    assert swedish != english and swedish == message(key, "sv", **params)
    for value in params.values():
        assert value in swedish


def test_an_unknown_key_or_a_missing_placeholder_is_named():
    with pytest.raises(AnsibleFilterError, match="no message 'hsa_nope'"):
        message("hsa_nope")
    with pytest.raises(AnsibleFilterError, match="needs the parameter path"):
        message("hsa_apply_report", "sv")
    with pytest.raises(AnsibleFilterError, match="de"):
        message("hsa_check_mode", "de")
