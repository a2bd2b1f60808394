"""Every route needs a login, every POST a CSRF token, owner pages a role: checked over the whole url_map,
so a route added later without protection fails here."""
import re

import pytest

from crm import PUBLIC_ENDPOINTS

PASSWORD = "correct horse battery"


def _example_url(rule):
    return re.sub(r"<(?:int:)?[^>]+>", "1", rule.rule)


def _rules(app, method):
    return [r for r in app.url_map.iter_rules() if method in r.methods and r.endpoint not in PUBLIC_ENDPOINTS]


def test_every_route_but_login_setup_and_static_needs_login(app, client, owner):
    rules = _rules(app, "GET") + _rules(app, "POST")
    assert len(rules) > 10
    for rule in rules:
        method = "POST" if "POST" in rule.methods else "GET"
        response = client.open(_example_url(rule), method=method)
        assert response.status_code == 302, (rule.rule, method, response.status_code)
        assert response.headers["Location"].startswith("/login"), rule.rule


def test_public_pages_are_only_login_setup_static_and_the_favicon():
    assert PUBLIC_ENDPOINTS == {"auth.login", "auth.setup", "static", "favicon"}


def test_no_post_succeeds_without_a_csrf_token(app, owner_client):
    rules = [r for r in app.url_map.iter_rules() if "POST" in r.methods]
    assert rules
    for rule in rules:
        response = owner_client.post(_example_url(rule), data={"anything": "x"}, csrf=False)
        assert response.status_code == 400, rule.rule
        assert "form expired" in response.get_data(as_text=True)


def test_login_itself_needs_the_csrf_token(client, owner):
    response = client.post("/login", data={"email": owner.email, "password": "correct horse battery"}, csrf=False)
    assert response.status_code == 400


def test_state_changing_routes_accept_only_post(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[-1] in {"logout", "set_active", "remove_identity", "add_messages", "add_user"}:
            assert "GET" not in rule.methods, rule.rule


def _owner_only_rules(app):
    return [r for r in app.url_map.iter_rules() if getattr(app.view_functions[r.endpoint], "owner_only", False)]


def test_staff_get_403_on_every_owner_page(app, staff_client):
    rules = _owner_only_rules(app)
    assert {r.endpoint for r in rules} >= {"admin.users", "admin.add_user", "admin.set_active", "admin.reset_password"}
    for rule in rules:
        method = "GET" if "GET" in rule.methods else "POST"
        response = staff_client.open(_example_url(rule), method=method, data={} if method == "POST" else None)
        assert response.status_code == 403, rule.rule
        assert "Only the shop owner" in response.get_data(as_text=True)


def test_staff_do_not_see_the_staff_menu(staff_client):
    assert "/users" not in staff_client.get("/customers/").get_data(as_text=True)


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example",
                                    "javascript:alert(1)"])
def test_login_never_redirects_off_site(client, owner, target):
    response = client.post(f"/login?next={target}", data={"email": owner.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_login_follows_a_local_next(client, owner):
    response = client.post("/login?next=/customers/new", data={"email": owner.email, "password": PASSWORD})
    assert response.headers["Location"] == "/customers/new"


def test_errors_show_no_stack_trace(owner_client):
    response = owner_client.get("/customers/999999")
    assert response.status_code == 404
    assert "Traceback" not in response.get_data(as_text=True)
