"""What serving the desktop over TLS changes in the app (issue 15, "serving the floor").

The rules of when TLS is required live in callcenter/config.py (_web_tls: beyond loopback, the web
worker's own certificate or a declared TLS-terminating proxy); this module applies their outcome,
`settings.web_secure`, to one Flask app:

- the session cookie is Secure (a browser never sends it over plain HTTP, so a network on the floor
  cannot read it off an http:// link), on top of the HttpOnly and SameSite it always has;
- every response carries Strict-Transport-Security, so a browser that has been here once goes to
  https:// by itself afterwards, even when an agent types the bare host name;
- behind a declared proxy, its one hop of X-Forwarded-Proto/-For is trusted (werkzeug's ProxyFix):
  the request is https as the browser sent it (Socket.IO's same-origin check compares the page's
  Origin with it), and the client's address is the agent's, not the proxy's, so the per-address
  login lock (auth.py) counts agents, not the proxy. Without the setting no such header is trusted.

On loopback without TLS nothing changes: the demo works in a local browser over http://.
"""
from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from callcenter.config import Settings

# a year, the figure browsers' preload lists ask for; not includeSubDomains: the desktop's host
# name may share a domain with services this project does not serve
HSTS = "max-age=31536000"


def cookie_settings(settings: Settings) -> dict:
    """Flask's config for the cookies. REMEMBER_COOKIE_SECURE is for Flask-Login's remember-me
    cookie: the desktop sets none today; set so that adding one cannot forget it."""
    return {"SESSION_COOKIE_SECURE": settings.web_secure, "REMEMBER_COOKIE_SECURE": settings.web_secure,
            "REMEMBER_COOKIE_HTTPONLY": True}


def add_hsts(response):
    response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def apply(app: Flask, settings: Settings) -> None:
    """HSTS on every response and the proxy's headers when served securely. Called after
    socketio.init_app, so ProxyFix wraps Socket.IO's middleware too and its handshake sees https."""
    if not settings.web_secure:
        return
    app.after_request(add_hsts)
    if settings.web_tls_proxy:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=0, x_port=0, x_prefix=0)
