"""Calls linktrack makes to addresses its users give (click webhooks, link checks): only to the internet.

A user-given address could point at this machine, the private network or a cloud provider's metadata service
(169.254.169.254): a call there would let anyone who can type an address read what only linktrack can reach. So
the host is resolved, every address it resolves to is checked, and the connection goes to the very address that
was checked, never to a second lookup a short-lived DNS answer could change in between. Whether private addresses
are allowed (development, tests) is each caller's setting.
"""

import http.client
import ipaddress
import socket
import ssl

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def address_problem(address: IPAddress) -> str:
    """Why linktrack may not call this address, in words; "" when it is a public internet address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return "a loopback address (this machine)"
    if address.is_link_local:
        return "a link-local address (such as a cloud provider's metadata service)"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private network address"
    if address.is_unspecified or address.is_reserved or not address.is_global:
        return "a reserved address"
    return ""


def ip_literal(host: str) -> IPAddress | None:
    """The address when `host` is written as one (`10.0.0.5`, `::1`), else None."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def is_loopback_host(host: str) -> bool:
    literal = ip_literal(host)
    return host.lower() in LOOPBACK_NAMES if literal is None else literal.is_loopback


class Refused(Exception):
    """A call linktrack will not make."""


class HostNotFound(Refused):
    def __init__(self, host: str, detail: str):
        self.host, self.detail = host, detail
        super().__init__(f"The address of {host} could not be found ({detail}).")


class PrivateAddress(Refused):
    def __init__(self, host: str, address: str, problem: str):
        self.host, self.address, self.problem = host, address, problem
        super().__init__(f"{self.shown} {problem}.")

    @property
    def shown(self) -> str:
        """ "<host> is" or "<host> resolves to": the address itself is not shown, or a page would tell anyone what
        internal names resolve to."""
        return f"{self.host} is" if self.host == self.address else f"{self.host} resolves to"


def addresses_to_call(host: str, port: int, *, allow_private: bool) -> list[str]:
    """The host's addresses, all checked: one that is not allowed refuses the host (it could be chosen later).

    Raises HostNotFound when DNS has no answer, PrivateAddress for an address off the internet (unless allowed).
    """
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise HostNotFound(host, f"DNS: {error}") from None
    addresses = list(dict.fromkeys(sockaddr[0] for *_, sockaddr in found))
    if not addresses:
        raise HostNotFound(host, "DNS gave no address")
    if not allow_private:
        for address in addresses:
            problem = address_problem(ipaddress.ip_address(address.split("%", 1)[0]))
            if problem:
                raise PrivateAddress(host, address, problem)
    return addresses


def tls_context() -> ssl.SSLContext:
    """The system's certificate authorities, certificates checked against the host name."""
    return ssl.create_default_context()


class PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an address already checked, while the request names the host (Host header)."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above, over TLS: the certificate is checked against the host name (SNI too), not the address."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float, context: ssl.SSLContext):
        self.tls = context
        super().__init__(host, port, timeout=timeout, context=context)
        self.address = address

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), self.timeout)
        try:
            self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise


def pinned_connection(
    scheme: str, host: str, port: int, *, address: str, timeout: float, context: ssl.SSLContext | None = None
) -> http.client.HTTPConnection:
    """A connection for `scheme` ("http" or "https") to `address`, naming `host`; https uses `context`."""
    if scheme == "https":
        return PinnedHTTPSConnection(host, port, address=address, timeout=timeout, context=context or tls_context())
    return PinnedHTTPConnection(host, port, address=address, timeout=timeout)
