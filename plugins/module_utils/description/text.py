"""Which characters a text value may hold, and how any value is shown to a person.

A value in the description ends up in the directory and in texts people read: the plan,
the change request for the HSA agent (ombud), findings in a terminal or a CI log. A
newline, a carriage return or an ANSI escape inside a name would read there as a forged
line or a recoloured terminal; a bidirectional override would show the letters of a name
in another order than they are stored. So:

* ``control_problem(text)``: C0 and C1 control characters (tab, newline and carriage
  return included) and the Unicode line and paragraph separators are refused in every
  text value.
* ``invisible_warning(text)``: bidirectional overrides and isolates (U+202A-U+202E,
  U+2066-U+2069) and zero-width characters are warned about in names.
* ``visible(value)``: the text with every such character written as a visible escape
  (``\\n``, ``\\x1b``, ``\\u202e``); use it wherever a value is put in a human-facing text.
* ``excerpt(value)``: a short, visible excerpt of a value for a message.
"""

from __future__ import annotations

import re

from ..i18n.core import _

# C0 controls (tab, LF and CR included), DEL, C1 controls, line and paragraph separator.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
ZERO_WIDTH = re.compile("[\u200b-\u200f\u2060\u180e\ufeff]")  # incl. LRM/RLM marks
_SHOWN_ESCAPED = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200b-\u200f\u2060\u180e\ufeff]"
)
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NAMES = {0: "NUL", 7: "BEL", 8: "BS", 9: "TAB", 0x0A: "LF", 0x0B: "VT", 0x0C: "FF",
          0x0D: "CR", 0x1B: "ESC", 0x7F: "DEL", 0x2028: "LINE SEPARATOR",
          0x2029: "PARAGRAPH SEPARATOR", 0x202E: "RIGHT-TO-LEFT OVERRIDE",
          0x202D: "LEFT-TO-RIGHT OVERRIDE", 0x200B: "ZERO WIDTH SPACE",
          0x200D: "ZERO WIDTH JOINER", 0xFEFF: "ZERO WIDTH NO-BREAK SPACE"}

EXCERPT_MAX = 60  # characters of a value a message quotes at most


def _escape(match: re.Match) -> str:
    char = match.group(0)
    short = _SHORT.get(char)
    if short:
        return short
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(value) -> str:
    """``value`` as text in which every control, bidirectional and zero-width character is a
    visible escape, so it cannot start a new line, recolour a terminal or reorder letters."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():  # fast path: none of them (all are non-printable)
        return text
    return _SHOWN_ESCAPED.sub(_escape, text)


def excerpt(value, limit: int = EXCERPT_MAX) -> str:
    """At most ``limit`` characters of ``value`` (then "…"), made visible."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    return visible(text)


def char_name(char: str) -> str:
    code = ord(char)
    name = _NAMES.get(code)
    return f"U+{code:04X} ({name})" if name else f"U+{code:04X}"


def control_problem(text: str):
    """(message, hint) when ``text`` holds a control character, else None."""
    if text.isprintable():
        return None
    match = CONTROL.search(text)
    if match is None:
        return None
    return (
        _("contains the control character %(char)s at position %(position)s; a value must be "
          "one line of plain text", char=char_name(match.group(0)), position=match.start() + 1),
        _("remove it: tabs, line breaks and other control characters are not allowed in any "
          "value (in a plan or a change request they would read as extra lines)"),
    )


def invisible_warning(text: str):
    """(message, hint) when a name holds a bidirectional override or a zero-width
    character, else None."""
    if text.isprintable():
        return None
    match = BIDI.search(text) or ZERO_WIDTH.search(text)
    if match is None:
        return None
    if BIDI.match(match.group(0)):
        message = _("contains the invisible bidirectional override %(char)s at position "
                    "%(position)s; the name would look different from what is stored",
                    char=char_name(match.group(0)), position=match.start() + 1)
    else:
        message = _("contains the invisible zero-width character %(char)s at position "
                    "%(position)s; the name would look different from what is stored",
                    char=char_name(match.group(0)), position=match.start() + 1)
    return (
        message,
        _("retype the name; such characters usually come from copying text from a web page "
          "or a PDF"),
    )
