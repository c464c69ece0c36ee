"""What other apps read of linktrack without changing anything: how an org's short links look, what stops a short
domain working, where a link leads, and which link and message a short code names. Minting, recording clicks and
forgetting cached links are operations: linktrack.services, for campaigns.sending only."""

from linktrack.redirect.codes import decode as code_decode
from linktrack.redirect.resolve import UTM_NAMES, redirect_location
from linktrack.redirect.short_domains import short_domain_problems
from linktrack.redirect.short_links import short_link_base

__all__ = ["UTM_NAMES", "code_decode", "redirect_location", "short_domain_problems", "short_link_base"]
