"""Fetching one link the way a phone would: following at most MAX_REDIRECTS redirects, only to the internet unless
private addresses are allowed, and judging the answer in words (works, asks for a sign-in, not found, broken)."""

import http.client
import re
import ssl
import time
import urllib.parse
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.timesince import timesince

from linktrack.common import outbound
from linktrack.common.outbound import tls_context
from linktrack.selectors import redirect_location

USER_AGENT = "linktrack-link-check"


MAX_REDIRECTS = 5


BODY_BYTES = 4096  # enough for a page's <title> and the start of a sign-in form


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
            return check_result(url, failed.verdict, words, time.monotonic() - started, redirects, current)
        if answer.status not in _REDIRECT_STATUSES:
            break
        if not answer.location:
            words = (
                f"answers {answer.status} {answer.reason} without saying where to: recipients would see a blank page"
            )
            return check_result(url, Verdict.BROKEN, _after_redirects(redirects, words), time.monotonic() - started)
        joined = urllib.parse.urljoin(current, answer.location.strip())
        scheme = urllib.parse.urlsplit(joined).scheme.lower()
        if scheme not in ("http", "https"):
            redirects.append(Redirect(answer.status, joined[:500]))
            words = f"redirects to {joined[:200]}, which is not a web page: linktrack did not follow it (an app link?)"
            return check_result(url, Verdict.CHECK, words, time.monotonic() - started, redirects, joined[:500])
        # As a browser would request it: the host in ASCII (IDN), spaces and other characters %-encoded.
        target = redirect_location(joined, None)
        if target is None:
            words = f"redirects to {joined[:200]}, an address browsers cannot open"
            return check_result(url, Verdict.BROKEN, words, time.monotonic() - started, redirects)
        redirects.append(Redirect(answer.status, target))
        if target == url or any(hop.location == target for hop in redirects[:-1]):
            words = f"redirects in a loop (back to {target}): browsers give up and recipients see an error"
            return check_result(url, Verdict.BROKEN, words, time.monotonic() - started, redirects, target)
        if len(redirects) > MAX_REDIRECTS:
            words = (
                f"redirects more than {MAX_REDIRECTS} times (linktrack stopped at {target}): slow, and may not arrive"
            )
            return check_result(url, Verdict.CHECK, words, time.monotonic() - started, redirects, target)
        if urllib.parse.urlsplit(current).scheme == "https" and scheme == "http":
            downgraded = target
        current = target
    seconds = time.monotonic() - started
    verdict, words = _judge(answer, current, redirects, seconds)
    if downgraded and verdict == Verdict.WORKS:
        verdict = Verdict.CHECK
        words += f"; on the way it leaves https for http ({downgraded}): the page is not encrypted"
    return check_result(url, verdict, words, seconds, redirects, current, answer.status)


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


def check_result(
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


def not_a_web_address(destination: str) -> LinkCheck:
    return check_result(destination, Verdict.BROKEN, "is not a web address a browser can open", 0.0)


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
