"""Which URLs an endpoint may have and which addresses a delivery may connect to (SSRF).

While ``EVENTS_ALLOW_PRIVATE_URLS`` is off, only ``https://`` URLs whose host resolves to
public addresses only are allowed: checked when the endpoint is saved and again before each
delivery, which then connects to the very address it checked (a second DNS answer, a
"rebinding", cannot send it elsewhere).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from django.utils.translation import gettext, pgettext

# Cloud metadata services: link-local or private already, named for the message.
METADATA_ADDRESSES = {
    ipaddress.ip_address("169.254.169.254"),
    ipaddress.ip_address("fd00:ec2::254"),
}


class UnsafeURL(Exception):
    """The URL is refused; the message says why."""


@dataclass(frozen=True)
class Target:
    """Where to connect for a URL: ``address`` is None when private URLs are allowed (the
    client then resolves the host itself)."""

    url: str
    host: str
    port: int
    address: str | None


def private_urls_allowed() -> bool:
    return bool(getattr(settings, "EVENTS_ALLOW_PRIVATE_URLS", False))


def parse(url: str) -> SplitResult:
    """The URL's parts, or UnsafeURL for anything but an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise UnsafeURL(gettext("Not a valid URL: %(error)s.") % {"error": error}) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURL(gettext("The URL must start with https:// and name a host."))
    if parts.username or parts.password:
        raise UnsafeURL(gettext("The URL must not contain a user name or password."))
    if port == 0:
        raise UnsafeURL(gettext("The URL's port must be between 1 and 65535."))
    return parts


def check_url(url: str) -> Target:
    """The target to connect to for ``url``, or UnsafeURL (resolves the host: blocking)."""
    parts = parse(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if private_urls_allowed():
        return Target(url=url, host=host, port=port, address=None)
    if parts.scheme != "https":
        raise UnsafeURL(
            gettext("Only https:// URLs are allowed (EVENTS_ALLOW_PRIVATE_URLS is off).")
        )
    addresses = resolve(host, port)
    for address in addresses:
        refuse_private(address, host=host)
    return Target(url=url, host=host, port=port, address=str(addresses[0]))


def resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise UnsafeURL(
            gettext("The host %(host)r does not resolve: %(error)s.")
            % {"host": host, "error": error}
        ) from None
    addresses = []
    for info in infos:
        # An IPv6 address may carry a zone ("fe80::1%eth0"): it is link-local either way.
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnsafeURL(gettext("The host %(host)r has no address.") % {"host": host})
    return addresses


def refuse_private(address: ipaddress.IPv4Address | ipaddress.IPv6Address, *, host: str) -> None:
    """UnsafeURL unless ``address`` is a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        kind = pgettext("address kind", "a cloud metadata")
    elif address.is_loopback:
        kind = pgettext("address kind", "a loopback")
    elif address.is_link_local:
        kind = pgettext("address kind", "a link-local")
    elif address.is_multicast:
        kind = pgettext("address kind", "a multicast")
    elif address.is_reserved or address.is_unspecified:
        kind = pgettext("address kind", "a reserved")
    elif address.is_private:
        kind = pgettext("address kind", "a private")
    elif not address.is_global:
        kind = pgettext("address kind", "a reserved")
    else:
        return
    raise UnsafeURL(
        gettext(
            "The host %(host)r resolves to %(kind)s address (%(address)s); refused while "
            "EVENTS_ALLOW_PRIVATE_URLS is off."
        )
        % {"host": host, "kind": kind, "address": address}
    )
