"""DLT content templates: parse `{#var#}` slots (and the 2026 typed tags) and match rendered messages.

A template body is fixed text with slots. The operator's scrubber rejects a message whose fixed text differs from
the registered template by one character, so parsing is strict and errors name the position.
"""

import re
from dataclasses import dataclass

from django.conf import settings

SLOT_KINDS = ("var", "numeric", "alphanumeric", "url", "urlott", "cbn", "email")
_TAG = re.compile(r"\{#(" + "|".join(SLOT_KINDS) + r")#\}")
# Anything that looks like a placeholder but is not one of the tags above.
_LOOKALIKE = re.compile(r"\{\s*#|#\s*\}|##\s*\w+\s*##")
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
        return _matcher(self, max_length or settings.DLT_VARIABLE_MAX_LENGTH).fullmatch(message) is not None


def parse_template(body: str) -> ParsedTemplate:
    fixed: list[str] = []
    slots: list[str] = []
    start = 0
    for tag in _TAG.finditer(body):
        _check_fixed_text(body, start, tag.start())
        fixed.append(body[start : tag.start()])
        slots.append(tag.group(1))
        start = tag.end()
    _check_fixed_text(body, start, len(body))
    fixed.append(body[start:])
    return ParsedTemplate(fixed=tuple(fixed), slots=tuple(slots))


def _check_fixed_text(body: str, start: int, end: int) -> None:
    text = body[start:end]
    lookalike = _LOOKALIKE.search(text)
    if lookalike:
        found = text[lookalike.start() :]
        close = found.find("}")
        shown = found[: close + 1] if 0 <= close < 20 else found[:12]
        raise TemplateError(
            f"'{shown}' looks like a variable but is not one: write {{#var#}} exactly "
            f"(or a typed tag: {', '.join('{#' + k + '#}' for k in SLOT_KINDS[1:])})",
            start + lookalike.start() + 1,
        )
    depth = 0
    for offset, char in enumerate(text):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                raise TemplateError("'}' closes a brace that was never opened", start + offset + 1)
    if depth > 0:
        raise TemplateError("'{' is opened and never closed", start + text.rfind("{") + 1)


_matchers: dict[tuple[ParsedTemplate, int], re.Pattern] = {}


def _matcher(parsed: ParsedTemplate, max_length: int) -> re.Pattern:
    key = (parsed, max_length)
    if key not in _matchers:
        pattern = re.escape(parsed.fixed[0])
        for kind, fixed in zip(parsed.slots, parsed.fixed[1:], strict=True):
            pattern += f"({_SLOT_CHARS[kind]}{{0,{_SLOT_MAX.get(kind, max_length)}}})" + re.escape(fixed)
        _matchers[key] = re.compile(pattern, re.DOTALL)
    return _matchers[key]
