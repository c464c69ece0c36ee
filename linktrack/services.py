"""linktrack's operations, for callers outside the app: each lives in the module of its concept.

- short_domains: which short domain a request is on, which one new links are minted for, what stops one working
- short_links, codes: minting a campaign's short links and writing their URLs
- redirect: resolving a code and recording the click; the Location a click is sent to; caching a campaign's links
  and messages as they are prepared
- link_cache: the cached links and messages the redirect reads, and forgetting them after a change
- clicks: click events, the Redis stream and storing clicks in batches (which keeps the click counters)
- counts.upkeep: the click counters' merging, building and nightly check
"""

from linktrack.counts.upkeep import click_counters_build, click_counters_merge, click_counters_verify
from linktrack.redirect.click_flush import clicks_flush
from linktrack.redirect.clicks import click_record, clicks_store, hash_ip
from linktrack.redirect.codes import pair_encoder
from linktrack.redirect.link_cache import campaign_links_forget, short_link_forget
from linktrack.redirect.resolve import (
    LinkTarget,
    Problem,
    Resolution,
    campaign_links_cache,
    click_redirect,
    link_resolve,
    redirect_location,
    resolve,
)
from linktrack.redirect.short_domains import (
    SHORT_DOMAINS_REFRESH_SECONDS,
    minting_domain,
    request_short_domain,
    short_domain_host,
    short_domain_problems,
    short_domains,
    short_domains_forget,
)
from linktrack.redirect.short_links import short_link_base, short_links_for, short_url

__all__ = [
    "SHORT_DOMAINS_REFRESH_SECONDS",
    "LinkTarget",
    "Problem",
    "Resolution",
    "campaign_links_cache",
    "campaign_links_forget",
    "click_counters_build",
    "click_counters_merge",
    "click_counters_verify",
    "click_record",
    "click_redirect",
    "clicks_flush",
    "clicks_store",
    "hash_ip",
    "link_resolve",
    "minting_domain",
    "pair_encoder",
    "redirect_location",
    "request_short_domain",
    "resolve",
    "short_domain_host",
    "short_domain_problems",
    "short_domains",
    "short_domains_forget",
    "short_link_base",
    "short_link_forget",
    "short_links_for",
    "short_url",
]
