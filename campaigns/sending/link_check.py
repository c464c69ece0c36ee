"""Check a campaign's links before it goes out: fetch each destination and say, in words, whether it works.

Sending a broken link to a whole audience is the costliest mistake a campaign can make, so the preview fetches
every distinct destination as a recipient's click would reach it (through the redirect, the campaign's UTM
parameters added) and says what it answers: "answers 200 OK (0.4 s)", "answers 404 Not Found: recipients would
land on an error page", "redirects to https://shop.acme.in/login (a login page?)", "could not be reached:
connection refused". It warns; it never blocks a launch.

Each link is one GET (many sites refuse HEAD) with `User-Agent: linktrack-link-check`, redirects followed by hand
(at most MAX_REDIRECTS, each hop's address checked again) and the first few KB of the final page read, all within
LINK_CHECK_TIMEOUT_SECONDS. The links are checked side by side in threads, so the page waits about one timeout
whatever their number, and each result is cached for CACHE_SECONDS (by address) so that reloading the page fetches
nothing; "Check again" bypasses the cache. The addresses are those managers type, so calls go only to the internet
(linktrack.common.outbound): a link to a private, loopback, link-local or reserved address is "not checked: private
address" unless LINK_CHECK_ALLOW_PRIVATE_ADDRESSES is on.
"""

import hashlib
import http.client
import logging
import re
import ssl
import time
import urllib.parse
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.timesince import timesince

from campaigns.models import Campaign, Customer
from campaigns.sending.preview import CampaignLink, campaign_links
from linktrack.common import outbound
from linktrack.common.outbound import tls_context
from linktrack.selectors import redirect_location

logger = logging.getLogger(__name__)

USER_AGENT = "linktrack-link-check"
MAX_REDIRECTS = 5
BODY_BYTES = 4096  # enough for a page's <title> and the start of a sign-in form
CACHE_SECONDS = 600
MAX_PARALLEL = 16  # links fetched at once; a campaign has a handful
# Past the timeout, the page stops waiting for a link: connecting, TLS and reading the page each take a moment.
WAIT_MARGIN_SECONDS = 1.0
CACHE_PREFIX = "link-check:v1"
_REDIRECT_STATUSES = {301, 302, 303, 307, 308}
# Statuses a site may give an automatic check while a person's browser gets the page: worth a look, not an alarm.
_REFUSES_ROBOTS = {401: "asks for a password", 403: "refused linktrack's check", 429: "asked linktrack to slow down"}
_LOGIN_PATH = re.compile(r"(?:^|[/._-])(?:log-?in|sign-?in|signon|sso|auth|authenticate)(?:$|[/._?-])", re.I)
_PASSWORD_FIELD = re.compile(rb"""<input[^>]+type\s*=\s*["']?password""", re.I)
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.I | re.S)
_ERROR_TITLE = re.compile(r"\b(?:404|not found|page not found|no longer available|does not exist)\b", re.I)


class Verdict:
    """What a check found, as the page says it (never by colour alone)."""

    WORKS = "works"
    CHECK = "check"  # answered, but a person should look: a login page, http, too many redirects
    BROKEN = "broken"
    NOT_CHECKED = "not_checked"

    LABELS = {WORKS: "Works", CHECK: "Check it", BROKEN: "Does not work", NOT_CHECKED: "Not checked"}


@dataclass(frozen=True)
class Redirect:
    status: int
    location: str  # where it sent the check (absolute)


@dataclass(frozen=True)
class LinkCheck:
    url: str  # the address fetched: the destination as a click reaches it
    verdict: str
    words: str  # what it answered, in words: "answers 200 OK (0.4 s)" (the address is shown beside it)
    problem: str | None = None  # why it needs attention, in words; None when the link works
    status: int | None = None  # the final answer's HTTP status; None when there was none
    final_url: str = ""
    redirects: tuple[Redirect, ...] = ()
    seconds: float = 0.0
    checked_at: datetime | None = None
    from_customer: bool = False  # the sample customer's own link (from a customer field)

    @property
    def label(self) -> str:
        return Verdict.LABELS[self.verdict]

    @property
    def works(self) -> bool:
        return self.verdict == Verdict.WORKS

    @property
    def checked_words(self) -> str:
        if self.checked_at is None:
            return ""
        if timezone.now() - self.checked_at < timedelta(minutes=1):
            return "checked just now"
        return f"checked {timesince(self.checked_at)} ago"


def campaign_link_checks(
    *, campaign: Campaign, customer: Customer | None = None, refresh: bool = False
) -> list[LinkCheck]:
    """Every distinct destination of the campaign's messages (for the sample customer), checked: from the cache
    unless `refresh`, else fetched side by side. Takes at most about LINK_CHECK_TIMEOUT_SECONDS."""
    return links_check(campaign_links(campaign=campaign, customer=customer), refresh=refresh)


def links_check(links: list[CampaignLink], *, refresh: bool = False) -> list[LinkCheck]:
    allow_private = bool(settings.LINK_CHECK_ALLOW_PRIVATE_ADDRESSES)
    keys = {link.url: _cache_key(link.url, allow_private) for link in links if link.url}
    found: dict[str, LinkCheck] = {}
    if not refresh:
        cached = cache.get_many(list(keys.values()))
        found = {url: check for url, key in keys.items() if (check := _from_cache(cached.get(key)))}
    missing = [url for url in keys if url not in found]
    fetched, unfinished = _fetch_all(missing, allow_private=allow_private)
    cache.set_many({keys[url]: asdict(check) for url, check in fetched.items()}, CACHE_SECONDS)
    found.update(fetched)
    found.update(unfinished)
    checks = []
    for link in links:
        check = found[link.url] if link.url else _not_a_web_address(link.destination)
        checks.append(replace(check, from_customer=link.from_customer))
    return checks


def link_checks_summary(checks: list[LinkCheck]) -> str:
    """One line for the top of the preview when something is wrong ("" when every link works)."""
    broken = sum(check.verdict == Verdict.BROKEN for check in checks)
    doubtful = sum(check.verdict in (Verdict.CHECK, Verdict.NOT_CHECKED) for check in checks)
    total = len(checks)
    of = f"{total} link{'s' if total != 1 else ''}"
    if broken:
        does = "does not work" if broken == 1 else "do not work"
        line = f"{broken} of {of} {does}: check {'it' if broken == 1 else 'them'} before launching."
        if doubtful:
            line += f" {doubtful} more {'needs' if doubtful == 1 else 'need'} a look."
        return line
    if doubtful:
        needs = "needs" if doubtful == 1 else "need"
        return f"{doubtful} of {of} {needs} a look before launching."
    return ""


# --- Fetching ------------------------------------------------------------------------------------------------------


def _cache_key(url: str, allow_private: bool) -> str:
    return f"{CACHE_PREFIX}:{int(allow_private)}:{hashlib.sha256(url.encode()).hexdigest()}"


def _from_cache(value) -> LinkCheck | None:
    if not isinstance(value, dict):
        return None
    try:
        return LinkCheck(**{**value, "redirects": tuple(Redirect(**hop) for hop in value.get("redirects", ()))})
    except TypeError:
        return None  # written by another version: fetch again


def _fetch_all(urls: list[str], *, allow_private: bool) -> tuple[dict[str, LinkCheck], dict[str, LinkCheck]]:
    """Each URL fetched in its own thread; the wait ends about one timeout later, whatever happens.

    Returns what was found (to cache; a fetch still running is "timed out"), and the links that could not be
    checked this time (not cached, so the next page load tries them again)."""
    if not urls:
        return {}, {}
    timeout = float(settings.LINK_CHECK_TIMEOUT_SECONDS)
    started: dict[str, float] = {}

    def fetch(url: str) -> LinkCheck:
        started[url] = time.monotonic()
        return link_fetch(url, timeout=timeout, allow_private=allow_private)

    executor = ThreadPoolExecutor(max_workers=min(len(urls), MAX_PARALLEL), thread_name_prefix="link-check")
    futures: dict[str, Future] = {url: executor.submit(fetch, url) for url in urls}
    wait(futures.values(), timeout=timeout + WAIT_MARGIN_SECONDS)
    # A fetch still running ends on its own socket timeout; the page does not wait for it.
    executor.shutdown(wait=False, cancel_futures=True)
    now = time.monotonic()
    results, unfinished = {}, {}
    for url, future in futures.items():
        if future.done() and not future.cancelled() and future.exception() is None:
            results[url] = future.result()
        elif future.done() and not future.cancelled():
            logger.error("link check of %s failed", url, exc_info=future.exception())
            unfinished[url] = _result(url, Verdict.NOT_CHECKED, "not checked: linktrack could not check it", 0.0)
        elif future.running() and now - started.get(url, now) >= timeout:
            results[url] = _result(url, Verdict.BROKEN, f"did not answer: timed out after {timeout:g} s", timeout)
        else:
            unfinished[url] = _result(
                url, Verdict.NOT_CHECKED, "not checked yet: too many links at once; press Check again", 0.0
            )
    return results, unfinished


class _Failed(Exception):
    def __init__(self, verdict: str, words: str):
        self.verdict, self.words = verdict, words
        super().__init__(words)


@dataclass(frozen=True)
class _Answer:
    status: int
    reason: str
    location: str
    body: bytes


def link_fetch(url: str, *, timeout: float, allow_private: bool) -> LinkCheck:
    """GET `url`, following redirects by hand; what it answered, in words. Never raises for the site's faults."""
    started = time.monotonic()
    deadline = started + timeout
    redirects: list[Redirect] = []
    current, downgraded = url, ""
    while True:
        try:
            answer = _get(current, deadline=deadline, timeout=timeout, allow_private=allow_private)
        except _Failed as failed:
            words = _after_redirects(redirects, failed.words)
            return _result(url, failed.verdict, words, time.monotonic() - started, redirects, current)
        if answer.status not in _REDIRECT_STATUSES:
            break
        if not answer.location:
            words = (
                f"answers {answer.status} {answer.reason} without saying where to: recipients would see a blank page"
            )
            return _result(url, Verdict.BROKEN, _after_redirects(redirects, words), time.monotonic() - started)
        joined = urllib.parse.urljoin(current, answer.location.strip())
        scheme = urllib.parse.urlsplit(joined).scheme.lower()
        if scheme not in ("http", "https"):
            redirects.append(Redirect(answer.status, joined[:500]))
            words = f"redirects to {joined[:200]}, which is not a web page: linktrack did not follow it (an app link?)"
            return _result(url, Verdict.CHECK, words, time.monotonic() - started, redirects, joined[:500])
        # As a browser would request it: the host in ASCII (IDN), spaces and other characters %-encoded.
        target = redirect_location(joined, None)
        if target is None:
            words = f"redirects to {joined[:200]}, an address browsers cannot open"
            return _result(url, Verdict.BROKEN, words, time.monotonic() - started, redirects)
        redirects.append(Redirect(answer.status, target))
        if target == url or any(hop.location == target for hop in redirects[:-1]):
            words = f"redirects in a loop (back to {target}): browsers give up and recipients see an error"
            return _result(url, Verdict.BROKEN, words, time.monotonic() - started, redirects, target)
        if len(redirects) > MAX_REDIRECTS:
            words = (
                f"redirects more than {MAX_REDIRECTS} times (linktrack stopped at {target}): slow, and may not arrive"
            )
            return _result(url, Verdict.CHECK, words, time.monotonic() - started, redirects, target)
        if urllib.parse.urlsplit(current).scheme == "https" and scheme == "http":
            downgraded = target
        current = target
    seconds = time.monotonic() - started
    verdict, words = _judge(answer, current, redirects, seconds)
    if downgraded and verdict == Verdict.WORKS:
        verdict = Verdict.CHECK
        words += f"; on the way it leaves https for http ({downgraded}): the page is not encrypted"
    return _result(url, verdict, words, seconds, redirects, current, answer.status)


def _judge(answer: _Answer, final_url: str, redirects: list[Redirect], seconds: float) -> tuple[str, str]:
    """The verdict on the final answer, and its words (the redirects that led there first)."""
    answered = f"answers {answer.status} {answer.reason}".rstrip()
    if redirects:
        answered = f"redirects to {final_url}, which {answered}"
    if answer.status >= 400 and answer.status in _REFUSES_ROBOTS:
        return (
            Verdict.CHECK,
            f"{answered}: the site {_REFUSES_ROBOTS[answer.status]}; open it to see what recipients get",
        )
    if answer.status >= 400:
        return Verdict.BROKEN, f"{answered}: recipients would land on an error page"
    if answer.status >= 300:
        return Verdict.CHECK, f"{answered}: an unusual answer for a page; open it to see what recipients get"
    if redirects and _LOGIN_PATH.search(urllib.parse.urlsplit(final_url).path):
        return Verdict.CHECK, f"redirects to {final_url} (a login page?): recipients may be asked to sign in"
    if _PASSWORD_FIELD.search(answer.body):
        return (
            Verdict.CHECK,
            f"{answered}, a page asking for a password (a login page?): recipients may have to sign in",
        )
    title = _title(answer.body)
    if title and _ERROR_TITLE.search(title):
        return Verdict.CHECK, f'{answered}, but the page is titled "{title}": recipients may land on an error page'
    return Verdict.WORKS, f"{answered} ({f'{seconds:.1f} s' if seconds >= 0.05 else 'under 0.1 s'})"


def _title(body: bytes) -> str:
    match = _TITLE.search(body)
    return " ".join(match.group(1).decode("utf-8", "replace").split())[:120] if match else ""


def _after_redirects(redirects: list[Redirect], words: str) -> str:
    if not redirects:
        return words
    if words.startswith("not checked"):
        return f"redirects to {redirects[-1].location}: {words}"
    return f"redirects to {redirects[-1].location}, which {words}"


def _result(
    url: str,
    verdict: str,
    words: str,
    seconds: float,
    redirects: list[Redirect] = (),
    final_url: str = "",
    status: int | None = None,
) -> LinkCheck:
    return LinkCheck(
        url=url,
        verdict=verdict,
        words=words,
        problem=None if verdict == Verdict.WORKS else words,
        status=status,
        final_url=final_url or url,
        redirects=tuple(redirects),
        seconds=round(seconds, 2),
        checked_at=timezone.now(),
    )


def _not_a_web_address(destination: str) -> LinkCheck:
    return _result(destination, Verdict.BROKEN, "is not a web address a browser can open", 0.0)


def _get(url: str, *, deadline: float, timeout: float, allow_private: bool) -> _Answer:
    """One GET to the address the host resolves to (checked); the status, Location and the start of the body."""
    parts = urllib.parse.urlsplit(url)
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise _Failed(Verdict.BROKEN, "is not a web address a browser can open") from None
    try:
        addresses = outbound.addresses_to_call(host, port, allow_private=allow_private)
    except outbound.PrivateAddress:
        raise _Failed(Verdict.NOT_CHECKED, "not checked: private address") from None
    except outbound.HostNotFound:
        raise _Failed(Verdict.BROKEN, f"could not be reached: no such host ({host} is not in DNS)") from None
    connection = _connect(scheme, host, port, addresses, deadline=deadline, timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
        "Accept-Encoding": "identity",
        "Connection": "close",
    }
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        location = response.getheader("Location", "")
        # The socket keeps the time left when it connected: the answer and the page's start must come within it.
        body = response.read(BODY_BYTES) if response.status not in _REDIRECT_STATUSES else b""
        return _Answer(response.status, response.reason or "", location, body)
    except TimeoutError:
        raise _Failed(Verdict.BROKEN, f"did not answer: timed out after {timeout:g} s") from None
    except http.client.RemoteDisconnected:
        raise _Failed(Verdict.BROKEN, "closed the connection without answering") from None
    except http.client.HTTPException:
        raise _Failed(Verdict.BROKEN, "answered something that is not a web page (not HTTP)") from None
    except OSError as error:
        raise _Failed(Verdict.BROKEN, f"could not be reached: {_os_error(error)}") from None
    finally:
        connection.close()


def _connect(
    scheme: str, host: str, port: int, addresses: list[str], *, deadline: float, timeout: float
) -> http.client.HTTPConnection:
    """A connection to the first of the host's (checked) addresses that answers."""
    failure = ""
    for address in addresses:
        connection = outbound.pinned_connection(
            scheme,
            host,
            port,
            address=address,
            timeout=_remaining(deadline, timeout),
            context=tls_context() if scheme == "https" else None,
        )
        try:
            connection.connect()
            return connection
        except ssl.SSLCertVerificationError as error:
            connection.close()
            raise _Failed(Verdict.BROKEN, f"could not be reached: {_certificate_problem(error)}") from None
        except ssl.SSLError as error:
            connection.close()
            raise _Failed(
                Verdict.BROKEN, f"could not be reached: the secure connection failed ({error.reason})"
            ) from None
        except TimeoutError:
            connection.close()
            failure = f"could not be reached: timed out after {timeout:g} s"
        except OSError as error:
            connection.close()
            failure = f"could not be reached: {_os_error(error)}"
        if _remaining(deadline, timeout) <= 0.01:
            break
    raise _Failed(Verdict.BROKEN, failure or f"could not be reached: timed out after {timeout:g} s")


def _remaining(deadline: float, timeout: float) -> float:
    return max(min(deadline - time.monotonic(), timeout), 0.01)


def _certificate_problem(error: ssl.SSLCertVerificationError) -> str:
    if error.verify_code == 62:  # X509_V_ERR_HOSTNAME_MISMATCH
        return "certificate not valid for this name"
    if error.verify_code == 10:  # X509_V_ERR_CERT_HAS_EXPIRED
        return "certificate expired"
    return f"certificate not valid ({error.verify_message or error})"


def _os_error(error: OSError) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ConnectionResetError):
        return "the connection was reset"
    return (error.strerror or str(error) or type(error).__name__).lower()
