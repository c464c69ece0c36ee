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
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import asdict, replace

from django.conf import settings
from django.core.cache import cache

from campaigns.models import Campaign, Customer
from campaigns.sending.link_fetching import LinkCheck, Redirect, Verdict, check_result, link_fetch, not_a_web_address
from campaigns.sending.preview import CampaignLink, campaign_links

logger = logging.getLogger(__name__)

CACHE_SECONDS = 600
MAX_PARALLEL = 16  # links fetched at once; a campaign has a handful
# Past the timeout, the page stops waiting for a link: connecting, TLS and reading the page each take a moment.
WAIT_MARGIN_SECONDS = 1.0
CACHE_PREFIX = "link-check:v1"


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
        check = found[link.url] if link.url else not_a_web_address(link.destination)
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
            unfinished[url] = check_result(url, Verdict.NOT_CHECKED, "not checked: linktrack could not check it", 0.0)
        elif future.running() and now - started.get(url, now) >= timeout:
            results[url] = check_result(url, Verdict.BROKEN, f"did not answer: timed out after {timeout:g} s", timeout)
        else:
            unfinished[url] = check_result(
                url, Verdict.NOT_CHECKED, "not checked yet: too many links at once; press Check again", 0.0
            )
    return results, unfinished
