"""Text a scenario may hold: well-formed Unicode, without NUL characters.

A lone surrogate (U+D800..U+DFFF, which JSON can spell as ``"\\ud800"``) is not a character: it
cannot be written as UTF-8, so a file, a database row or a web page holding it breaks later,
far from where it came in. A NUL character truncates text in C libraries and databases. Both are
refused where a scenario is read, with the path of the field, so nothing downstream ever sees
them.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["bad_text", "text_problems"]

_BAD = re.compile("[\x00\ud800-\udfff]")
_ID_KEYS = ("id", "name", "role", "grade")


def bad_text(value: str) -> str | None:
    """Why ``value`` is not acceptable text (None when it is)."""
    m = _BAD.search(value)
    if m is None:
        return None
    ch = m.group()
    if ch == "\x00":
        return f"contains a NUL character at position {m.start()}"
    return (f"contains a lone surrogate U+{ord(ch):04X} at position {m.start()}, which is not "
            "valid Unicode")


def _label(item: Any, index: int) -> str:
    if isinstance(item, dict):
        for key in _ID_KEYS:
            v = item.get(key)
            if isinstance(v, str) and v.strip() and bad_text(v) is None:
                return v.strip()
    return str(index)


def _surely_clean(doc: Any) -> bool:
    """True when ``doc`` certainly holds no bad text: its JSON text has no escaped NUL and
    encodes as UTF-8 (a lone surrogate cannot). One pass in C, so a clean document (the usual
    case) costs no walk."""
    try:
        text = json.dumps(doc, ensure_ascii=False, default=str)
        text.encode("utf-8")
    except (UnicodeEncodeError, TypeError, ValueError, RecursionError):
        return False
    return "\\u0000" not in text


def text_problems(doc: Any, path: str = "") -> list[tuple[str, str]]:
    """Every string (keys included) in a parsed document that :func:`bad_text` refuses, as
    ``(path, message)``; list items are named by their id where they have one."""
    if not path and _surely_clean(doc):
        return []
    out: list[tuple[str, str]] = []
    if isinstance(doc, str):
        why = bad_text(doc)
        if why:
            out.append((path, why))
    elif isinstance(doc, dict):
        for key, value in doc.items():
            if isinstance(key, str) and (why := bad_text(key)):
                out.append((path, f"a key {why}"))
                continue
            out += text_problems(value, f"{path}.{key}" if path else str(key))
    elif isinstance(doc, list | tuple):
        for i, item in enumerate(doc):
            out += text_problems(item, f"{path}[{_label(item, i)}]")
    return out
