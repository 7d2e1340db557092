"""Where SITHS certificates come from (the I/O edge of the certificate check).

* files and folders: PEM (one or many certificates per file) or DER
  (``*.pem``, ``*.crt``, ``*.cer``, ``*.der``, ``*.cert`` below a folder; any named file);
* the directory: ``userCertificate;binary`` on person entries, read with one paged
  subtree search (``directory.client.Connection.search``); the entry's ``hsaIdentity`` is kept as
  the certificate's owner;
* a JSON file of certificates gathered from Windows hosts' stores:
  ``[{"host": "pc-01", "store": "CurrentUser\\\\My", "thumbprint": "AB12…",
  "der_base64": "MII…"}]`` (or ``"pem"`` instead of ``der_base64``), optionally
  wrapped as ``{"certificates": [...]}``.

Every reader returns ``(records_or_items, problems)``; a bad file is a problem that
names the file (and the list index), never an exception.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding

from .verify import (
    CertRecord,
    InputProblem,
    parse_certificates,
)

CERT_SUFFIXES = (".pem", ".crt", ".cer", ".der", ".cert")
CRL_SUFFIXES = (".crl", ".pem")
MAX_FILE_BYTES = 20 * 1024 * 1024
LDAP_FILTER = "(userCertificate=*)"
LDAP_ATTRIBUTES = ["hsaIdentity", "userCertificate;binary"]


def read_files(
    paths: Iterable[str], suffixes: tuple[str, ...] = CERT_SUFFIXES, what: str = "certificate"
) -> tuple[list[tuple[str, bytes]], list[InputProblem]]:
    """``(path, bytes)`` of each named file, and of each file with ``suffixes`` below folders."""
    items: list[tuple[str, bytes]] = []
    problems: list[InputProblem] = []
    for raw in paths:
        path = Path(os.path.expanduser(str(raw)))
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes
            )
            if not found:
                problems.append(
                    InputProblem(
                        str(path),
                        "warning",
                        f"folder holds no {what} files ({', '.join(suffixes)})",
                    )
                )
            files = found
        elif path.is_file():
            files = [path]
        else:
            problems.append(InputProblem(str(path), "error", f"{what} path does not exist"))
            continue
        for file in files:
            try:
                if file.stat().st_size > MAX_FILE_BYTES:
                    problems.append(
                        InputProblem(
                            str(file),
                            "error",
                            f"file is larger than {MAX_FILE_BYTES} bytes — skipped",
                        )
                    )
                    continue
                items.append((str(file), file.read_bytes()))
            except OSError as exc:
                problems.append(
                    InputProblem(str(file), "error", f"cannot read file: {exc.strerror or exc}")
                )
    return items, problems


def load_cert_files(paths: Iterable[str]) -> tuple[list[CertRecord], list[InputProblem]]:
    items, problems = read_files(paths)
    records: list[CertRecord] = []
    for path, data in items:
        records.extend(parse_certificates(data, f"file:{path}"))
    return records, problems


# -- host-gathered certificates ------------------------------------------------------
def host_cert_records(doc: Any, origin: str) -> tuple[list[CertRecord], list[InputProblem]]:
    """Records from the parsed host-certificates JSON (pure; ``origin`` names the file)."""
    problems: list[InputProblem] = []
    records: list[CertRecord] = []
    items = doc.get("certificates") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        return [], [
            InputProblem(
                origin,
                "error",
                "expected a JSON list of {host, store, thumbprint, der_base64|pem}"
                ' (or {"certificates": [...]})',
            )
        ]
    for index, item in enumerate(items):
        where = f"{origin}[{index}]"
        if not isinstance(item, dict):
            problems.append(InputProblem(where, "error", "entry is not an object — skipped"))
            continue
        host = str(item.get("host") or "").strip()
        if not host:
            problems.append(InputProblem(where + ".host", "error", "host is missing — skipped"))
            continue
        store = str(item.get("store") or "").strip()
        source = f"host:{host}" + (f"/{store}" if store else "")
        if item.get("der_base64"):
            try:
                data = base64.b64decode(str(item["der_base64"]), validate=True)
            except (binascii.Error, ValueError):
                records.append(
                    CertRecord(source=source, problems=(f"{where}.der_base64 is not valid base64",))
                )
                continue
        elif item.get("pem"):
            data = str(item["pem"]).encode()
        else:
            problems.append(
                InputProblem(where, "error", "neither der_base64 nor pem is set — skipped")
            )
            continue
        parsed = parse_certificates(data, source)
        thumb = str(item.get("thumbprint") or "").replace(" ", "").lower()
        for rec in parsed:
            if thumb and rec.cert is not None:
                # Windows names certificates by their SHA-1 thumbprint (an identifier here)
                sha1 = hashlib.sha1(
                    rec.cert.public_bytes(Encoding.DER), usedforsecurity=False
                ).hexdigest()
                if sha1 != thumb:
                    rec = replace(
                        rec,
                        warnings=(
                            *rec.warnings,
                            f"thumbprint {thumb} in {where} does not match "
                            f"the certificate ({sha1})",
                        ),
                    )
            records.append(rec)
    return records, problems


def load_host_certs(path: str) -> tuple[list[CertRecord], list[InputProblem]]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        return [], [InputProblem(path, "error", f"cannot read file: {exc.strerror or exc}")]
    except UnicodeDecodeError:
        return [], [InputProblem(path, "error", "file is not UTF-8 text (expected JSON)")]
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [
            InputProblem(
                f"{path}:{exc.lineno}",
                "error",
                f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            )
        ]
    return host_cert_records(doc, path)


# -- directory ----------------------------------------------------------------------
def _values(attrs: dict, wanted: str) -> list:
    wanted = wanted.lower()
    for key, value in (attrs or {}).items():
        if key.lower() == wanted:
            return list(value) if isinstance(value, list | tuple) else [value]
    return []


def ldap_entry_records(entries: Iterable[dict]) -> list[CertRecord]:
    """Records from search entries (``dn``, ``attributes``, ``raw_attributes``), pure."""
    records: list[CertRecord] = []
    for entry in entries:
        dn = entry.get("dn", "")
        ids = _values(entry.get("attributes", {}), "hsaIdentity")
        owner = str(ids[0]) if ids else None
        raw = entry.get("raw_attributes", {}) or {}
        values = _values(raw, "userCertificate;binary") or _values(raw, "userCertificate")
        many = len(values) > 1
        for index, value in enumerate(values, start=1):
            data = value if isinstance(value, bytes) else str(value).encode()
            source = f"ldap:{dn}" + (f"#{index}" if many else "")
            records.extend(parse_certificates(data, source, owner=owner))
    return records


def load_ldap_certs(conn, base_dn: str) -> list[CertRecord]:
    """All certificates on entries below ``base_dn``, with one paged subtree search
    (``conn``: a ``directory.client.Connection``)."""
    return ldap_entry_records(
        {"dn": dn, "raw_attributes": attrs,
         "attributes": {"hsaIdentity": [v.decode("utf-8", "replace")
                                        for v in _values(attrs, "hsaIdentity")]}}
        for dn, attrs in conn.search(base_dn, LDAP_FILTER, LDAP_ATTRIBUTES))
