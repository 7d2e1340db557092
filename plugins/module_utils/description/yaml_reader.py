"""Read one YAML file into a node tree that keeps line numbers, with clear findings.

The file is composed (not constructed) with a safe loader, so every mapping,
sequence and scalar keeps its start line; ``hsa_validate`` turns the nodes into
model objects. Problems a person can make in an editor get a plain answer:
BOM (accepted), Windows line endings (accepted), tabs used for indentation, an
empty file, invalid UTF-8 (with byte offset and line), NUL and other control
characters, several documents in one file, and alias "bombs" (anchors that
expand into huge trees).
"""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass, field

import yaml

from ..i18n.core import _
from .model import (
    ERROR,
    Finding,
)
from .text import (
    excerpt,
)

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ALIAS_EXPANSION = 100_000  # nodes reachable through aliases, summed over a file
MAX_REPORTED = 20  # per kind of character problem in one file

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_STR_TAG = "tag:yaml.org,2002:str"
_NULL_TAG = "tag:yaml.org,2002:null"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
# First characters for which YAML 1.1 may resolve a plain scalar to something other
# than a string (bool, int, float, null, timestamp, merge, value).
_MAYBE_TYPED = frozenset("yYnNtTfFoO-+0123456789.<~=")


class LineLoader(_BaseLoader):
    """Safe loader used only to compose nodes; every node carries ``start_mark.line``.

    ``resolve`` has a fast path: a plain scalar whose first character cannot start
    a bool, number, null or date is a string. This halves the time for large files.
    """

    def resolve(self, kind, value, implicit):
        if kind is yaml.ScalarNode and implicit[0]:
            if not value:
                return _NULL_TAG
            if value[0] not in _MAYBE_TYPED:
                return _STR_TAG
        elif kind is yaml.ScalarNode:
            return _STR_TAG  # quoted: always a string
        elif kind is yaml.MappingNode:
            return _MAP_TAG
        elif kind is yaml.SequenceNode:
            return _SEQ_TAG
        return super().resolve(kind, value, implicit)


# C0 controls except tab, LF, CR; DEL; C1 controls.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_ANCHOR = re.compile(r"(?:^|[\s\[{,])&[^\s\[\]{},]")
_CONTROL_NAMES = {0: "NUL", 7: "BEL", 8: "BS", 0x0B: "VT", 0x0C: "FF", 0x1B: "ESC", 0x7F: "DEL"}


def control_name(char: str) -> str:
    code = ord(char)
    name = _CONTROL_NAMES.get(code)
    return f"U+{code:04X} ({name})" if name else f"U+{code:04X}"


def find_control(text: str):
    """First control character in a string value, or None."""
    match = _CONTROL.search(text)
    return match.group(0) if match else None


@dataclass
class YamlDoc:
    file: str
    root: yaml.Node | None = None
    empty: bool = False
    findings: list[Finding] = field(default_factory=list)
    data: bytes | None = None  # the bytes read (None when the file could not be read)


def _error(doc: YamlDoc, line: int, message: str, hint: str, value=None) -> None:
    doc.findings.append(Finding(ERROR, doc.file, line, "", value, message, hint))


def read_yaml_file(path: str, display: str) -> YamlDoc:
    """Read ``path`` (shown in messages as ``display``) into a YamlDoc."""
    doc = YamlDoc(display)
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            _error(
                doc,
                0,
                _("file is %(size)s, more than the %(max)s a description file may have",
                  size=_size(size), max=_size(MAX_FILE_BYTES)),
                _("split it into a folder of smaller files, e.g. one per unit"),
            )
            return doc
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        _error(doc, 0, _("cannot be read: %(reason)s", reason=exc.strerror or exc),
               _("check the path and permissions"))
        return doc
    doc.data = data
    return read_yaml_bytes(data, display, doc)


def _size(count: int) -> str:
    if count >= 104858:
        return _("%(size)s MB", size=format(count / 1048576, ".1f"))
    return _("%(size)s bytes", size=format(count, ","))


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def read_yaml_bytes(data: bytes, display: str, doc: YamlDoc | None = None) -> YamlDoc:
    doc = doc or YamlDoc(display)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        _error(doc, 1, _("file is saved as UTF-16"),
               _("save it as UTF-8 (in Notepad: Save as > UTF-8)"))
        return doc
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        _error(
            doc,
            line,
            _("byte %(offset)s (%(byte)s) is not valid UTF-8", offset=exc.start,
              byte="0x" + format(data[exc.start], "02x")),
            _("save the file as UTF-8; it was probably saved as Windows-1252/Latin-1"),
        )
        return doc
    if not text.strip():
        doc.empty = True
        return doc
    if _check_control(doc, text):
        return doc
    loader = LineLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        _syntax_error(doc, text, exc)
        return doc
    except yaml.YAMLError as exc:
        _error(doc, 0, _("is not valid YAML: %(problem)s", problem=excerpt(str(exc), 200)),
               _("check the syntax"))
        return doc
    finally:
        loader.dispose()
    if root is None or (isinstance(root, yaml.ScalarNode) and root.tag.endswith(":null")):
        doc.empty = True
        return doc
    if "&" in text and _ANCHOR.search(text) and not _check_aliases(doc, root):
        return doc
    doc.root = root
    return doc


def _check_control(doc: YamlDoc, text: str) -> bool:
    found = False
    for count, match in enumerate(_CONTROL.finditer(text)):
        if count >= MAX_REPORTED:
            break
        found = True
        line = _line_of(text, match.start())
        column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
        _error(
            doc,
            line,
            _("control character %(char)s at column %(column)s is not allowed",
              char=control_name(match.group(0)), column=column),
            _("remove it; the file must be plain UTF-8 text"),
        )
    return found


def _tab_lines(text: str) -> list[int]:
    lines = []
    for number, line in enumerate(text.splitlines(), 1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent:
            lines.append(number)
    return lines


def _syntax_error(doc: YamlDoc, text: str, exc: yaml.MarkedYAMLError) -> None:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 0
    tabs = _tab_lines(text)
    for number in tabs[:MAX_REPORTED]:
        _error(
            doc,
            number,
            _("a tab character is used for indentation"),
            _("YAML allows only spaces for indentation: replace the tab with spaces "
              "(set your editor to insert spaces)"),
        )
    problem = exc.problem or "invalid YAML"
    if tabs and ("\\t" in problem or "tab" in problem):
        return
    # The parser's own words (English) are the technical part, for IT.
    said = problem + (f"; {exc.context}" if exc.context else "")
    if exc.context_mark and exc.context_mark is not mark:
        said += f" (line {exc.context_mark.line + 1})"
    if "expected a single document" in (exc.context or ""):
        _error(
            doc,
            line,
            _("holds more than one YAML document (a second '---')"),
            _("keep one document per file; split it into several files in the folder"),
        )
        return
    if mark:
        message = _("YAML syntax error at column %(column)s (for IT, the YAML parser says: "
                    "%(said)s)", column=mark.column + 1, said=said)
    else:
        message = _("YAML syntax error (for IT, the YAML parser says: %(said)s)", said=said)
    _error(
        doc,
        line,
        message,
        _("check indentation (spaces only, same depth for sibling keys), colons and quotes "
          "on this line and the one above"),
    )


def _check_aliases(doc: YamlDoc, root: yaml.Node) -> bool:
    """Refuse recursive aliases and aliases that expand to more than MAX_ALIAS_EXPANSION nodes."""
    sizes: dict[int, int] = {}
    seen: set[int] = set()
    expanded = 0
    line = 0

    def children(node):
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                yield key
                yield value
        elif isinstance(node, yaml.SequenceNode):
            yield from node.value

    # Iterative post-order walk computing subtree sizes (with alias re-use counted).
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    on_path: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children(node))
            continue
        if key in on_path:
            _error(
                doc,
                node.start_mark.line + 1,
                _("an alias refers to a mapping or list that contains itself"),
                _("remove the recursive alias (*name); write the values out"),
            )
            return False
        if key in seen:
            if key in sizes:
                expanded += sizes[key]
            continue
        seen.add(key)
        on_path.add(key)
        stack.append((node, True))
        for child in children(node):
            if id(child) in seen and id(child) in sizes:
                expanded += sizes[id(child)]
            else:
                stack.append((child, False))
        if expanded > MAX_ALIAS_EXPANSION:
            line = node.start_mark.line + 1  # where the expansion went over the limit
            break
    if expanded > MAX_ALIAS_EXPANSION:
        _error(
            doc,
            line,
            _("anchors and aliases (&name / *name) expand to more than %(max)s values",
              max=format(MAX_ALIAS_EXPANSION, ",")),
            _("write the values out instead of nesting aliases"),
        )
        return False
    return True
