"""Which URLs ClinicFlow may call: Slack's webhook hosts for Slack, public https hosts otherwise.

Checked when a URL is saved (a 422 naming the field) and again right before each
request (the address a name resolves to may have changed since). The local stack
and tests may add hosts through OUTBOUND_ALLOW_HOSTS (comma-separated host names,
any scheme and port); a deployment leaves it unset.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from urllib.parse import urlsplit

SLACK_WEBHOOK_HOSTS = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})
_PRIVATE_SUFFIXES = (".local", ".localhost", ".internal", ".lan", ".home", ".corp", ".intranet")


class OutboundRefused(ValueError):
    """A URL that ClinicFlow will not call."""


def _allowed_extra() -> frozenset[str]:
    return frozenset(h.strip().lower() for h in os.environ.get("OUTBOUND_ALLOW_HOSTS", "").split(",") if h.strip())


def _parts(url: str) -> tuple[str, str]:
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        _ = parts.port  # a malformed port raises here
    except ValueError:
        raise OutboundRefused("not a valid URL") from None
    if parts.username or parts.password:
        raise OutboundRefused("credentials in the URL are not allowed")
    if not host:
        raise OutboundRefused("the URL has no host")
    return parts.scheme.lower(), host


def _public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_slack_webhook(url: str) -> str:
    """An https URL on Slack's own webhook hosts (default port), else OutboundRefused."""
    scheme, host = _parts(url)
    if host in _allowed_extra():
        return url
    if scheme != "https" or host not in SLACK_WEBHOOK_HOSTS or urlsplit(url).port not in (None, 443):
        raise OutboundRefused(f"must be an https URL on {' or '.join(sorted(SLACK_WEBHOOK_HOSTS))}")
    return url


def check_public_https(url: str, resolve: bool = False) -> str:
    """An https URL whose host is public (never loopback, private, link-local or metadata addresses).

    With `resolve`, every address the name resolves to must be public too (right before sending).
    """
    scheme, host = _parts(url)
    if host in _allowed_extra():
        return url
    if scheme != "https":
        raise OutboundRefused("must be an https URL")
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        if not _public_address(str(literal)):
            raise OutboundRefused("must not point at a private, loopback or link-local address")
        return url
    if "." not in host or host == "localhost" or host.endswith(_PRIVATE_SUFFIXES):
        raise OutboundRefused("must name a public host")
    if resolve:
        try:
            infos = socket.getaddrinfo(host, urlsplit(url).port or 443, proto=socket.IPPROTO_TCP)
        except OSError:
            raise OutboundRefused(f"cannot resolve {host}") from None
        if not infos or not all(_public_address(str(info[4][0])) for info in infos):
            raise OutboundRefused(f"{host} resolves to a non-public address")
    return url
