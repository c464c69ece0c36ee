"""The address a request came from, read the same way wherever it matters (clicks, sign-in and password-reset
throttling).

Whatever a client sends can be forged, X-Forwarded-For included: a client that could choose its address would get a
fresh sign-in allowance per request, and could make its clicks look like another person's. So the headers are
trusted only as far as the deployment says:

- TRUSTED_PROXY_COUNT = 0 (the default; gunicorn faces the internet, as in docker-compose.yml): REMOTE_ADDR, the
  peer of the connection. X-Forwarded-For is ignored.
- TRUSTED_PROXY_COUNT = N: N proxies of ours stand in front, each appending the address it was reached from to
  X-Forwarded-For. The last N addresses were written by them; the N-th from the right is the client as our
  outermost proxy saw it. Anything to its left came from the client and is ignored. A header with fewer than N
  addresses did not come through every proxy: REMOTE_ADDR.
- CLICK_CLIENT_IP_HEADER names another header to read the same way, e.g. HTTP_X_REAL_IP, which nginx overwrites
  with the address it was reached from. Naming a header trusts one proxy when TRUSTED_PROXY_COUNT is 0.

This runs on every click, so it stays a few attribute lookups and a split.
"""

from django.conf import settings

_FORWARDED_FOR = "HTTP_X_FORWARDED_FOR"


def client_ip(request) -> str:
    """The client's address: see the module's docstring for what is trusted."""
    return client_ip_of(request.META)


def client_ip_of(meta) -> str:
    """client_ip of a request's META (or a WSGI environ: the same keys)."""
    header = settings.CLICK_CLIENT_IP_HEADER
    proxies = settings.TRUSTED_PROXY_COUNT or (1 if header else 0)
    if proxies:
        # a proxy that forwards several X-Forwarded-For lines has them joined with ", " by the WSGI server
        addresses = meta.get(header or _FORWARDED_FOR, "").split(",")
        if len(addresses) >= proxies:
            address = addresses[-proxies].strip()
            if address:
                return address
    return meta.get("REMOTE_ADDR", "")
