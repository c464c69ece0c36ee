"""DLT content templates: parse `{#var#}` slots (and the 2026 typed tags) and match rendered messages.

A template body is fixed text with slots. The operator's scrubber rejects a message whose fixed text differs from
the registered template by one character, so parsing is strict and errors name the position.
"""

import re
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

SLOT_KINDS = ("var", "numeric", "alphanumeric", "url", "urlott", "cbn", "email")
_TAG = re.compile(r"\{#(" + "|".join(SLOT_KINDS) + r")#\}")
_KIND_WORDS = "|".join(SLOT_KINDS)
# Anything that looks like a placeholder but is not one of the tags above: `{#var1#}`, `{#VAR#}`, `{# var #}`,
# `{#var}`, `{var#}`, `{var}`, `##var##`, `#var#`. Checked on the fixed text only, so real tags never match.
_LOOKALIKE = re.compile(
    r"\{\s*#[^{}\n]{0,20}?\}"  # {#var1#}, {#VAR#}, {# var #}, {#var}
    r"|\{\s*#"  # {# with nothing that closes it
    r"|\{[^{}#\n]{0,20}#\s*\}"  # {var#}
    r"|#\s*\}"  # var#} with no opening brace
    r"|##\s*\w+\s*##"  # ##var##
    rf"|\{{\s*(?i:{_KIND_WORDS})\d*\s*\}}"  # {var}, {VAR1}
    rf"|(?<!#)#\s*(?i:{_KIND_WORDS})\d*\s*#(?!#)"  # #var#
)
# Characters a typed slot accepts; `var` accepts anything.
_SLOT_CHARS = {
    "var": r".",
    "numeric": r"[0-9]",
    "alphanumeric": r"[A-Za-z0-9]",
    "url": r"\S",
    "urlott": r"\S",
    "cbn": r"[0-9+\- ]",
    "email": r"\S",
}
_SLOT_MAX = {"alphanumeric": 40}
_SLOT_WORDS = {
    "numeric": "digits only",
    "alphanumeric": "letters A-Z and digits only",
    "url": "one web link",
    "urlott": "one web link",
    "cbn": "a phone number (digits, +, - and spaces)",
    "email": "one email address",
}
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")


class TemplateError(ValueError):
    """A template body that a DLT portal would not accept, with the 1-based character position."""

    def __init__(self, message: str, position: int | None = None):
        self.position = position
        super().__init__(f"{message} (at character {position})" if position else message)


@dataclass(frozen=True)
class ParsedTemplate:
    fixed: tuple[str, ...]  # len(slots) + 1 pieces of fixed text around the slots
    slots: tuple[str, ...]  # the kind of each slot, in order: "var", "url", ...

    def render(self, values: list[str]) -> str:
        if len(values) != len(self.slots):
            raise ValueError(f"the template has {len(self.slots)} slots, {len(values)} values were given")
        pieces = [self.fixed[0]]
        for value, fixed in zip(values, self.fixed[1:], strict=True):
            pieces += [value, fixed]
        return "".join(pieces)

    def matches(self, message: str, max_length: int | None = None) -> bool:
        """True when the operator's scrubber would accept `message` for this template."""
        return self.matcher(max_length).fullmatch(message) is not None

    def matcher(self, max_length: int | None = None) -> re.Pattern:
        """The pattern of `matches`, for a caller matching many messages."""
        return _matcher(self, max_length or settings.DLT_VARIABLE_MAX_LENGTH)


def parse_template(body: str) -> ParsedTemplate:
    """Split a body into fixed text and slots; raises TemplateError naming the first problem and its position."""
    if not body.strip():
        raise TemplateError("The template is empty")
    fixed: list[str] = []
    slots: list[str] = []
    start = 0
    for tag in _TAG.finditer(body):
        _check_lookalikes(body, start, tag.start())
        fixed.append(body[start : tag.start()])
        slots.append(tag.group(1))
        start = tag.end()
    _check_lookalikes(body, start, len(body))
    fixed.append(body[start:])
    _check_braces(_TAG.sub(lambda tag: " " * len(tag.group(0)), body))
    return ParsedTemplate(fixed=tuple(fixed), slots=tuple(slots))


def _check_lookalikes(body: str, start: int, end: int) -> None:
    lookalike = _LOOKALIKE.search(body, start, end)
    if lookalike:
        raise TemplateError(
            f"'{lookalike.group(0)}' looks like a variable but is not one: write {{#var#}} exactly, in lower case "
            f"with no spaces or numbers (or a typed tag: {', '.join('{#' + k + '#}' for k in SLOT_KINDS[1:])})",
            lookalike.start() + 1,
        )


def _check_braces(text: str) -> None:
    """Braces in the fixed text must pair up (tags already blanked out, positions unchanged)."""
    opened: list[int] = []
    for offset, char in enumerate(text):
        if char == "{":
            opened.append(offset)
        elif char == "}":
            if not opened:
                raise TemplateError("'}' closes a brace that was never opened", offset + 1)
            opened.pop()
    if opened:
        raise TemplateError("'{' is opened and never closed", opened[0] + 1)


def slot_limit(kind: str, max_length: int | None = None) -> int:
    """The most characters a slot of this kind takes (alphanumeric 40, the others DLT_VARIABLE_MAX_LENGTH)."""
    return _SLOT_MAX.get(kind, max_length or settings.DLT_VARIABLE_MAX_LENGTH)


def slot_value_problem(kind: str, value: str, max_length: int | None = None) -> str | None:
    """Why `value` cannot fill a slot of this kind, in words; None when it fits."""
    limit = slot_limit(kind, max_length)
    if len(value) > limit:
        return f"it is {len(value)} characters and a {{#{kind}#}} variable takes at most {limit}"
    if not value or kind == "var":
        return None
    if not re.fullmatch(f"{_SLOT_CHARS[kind]}*", value) or (kind == "email" and not _EMAIL.fullmatch(value)):
        return f"a {{#{kind}#}} variable takes {_SLOT_WORDS[kind]}"
    return None


@lru_cache(maxsize=256)
def _matcher(parsed: ParsedTemplate, max_length: int) -> re.Pattern:
    """Fixed text exactly (regex metacharacters escaped), each slot 0..limit characters of its kind."""
    pattern = re.escape(parsed.fixed[0])
    for kind, fixed in zip(parsed.slots, parsed.fixed[1:], strict=True):
        pattern += f"({_SLOT_CHARS[kind]}{{0,{slot_limit(kind, max_length)}}})" + re.escape(fixed)
    return re.compile(pattern, re.DOTALL)
