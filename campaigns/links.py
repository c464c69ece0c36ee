"""Find links in message text, with or without a scheme, the way a phone would make them clickable."""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

# A host is dot-separated labels of letters (any script, for IDN domains), digits and hyphens, ending in a
# top-level domain of letters; `www.`-less bare domains are links too (`example.in/p/1`).
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_HOST = rf"(?:{_LABEL}\.)+(?:[^\W\d_]{{2,63}}|xn--[a-z0-9-]{{2,59}})"
_LINK = re.compile(
    rf"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*:(?://)?)?(?P<host>{_HOST}|localhost)(?::\d{{1,5}})?(?:[/?#][^\s]*)?",
    re.IGNORECASE,
)
_UNSAFE_SCHEME = re.compile(r"\b(?:javascript|data|file|vbscript):", re.IGNORECASE)
_TRAILING = ".,;:!?'\"”’»"
_PAIRS = {")": "(", "]": "[", "}": "{"}


class LinkError(ValueError):
    pass


@dataclass(frozen=True)
class FoundLink:
    text: str  # exactly as written in the message
    start: int
    end: int

    @property
    def destination(self) -> str:
        """Where a click should go: the link with a scheme (https when none was written)."""
        return self.text if re.match(r"https?://", self.text, re.IGNORECASE) else f"https://{self.text}"


def find_links(text: str) -> list[FoundLink]:
    unsafe = _UNSAFE_SCHEME.search(text)
    if unsafe:
        raise LinkError(f"'{unsafe.group(0)}' links are not allowed: only http and https links can be sent and tracked")
    found = []
    for match in _LINK.finditer(text):
        scheme = (match.group("scheme") or "").lower()
        if scheme and scheme not in ("http://", "https://"):
            if scheme.endswith("//"):
                raise LinkError(f"'{match.group(0)}' is not a web link: only http and https links are allowed")
            continue  # "Note:example.com" style text: not a link scheme at all
        link = _trim(match.group(0))
        if not _looks_like_link(link, has_scheme=bool(scheme)):
            continue
        found.append(FoundLink(text=link, start=match.start(), end=match.start() + len(link)))
    return found


def _trim(link: str) -> str:
    """Drop punctuation that ends the sentence rather than the link, and closing brackets with no opener."""
    while link:
        last = link[-1]
        if last in _TRAILING or (last in _PAIRS and link.count(last) > link.count(_PAIRS[last])):
            link = link[:-1]
        else:
            break
    return link


def _looks_like_link(link: str, *, has_scheme: bool) -> bool:
    if has_scheme or link.lower().startswith("www."):
        return True
    host = urlsplit(f"//{link}").hostname or ""
    # A bare "file.txt" or "e.g" is not a link; a bare domain with a path or a known shape is.
    return "." in host and not host.replace(".", "").isdigit()
