"""Who the client of a request is, for rate limits: the peer, or what trusted proxies say.

A proxy appends the address it received a request from to ``X-Forwarded-For``. Only proxies
of the ``TRUSTED_PROXIES`` setting are believed: the header is read from the right, past each
trusted proxy, and the first address that is not one is the client. Anything to its left was
written by the client itself and could be anything. With no trusted proxies (the default),
the header is ignored and the client is the peer, whichever server runs the service.
"""

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

IPNetwork = IPv4Network | IPv6Network
UNKNOWN_CLIENT = "unknown"


def _parse(address: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(address.strip())
    except ValueError:
        return None


def _is_trusted(address: IPv4Address | IPv6Address, proxies: Sequence[IPNetwork]) -> bool:
    return any(address in network for network in proxies)


def client_address(
    peer: str | None, forwarded_for: str | None, trusted_proxies: Sequence[IPNetwork]
) -> str:
    """The address a request came from: `peer` (the connection's other end) unless it is a
    trusted proxy, then the nearest address of `forwarded_for` that is not one."""
    if not peer:
        return UNKNOWN_CLIENT
    hop = _parse(peer)
    if hop is None or not trusted_proxies or not _is_trusted(hop, trusted_proxies):
        return peer
    for entry in reversed((forwarded_for or "").split(",")):
        previous = _parse(entry)
        if previous is None:
            break  # not an address: the last trusted proxy is the nearest known client
        hop = previous
        if not _is_trusted(hop, trusted_proxies):
            break
    return str(hop)
