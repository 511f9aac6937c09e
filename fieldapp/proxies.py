"""Trusting ``X-Forwarded-For``/``-Proto`` only from the reverse proxies named in
``TRUSTED_PROXIES`` (werkzeug's ProxyFix, applied per request).

Behind nginx every request comes from the proxy; without this, login throttling
and the audit log would see one address for the whole town. A client that talks
to the app directly (not from a listed proxy) cannot make up an address: its
forwarded headers are ignored. Through a chain of listed proxies, the client is
the first address of ``X-Forwarded-For``, read from the right, that is not a
listed proxy.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_HOPS = 8


def parse_networks(value: Any) -> list[Network]:
    """Addresses or networks (``10.0.0.2``, ``10.0.0.0/8``, ``::1``) as a list or a
    comma-separated string; raises ValueError naming the setting for anything else."""
    if isinstance(value, str):
        items: Iterable[Any] = value.split(",")
    elif isinstance(value, list | tuple):
        items = value
    else:
        items = [] if value is None else [value]
    networks = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError as exc:
            raise ValueError(f"FIELDAPP_TRUSTED_PROXIES: {text!r} is not an address or network") from exc
    return networks


class TrustedProxies:
    """WSGI middleware: ProxyFix for requests whose peer is a trusted proxy, with as
    many forwarded hops trusted as there are listed proxies at the end of the chain."""

    def __init__(self, app: Any, networks: list[Network]) -> None:
        self.app = app
        self.networks = networks
        self.fixes = {hops: ProxyFix(app, x_for=hops, x_proto=1) for hops in range(1, MAX_HOPS + 1)}

    def trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if not self.trusted(environ.get("REMOTE_ADDR", "")):
            return self.app(environ, start_response)
        chain = [part for part in environ.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        hops = 1
        while hops < min(len(chain), MAX_HOPS) and self.trusted(chain[-hops]):
            hops += 1
        return self.fixes[hops](environ, start_response)


def init_app(app: Flask) -> None:
    networks = parse_networks(app.config.get("TRUSTED_PROXIES"))
    if networks:
        app.wsgi_app = TrustedProxies(app.wsgi_app, networks)  # type: ignore[method-assign]
