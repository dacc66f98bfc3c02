"""Security headers on every response: a Content-Security-Policy with a per-response nonce for the pages' own inline
scripts and <style> elements ('unsafe-inline' for neither), no framing, no MIME sniffing, no referrer to other sites
(same-origin: with no-referrer at all, browsers post forms with ``Origin: null`` and the login's origin check could
not tell).

No inline style either: a style attribute or a <style> element slipped into a page (through a script's innerHTML,
say) could still read the page out through CSS selectors and background URLs, or lay a fake form over it. So the
pages carry no style attribute (swatch colours are classes of the palette stylesheet, maps.styles.palette_css),
their <style> elements (folium's and the palette) carry the nonce, and the page scripts set styles through the CSSOM
(``element.style``), which CSP does not govern, as Leaflet and VectorGrid do. Map tiles may come from the configured
basemap's origin (DIABAN_TILE_URL).
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Where a page route finds the nonce of its response (request.state.csp_nonce).
NONCE_KEY = "csp_nonce"
_INLINE = re.compile(r"<(script|style)(?=[\s>])(?![^>]*\bsrc=)")


def tile_origin(tile_url: str) -> str:
    """The origin a basemap template loads from (``{s}`` subdomains become a wildcard), or "" for none."""
    if not tile_url:
        return ""
    parts = urlsplit(tile_url.replace("{s}", "*"))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def policy(nonce: str, tile_url: str = "") -> str:
    """The Content-Security-Policy of a response."""
    images = " ".join(filter(None, ("'self'", "data:", tile_origin(tile_url))))
    return (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}';"
        f" img-src {images}; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self';"
        " frame-ancestors 'none'"
    )


def with_nonce(html: str, nonce: str) -> str:
    """The page with the nonce on each of its own inline <script> and <style> elements (the pages are generated here
    and escape every user value, so every inline element in them is ours)."""
    return _INLINE.sub(rf'<\1 nonce="{nonce}"', html)


class SecurityHeaders:
    """ASGI middleware adding the security headers to every HTTP response."""

    def __init__(self, app: ASGIApp, tile_url: str = "") -> None:
        self.app = app
        self.tile_url = tile_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})[NONCE_KEY] = nonce
        headers = [
            (b"content-security-policy", policy(nonce, self.tile_url).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"same-origin"),
        ]

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                own = list(message.get("headers", []))
                present = {name.lower() for name, _ in own}  # a route's own value wins, never sent twice
                message["headers"] = [*own, *(h for h in headers if h[0] not in present)]
            await send(message)

        await self.app(scope, receive, secured)
