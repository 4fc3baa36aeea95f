"""Which engine addresses may carry clinical text: HTTPS anywhere, plain HTTP only to this machine.

Transcripts and questions go to the configured engine in the request body; over plain ``http://`` to another
host they would cross the network readable and alterable by anyone on the path (the clinic's Wi-Fi, a proxy).
A server on this machine (Ollama on localhost, a test server) needs no TLS, and neither does an SSH tunnel or a
local TLS-terminating proxy to a server elsewhere, which is how to reach one that speaks only HTTP.
"""

from __future__ import annotations

import ipaddress
import urllib.parse

from backend.domain.errors import ProviderUnavailable

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """True for ``localhost`` names and loopback addresses (127.0.0.0/8, ::1)."""
    host = host.strip("[]").lower().rstrip(".")
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(url: str, setting: str) -> str:
    """``url`` if clinical text may be sent to it, else ProviderUnavailable naming ``setting`` and the fix.

    Raises:
        ProviderUnavailable: not an http(s) address, or plain ``http://`` to a host other than this machine.
    """
    parts = urllib.parse.urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    if scheme not in ("http", "https") or not host:
        raise ProviderUnavailable(f"{setting} must be an https:// address (got {url[:80]!r}).")
    if scheme == "http" and not is_loopback(host):
        raise ProviderUnavailable(
            f"{setting} is plain http:// to {host}: clinical text would cross the network unencrypted. Use "
            "https://, or reach a server that speaks only HTTP through an SSH tunnel or a TLS proxy on this machine."
        )
    return url
