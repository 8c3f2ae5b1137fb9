"""``--help`` that reads as prose: two corrections to how typer renders our help.

Both come from typer's rich help renderer (``typer.rich_utils``, typer 0.29), not from how the
commands are declared:

- It prints every option's value type, flags included: ``TyperOption.display_type_rich`` has no
  case for an option that takes no value, so ``--help``, ``--soft`` or ``--strict/--no-strict``
  showed ``<bool>`` as if they wanted one (click itself shows no type for a flag).
  :func:`flags_take_no_value` gives flags no type column, once, for this process.
- In a group's list of commands and in the paragraphs after a command's first, it keeps the
  docstring's single line breaks (``_make_command_help`` and ``_fix_linebreaks``), so a
  sentence wrapped at 100 columns in the source came out broken in the middle.
  :class:`ProseGroup` joins each paragraph of every command's help to one line when the command
  tree is built; rich then wraps it to the terminal.

``tests/test_cli_polish.py`` walks every command's ``--help`` and fails if either comes back.
"""

from __future__ import annotations

import re

import typer.core

__all__ = ["ProseGroup", "flags_take_no_value", "prose"]

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def prose(text: str | None) -> str | None:
    """``text`` (a docstring) with each paragraph on one line; paragraphs stay apart. A
    paragraph that starts with ``\\b`` (click's "keep my line breaks") is left as it is."""
    if not text:
        return text
    import inspect

    paragraphs = _PARAGRAPH_BREAK.split(inspect.cleandoc(text))
    return "\n\n".join(p if p.startswith("\b") else " ".join(p.split())
                       for p in paragraphs)


def flags_take_no_value() -> None:
    """Show no value type (``<bool>``) for options that take no value: ``--help`` and every
    on/off flag. Idempotent."""
    option = typer.core.TyperOption
    original = option.display_type_rich
    if getattr(original, "_salesplan_flags", False):
        return

    def display_type_rich(self, ctx):
        if self.is_flag and not self.count and self.metavar is None:
            return None
        return original(self, ctx)

    display_type_rich._salesplan_flags = True  # type: ignore[attr-defined]
    option.display_type_rich = display_type_rich


def _tidy(command) -> None:
    command.help = prose(command.help)
    if getattr(command, "short_help", None):
        command.short_help = prose(command.short_help)
    for param in command.params:
        if getattr(param, "help", None):
            param.help = prose(param.help)
    for sub in getattr(command, "commands", {}).values():
        _tidy(sub)


class ProseGroup(typer.core.TyperGroup):
    """The root group: every command's and group's help (and each option's) as paragraphs of
    one line each, so typer's renderer cannot break a sentence where the source wrapped it."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _tidy(self)
