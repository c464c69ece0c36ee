"""Find links in message text, with or without a scheme, the way a phone would make them clickable.

A link is found when it has an http(s) scheme, starts with `www.`, or is a bare domain whose top-level domain is
on a short allow-list (`example.in/p/1`). The allow-list keeps ordinary text from being taken for a link:
`Mr.Sharma`, `Rs.500`, `v1.2`, `e.g.` are words, not links. Host labels may be in any script (IDN domains such as
`उदाहरण.भारत`). Punctuation that ends the sentence (`www.x.com.`) and closing brackets with no opener are not
part of the link; a query and a fragment are.
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache
from urllib.parse import urlsplit, urlunsplit

# Characters that end a host label: whitespace and URL/sentence punctuation. Everything else (letters and marks of
# any script, digits, hyphens) can be part of a label, so Devanagari vowel signs do not split a domain.
_LABEL = r"[^\s.,;:!?/\\#@'\"()\[\]{}<>|*&^%$=+~`“”‘’«»،।]+"
_LINK = re.compile(
    rf"(?:(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<userinfo>[^\s/@]+@)?)?(?P<host>(?:{_LABEL}\.)+{_LABEL}|localhost)(?P<port>:\d{{1,5}})?"
    rf"(?P<rest>[/?#]\S*)?",
    re.IGNORECASE,
)
_EMAIL = re.compile(rf"[\w.+-]+@(?:{_LABEL}\.)+{_LABEL}")
# A dangerous scheme followed by what it would run or load (`javascript:alert(1)`, `data:text/html,...`,
# `file:///etc`); "Your data: 5GB left" is text.
_UNSAFE = re.compile(
    r"(?<![\w.+-])(?:javascript|vbscript):\S|(?<![\w.+-])data:[a-z]+/[\w.+-]+[;,]|(?<![\w.+-])file:/", re.IGNORECASE
)
_TRAILING = ".,;:!?'\"”’»…।"
_PAIRS = {")": "(", "]": "[", "}": "{", ">": "<"}
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")

# Top-level domains a bare domain (no scheme, no `www.`) may end with. Generic and Indian domains, the common
# country codes, and the Indian-script IDN country codes. Two-letter codes that are everyday English words
# (`is`, `it`, `no`, `to`, `my`, `so`, `at`, `be`, `do`, `am`, `as`, `by`) are left out: "ok.so" is not a link.
_BARE_LINK_TLDS_TEXT = """
    com net org info biz edu gov mil int co io ai app dev me tv cc xyz online site website store shop tech club
    live life news blog cloud page link web space fun top vip pro mobi asia name travel today world email network
    digital media agency solutions services health care bank money finance fashion food deals sale
    in us uk ca au de fr es nl jp cn sg ae ly gl gg eu ch se nz za ru br lk np bd pk qa sa om kw bh ph th vn hk
    tw kr ie fm
    भारत ভারত ભારત ਭਾਰਤ இந்தியா భారత్ ಭಾರತ ഭാരതം ଭାରତ بھارت ভাৰত
    xn--h2brj9c xn--45brj9c xn--gecrj9c xn--s9brj9c xn--xkc2dl3a5ee0h xn--fpcrj9c3d xn--2scrj9c xn--rvc1e0am3e
    xn--3hcrj9c xn--mgbbh1a71e xn--45br5cyl
"""
BARE_LINK_TLDS = frozenset(_BARE_LINK_TLDS_TEXT.split())


class LinkError(ValueError):
    pass


@dataclass(frozen=True)
class FoundLink:
    text: str  # exactly as written in the message
    start: int
    end: int

    @cached_property
    def destination(self) -> str:
        return link_destination(self.text)


def link_destination(link: str) -> str:
    """Where a click should go: the link with a scheme (https when none was written), IDN hosts in ASCII.

    Raises LinkError for a link no browser could open (`https://b\x80d.in/`, `https://[1`): it often comes from a
    customer's own data, and must cost only that customer's message."""
    if _CONTROL_CHARACTER.search(link):
        # NUL and friends: no browser opens such an address, and PostgreSQL cannot even store one.
        raise LinkError(f"'{_CONTROL_CHARACTER.sub('?', link[:60])}' is not a web address that can be opened")
    scheme = re.match(r"https?://", link, re.IGNORECASE)
    url = scheme.group(0).lower() + link[scheme.end() :] if scheme else f"https://{link}"
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host.isascii():
            return url
        port = parts.port
        netloc = host.encode("idna").decode("ascii") + (f":{port}" if port is not None else "")
    except (UnicodeError, ValueError) as error:
        raise LinkError(f"'{link[:60]}' is not a web address that can be opened") from error
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def find_links(text: str) -> list[FoundLink]:
    """Every http(s) link in `text`, in order. Raises LinkError for a javascript:, data: or file: link."""
    return list(_find_links(text))


# A campaign's static values are the same in every message: find their links once, not once per recipient.
@lru_cache(maxsize=4096)
def _find_links(text: str) -> tuple[FoundLink, ...]:
    unsafe = _UNSAFE.search(text)
    if unsafe:
        scheme = unsafe.group(0).split(":", 1)[0]
        raise LinkError(
            f"'{scheme}:' links are not allowed: only http and https links can be sent and tracked "
            f"(found at character {unsafe.start() + 1})"
        )
    emails = [(m.start(), m.end()) for m in _EMAIL.finditer(text)]
    found = []
    for match in _LINK.finditer(text):
        if any(start <= match.start() < end for start, end in emails):
            continue  # the domain of an email address
        scheme = (match.group("scheme") or "").lower()
        start = match.start()
        if scheme and scheme not in ("http://", "https://"):
            # "Link-https://x.in": the word glued in front is not part of the scheme.
            glued = max(scheme.rfind("http://"), scheme.rfind("https://"))
            if glued <= 0:
                raise LinkError(
                    f"'{match.group(0)}' is not a web link: only http and https links are allowed "
                    f"(found at character {start + 1})"
                )
            start += glued
        if not _looks_like_link(match.group("host"), has_scheme=bool(scheme)):
            continue
        link = _trim(text[start : match.end()])
        try:
            link_destination(link)
        except LinkError as error:
            raise LinkError(f"{error} (found at character {start + 1})") from None
        found.append(FoundLink(text=link, start=start, end=start + len(link)))
    return tuple(found)


def _trim(link: str) -> str:
    """Drop punctuation that ends the sentence rather than the link, and closing brackets with no opener."""
    while link:
        last = link[-1]
        if last in _TRAILING or (last in _PAIRS and link.count(last) > link.count(_PAIRS[last])):
            link = link[:-1]
        else:
            break
    return link


def _is_letters(label: str) -> bool:
    return all(unicodedata.category(char)[0] in "LM" for char in label)


def _looks_like_link(host: str, *, has_scheme: bool) -> bool:
    labels = host.split(".")
    tld = labels[-1]
    if has_scheme:
        if host.lower() == "localhost" or _IPV4.fullmatch(host):
            return True
        return len(tld) >= 2 and (_is_letters(tld) or tld.lower().startswith("xn--"))
    if host.lower() == "localhost" or any(not label for label in labels):
        return False
    if labels[0].lower() == "www" and len(labels) >= 3:
        return len(tld) >= 2 and (_is_letters(tld) or tld.lower().startswith("xn--"))
    # A bare domain: its top-level domain must be a known one, written in lower case (or the whole host in
    # capitals, as in "ACME.IN"), so "today.Shop now" stays text.
    return tld.lower() in BARE_LINK_TLDS and (tld == tld.lower() or host == host.upper())
