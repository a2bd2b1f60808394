"""Protections that must fail these tests if removed: headers, throttling, cookies, sizes, sessions."""
import re

from crm.security import limiter

PASSWORD = "correct horse battery"


def test_security_headers_on_every_page(client, owner_client):
    for response in (client.get("/login"), owner_client.get("/customers/"), owner_client.get("/static/app.css")):
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_no_template_has_inline_script_or_handlers():
    from pathlib import Path

    for template in (Path(__file__).resolve().parents[1] / "templates").rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template
        assert not re.search(r"\son[a-z]+\s*=", text), template
        assert 'style="' not in text, template


def test_session_cookie_is_httponly_and_lax_and_secure_over_https(app, owner):
    client = app.test_client()
    response = client.post("/login", data={"email": owner.email, "password": PASSWORD, "remember": "y"})
    cookies = response.headers.getlist("Set-Cookie")
    session = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session and "SameSite=Lax" in session and "Secure" not in session
    secure = app.test_client().post("/login", base_url="https://crm.tokosari.id",
                                    data={"email": owner.email, "password": PASSWORD, "remember": "y"})
    assert all("; Secure" in c for c in secure.headers.getlist("Set-Cookie"))
    assert "Strict-Transport-Security" in secure.headers


def test_failed_logins_are_throttled_per_account(app, client, owner):
    limiter.reset()
    for _ in range(5):
        assert client.post("/login", data={"email": owner.email, "password": "wrong"}).status_code == 200
    blocked = client.post("/login", data={"email": owner.email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.get_data(as_text=True)
    other = app.test_client().post("/login", data={"email": "someone@tokosari.id", "password": "x"})
    assert other.status_code == 200, "another account is not locked by these failures"
    limiter.reset()


def test_failed_logins_are_throttled_per_address(app, client, owner):
    limiter.reset()
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "3 per 10 minutes"
    for i in range(3):
        client.post("/login", data={"email": f"guess{i}@tokosari.id", "password": "wrong"})
    assert client.post("/login", data={"email": owner.email, "password": PASSWORD}).status_code == 429
    limiter.reset()


def test_successful_logins_do_not_count(app, owner):
    limiter.reset()
    for _ in range(8):
        client = app.test_client()
        assert client.post("/login", data={"email": owner.email, "password": PASSWORD}).status_code == 302
    limiter.reset()


def test_oversized_requests_are_refused_with_413(app, owner_client):
    app.config["MAX_CONTENT_LENGTH"] = 100_000
    response = owner_client.post("/conversations/log", data={"pasted": "x" * 200_000})
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


def test_a_long_pasted_chat_fits(owner_client):
    chat = "".join(f"[10.{i % 60:02d}, 09/05/2026] Rina: pesan nomor {i} 😊\n" for i in range(20_000))
    assert len(chat.encode()) > 600_000
    response = owner_client.post("/conversations/log/preview", data={"pasted": chat, "channel": "whatsapp"},
                                 headers={"HX-Request": "true"})
    assert response.status_code == 200 and "20000 messages" in response.get_data(as_text=True)
