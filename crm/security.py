"""What every response carries for safety: security headers, Secure cookies over HTTPS, login throttling."""
from flask import Flask, g, request
from flask_babel.speaklater import LazyString
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user
from markupsafe import escape
from werkzeug.middleware.proxy_fix import ProxyFix

# No inline scripts or styles anywhere: the CSP below forbids them, so injected markup cannot run.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}

limiter = Limiter(key_func=get_remote_address, storage_uri="memory://", headers_enabled=False)


def wrong_password_given(response) -> bool:
    """Only a wrong password counts towards a limit (the view sets g.wrong_password), not a typo in a form."""
    return bool(g.get("wrong_password"))


def login_email() -> str:
    return (request.form.get("email") or "").strip().lower()[:254]


def account_at_address() -> str:
    """Failed logins are counted per account *and* address: guessing the owner's password from one PC pauses
    that PC for that account, never the owner at their own (the address is counted on its own as well)."""
    return f"{login_email()} from {get_remote_address()}"


def own_account() -> str:
    return f"password check of user {current_user.id}"


FORWARDED_HEADERS = ("HTTP_FORWARDED", "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
                     "HTTP_X_FORWARDED_PORT", "HTTP_X_FORWARDED_PREFIX")


class ForwardedByTrustedProxies:
    """Behind nginx or Caddy doing HTTPS, the proxy's X-Forwarded-* headers tell that the request came over HTTPS
    and from which client. Only a request that comes from the proxy's own address is believed; from anyone else
    the headers are dropped, so a PC on the shop network can pose neither as HTTPS nor as another address (which
    would dodge the login throttle). `serve` tells waitress to pass the headers on (see crm/cli.py)."""

    def __init__(self, wsgi_app, proxies: int, addresses):
        self.wsgi_app = wsgi_app
        self.forwarded = ProxyFix(wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies)
        self.addresses = frozenset([addresses] if isinstance(addresses, str) else addresses)

    def __call__(self, environ, start_response):
        if "*" in self.addresses or environ.get("REMOTE_ADDR") in self.addresses:
            return self.forwarded(environ, start_response)
        for header in FORWARDED_HEADERS:
            environ.pop(header, None)
        return self.wsgi_app(environ, start_response)


class SecureCookiesOverHttps:
    """Marks every cookie Secure when the request came over HTTPS (session, remember-me, anything else).
    WSGI middleware, because Flask writes the session cookie after the last after_request hook."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("wsgi.url_scheme") != "https":
            return self.wsgi_app(environ, start_response)

        def start_secure(status, headers, exc_info=None):
            headers = [
                (name, value + "; Secure" if name.lower() == "set-cookie" and "; Secure" not in value else value)
                for name, value in headers
            ]
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start_secure)


def escape_lazy_text() -> None:
    """flask_babel's lazy strings pass for safe HTML (their __html__ returns the text as it is), so one that
    carries user text (`_l("%(name)s", name=...)`) would print raw, in text and in attributes alike.
    None of our messages holds markup, so escaping every lazy string costs nothing."""
    LazyString.__html__ = lambda self: escape(str(self))


def register(app: Flask) -> None:
    escape_lazy_text()
    app.wsgi_app = SecureCookiesOverHttps(app.wsgi_app)
    if app.config.get("TRUSTED_PROXIES"):
        app.wsgi_app = ForwardedByTrustedProxies(app.wsgi_app, int(app.config["TRUSTED_PROXIES"]),
                                                 app.config["TRUSTED_PROXY_ADDRESSES"])
    limiter.init_app(app)

    @app.after_request
    def add_security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response
