"""A login ends on the server: logging out makes a copy of the cookies useless, "log out everywhere" ends every
login of an account (by the user, or by the owner for a staff member), and remember-me lasts 30 days."""
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

from crm.auth.services import find_user_by_email
from crm.extensions import db

PASSWORD = "correct horse battery"


def _copy_of(app, client, *names):
    """Another browser holding copies of these cookies (taken off the shop PC, or sniffed on plain HTTP)."""
    thief = app.test_client()
    for name in names:
        cookie = client.get_cookie(name)
        assert cookie is not None, name
        thief.set_cookie(name, cookie.value)
    return thief


def test_logging_out_ends_the_login_for_copies_of_its_cookies(app, client, owner):
    assert client.login(owner.email, remember=True).status_code == 302
    session_copy = _copy_of(app, client, "session")
    remember_copy = _copy_of(app, client, "remember_token")
    assert session_copy.get("/customers/").status_code == 200
    assert remember_copy.get("/customers/").status_code == 200, "the remember-me cookie alone logs in"

    assert client.post("/logout").status_code == 302
    assert client.get("/customers/").status_code == 302
    assert session_copy.get("/customers/").status_code == 302, "a copied session cookie died with the logout"
    assert _copy_of(app, remember_copy, "remember_token").get("/customers/").status_code == 302, \
        "so did the remember-me cookie"


def test_logging_out_on_one_pc_keeps_the_phone_logged_in(app, owner):
    pc, phone = app.test_client(), app.test_client()
    pc.login(owner.email)
    phone.login(owner.email, remember=True)
    pc.post("/logout")
    assert phone.get("/customers/").status_code == 200


def test_remember_me_lasts_30_days(app, client, owner, clock):
    response = client.login(owner.email, remember=True)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token="))
    expires = parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])
    assert abs(expires - (datetime.now(timezone.utc) + timedelta(days=30))) < timedelta(minutes=5)

    kept = _copy_of(app, client, "remember_token")  # a browser reopened later: only the lasting cookie is left
    clock.shift(timedelta(days=29))
    assert _copy_of(app, kept, "remember_token").get("/customers/").status_code == 200
    clock.shift(timedelta(days=2))
    assert _copy_of(app, kept, "remember_token").get("/customers/").status_code == 302, \
        "after 30 days the login is over on the server, whatever the browser kept"


def test_log_out_everywhere_ends_your_logins_on_every_phone_and_pc(app, staff):
    pc, phone = app.test_client(), app.test_client()
    pc.login(staff.email)
    phone.login(staff.email, remember=True)
    remembered = _copy_of(app, phone, "remember_token")
    page = pc.get("/account/password").get_data(as_text=True)
    assert "Log out everywhere" in page

    response = pc.post("/account/logout-everywhere", follow_redirects=True)
    assert "logged out everywhere" in response.get_data(as_text=True)
    for browser in (pc, phone, remembered):
        assert browser.get("/customers/").status_code == 302
    from crm.models import LoginSession

    assert db.session.execute(db.select(LoginSession)).first() is None
    assert app.test_client().login(staff.email).status_code == 302, "the password still works"


def test_the_owner_logs_a_staff_member_out_everywhere(app, owner_client, staff, staff_client):
    phone = app.test_client()
    phone.login(staff.email, remember=True)
    staff_page = owner_client.get("/users").get_data(as_text=True)
    assert "logged in on 2 phones or PCs" in staff_page

    response = owner_client.post(f"/users/{staff.id}/logout-everywhere", follow_redirects=True)
    assert "logged out everywhere (2 logins ended)" in response.get_data(as_text=True)
    assert staff_client.get("/customers/").status_code == 302
    assert phone.get("/customers/").status_code == 302
    assert owner_client.get("/customers/").status_code == 200, "the owner's own login stays"
    assert app.test_client().login(staff.email).status_code == 302
    trail = owner_client.get("/audit").get_data(as_text=True)
    assert "Logged out everywhere" in trail


def test_a_new_password_ends_the_other_logins_and_keeps_this_one(app, staff):
    here, elsewhere = app.test_client(), app.test_client()
    here.login(staff.email, remember=True)
    elsewhere.login(staff.email)
    new = "another long password"
    changed = here.post("/account/password", data={"current": PASSWORD, "password": new, "confirm": new})
    assert changed.status_code == 302
    assert here.get("/customers/").status_code == 200
    assert _copy_of(app, here, "remember_token").get("/customers/").status_code == 200, "remember-me here too"
    assert elsewhere.get("/customers/").status_code == 302
    assert find_user_by_email(staff.email).check_password(new)


def test_a_session_cookie_from_before_logins_were_kept_is_refused(app, owner):
    """Cookies made before this change name no login ("id:version"): they log nobody in."""
    from flask.sessions import SecureCookieSessionInterface

    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    old = app.test_client()
    old.set_cookie("session", serializer.dumps({"_user_id": f"{owner.id}:{owner.session_version}", "_fresh": True}))
    assert old.get("/customers/").status_code == 302
