"""Behind a reverse proxy doing HTTPS (TRUSTED_PROXIES=1): a real `flask serve` sees HTTPS and the client's own
address, and believes X-Forwarded-* only from the proxy's address."""
import http.client
import re
from http.cookies import SimpleCookie

import pytest
from test_concurrency import Server  # the `flask serve` subprocess those tests use

from crm.extensions import db
from crm.security import limiter

PASSWORD = "correct horse battery"


class ProxiedBrowser:
    """A browser behind the proxy: what the proxy adds (the client's address, https) goes in every request.
    Cookies are kept by hand, since a Secure cookie is one urllib would not send over the proxy's plain HTTP."""

    def __init__(self, server: Server, client_address: str, scheme: str = "https"):
        self.server, self.cookies, self.token = server, SimpleCookie(), ""
        self.forwarded = {"X-Forwarded-For": client_address, "X-Forwarded-Proto": scheme,
                          "X-Forwarded-Host": "crm.tokosari.id"}

    def request(self, method: str, path: str, form: dict | None = None) -> http.client.HTTPResponse:
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        headers = dict(self.forwarded)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={morsel.value}" for name, morsel in self.cookies.items())
        body = None
        if form is not None:
            from urllib.parse import urlencode

            body = urlencode({**form, "csrf_token": self.token})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"https://crm.tokosari.id{path}"  # Flask-WTF checks it over HTTPS, as browsers send it
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.page = response.read().decode()
        response.set_cookies = response.headers.get_all("Set-Cookie") or []
        for cookie in response.set_cookies:
            self.cookies.load(cookie)
        if match := re.search(r'name="csrf-token" content="([^"]+)"', response.page):
            self.token = match.group(1)
        connection.close()
        return response

    def log_in(self, email: str, password: str) -> int:
        if not self.token:
            self.request("GET", "/login")
        return self.request("POST", "/login", {"email": email, "password": password}).status


@pytest.fixture
def proxied_server(database_url, tmp_path, owner):
    owner_email = owner.email
    db.session.remove()
    db.engine.dispose()
    server = Server(database_url, tmp_path, TRUSTED_PROXIES=1, BACKUP_DAILY=False,
                    LOGIN_LIMIT_PER_ADDRESS="3 per 10 minutes").start()
    server.owner_email = owner_email
    yield server
    server.stop()


def test_a_forwarded_https_request_gets_secure_cookies_and_hsts(proxied_server):
    browser = ProxiedBrowser(proxied_server, "203.0.113.7")
    page = browser.request("GET", "/login")
    assert page.status == 200
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert page.set_cookies and all("; Secure" in cookie for cookie in page.set_cookies)
    assert browser.log_in(proxied_server.owner_email, PASSWORD) == 302
    logged_in = browser.request("GET", "/customers/")
    assert logged_in.status == 200, "the Secure session cookie works through the proxy"


def test_the_login_throttle_counts_each_client_address_on_its_own(proxied_server):
    guesser = ProxiedBrowser(proxied_server, "203.0.113.66")
    for attempt in range(3):
        assert guesser.log_in(f"guess{attempt}@tokosari.id", "wrong password") == 200
    assert guesser.log_in("guess9@tokosari.id", "wrong password") == 429, "this address is paused"
    colleague = ProxiedBrowser(proxied_server, "198.51.100.20")
    assert colleague.log_in(proxied_server.owner_email, PASSWORD) == 302, "another client is not"


def test_forwarded_headers_are_believed_from_the_proxy_only(app, owner):
    """A PC on the shop network that talks to the app directly cannot pose as HTTPS or as another address."""
    limiter.reset()
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "2 per 10 minutes"
    from crm.security import ForwardedByTrustedProxies

    app.wsgi_app = ForwardedByTrustedProxies(app.wsgi_app, 1, ["192.168.1.2"])
    proxy = {"REMOTE_ADDR": "192.168.1.2"}
    stranger = {"REMOTE_ADDR": "192.168.1.50"}
    client = app.test_client()
    secure = client.get("/login", environ_base=proxy, headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in secure.headers
    plain = client.get("/login", environ_base=stranger, headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in plain.headers
    for number in range(2):
        client.post("/login", environ_base=stranger, headers={"X-Forwarded-For": f"10.0.0.{number}"},
                    data={"email": "x@tokosari.id", "password": "wrong"})
    refused = client.post("/login", environ_base=stranger, headers={"X-Forwarded-For": "10.0.0.99"},
                          data={"email": "x@tokosari.id", "password": "wrong"})
    assert refused.status_code == 429, "a made-up X-Forwarded-For does not give the stranger a new address"
    limiter.reset()
