import re

from crm.auth.services import find_user_by_email
from crm.extensions import db
from crm.models import User

PASSWORD = "correct horse battery"  # the one the fixtures use



def test_without_any_account_login_leads_to_setup(client):
    response = client.get("/login")
    assert response.status_code == 302 and response.headers["Location"] == "/setup"


def test_setup_creates_the_owner_only_with_the_console_token(app, client, capsys):
    page = client.get("/setup").get_data(as_text=True)
    token = re.search(r"setup token:\n\s+(\S+)", capsys.readouterr().err).group(1)
    assert token not in page, "the token is shown only on the server console"
    form = {"name": "Ani", "email": "ani@tokosari.id", "password": PASSWORD, "confirm": PASSWORD}

    wrong = client.post("/setup", data={**form, "token": "guess"})
    assert wrong.status_code == 200
    assert "not the token" in wrong.get_data(as_text=True)
    assert 'value="ani@tokosari.id"' in wrong.get_data(as_text=True), "what was typed is kept"
    assert find_user_by_email("ani@tokosari.id") is None

    right = client.post("/setup", data={**form, "token": token})
    assert right.status_code == 302
    owner = find_user_by_email("ani@tokosari.id")
    assert owner.role == "owner" and owner.password_hash != PASSWORD
    assert client.get("/customers/").status_code == 200, "logged in right away"
    assert client.get("/setup").status_code == 404, "setup is one-time"


def test_login_and_logout(client, owner):
    assert client.get("/customers/").status_code == 302
    bad = client.login(owner.email, "wrong password")
    assert bad.status_code == 200 and "Wrong e-mail or password" in bad.get_data(as_text=True)
    assert client.login(owner.email.upper()).status_code == 302
    assert client.get("/customers/").status_code == 200
    assert client.get("/logout").status_code == 405, "logging out changes state: POST only"
    assert client.post("/logout").status_code == 302
    assert client.get("/customers/").status_code == 302


def test_remember_me_sets_a_lasting_cookie(client, owner):
    client.login(owner.email, remember=True)
    assert client.get_cookie("remember_token") is not None


def test_owner_adds_staff_who_can_log_in(app, owner_client):
    form = {"name": "Dina", "email": "dina@tokosari.id", "password": PASSWORD, "confirm": PASSWORD, "role": "staff"}
    assert owner_client.post("/users", data=form).status_code == 302
    dina = find_user_by_email("dina@tokosari.id")
    assert dina.role == "staff" and dina.active
    assert app.test_client().login("dina@tokosari.id").status_code == 302


def test_adding_staff_with_bad_input_keeps_what_was_typed(owner_client, owner):
    form = {"name": "Dina 😊", "email": owner.email, "password": "short", "confirm": "short", "role": "staff"}
    response = owner_client.post("/users", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Dina 😊" in page and "needs at least 10 characters" in page


def test_deactivated_staff_are_logged_out_and_cannot_log_in(app, owner_client, staff, staff_client):
    assert owner_client.post(f"/users/{staff.id}/active", data={"active": "0"}).status_code == 302
    assert staff_client.get("/customers/").status_code == 302, "the open session ends"
    again = app.test_client().login(staff.email)
    assert again.status_code == 200 and "deactivated" in again.get_data(as_text=True)
    owner_client.post(f"/users/{staff.id}/active", data={"active": "1"})
    assert app.test_client().login(staff.email).status_code == 302


def test_owner_resets_a_password_and_old_sessions_end(app, owner_client, staff, staff_client):
    new = "a brand new password"
    response = owner_client.post(f"/users/{staff.id}/password", data={"password": new, "confirm": new})
    assert response.status_code == 302
    assert staff_client.get("/customers/").status_code == 302
    assert app.test_client().login(staff.email, new).status_code == 302


def test_owner_cannot_lock_themself_out(owner_client, owner):
    assert owner_client.post(f"/users/{owner.id}/active", data={"active": "0"}).status_code == 400
    assert db.session.get(User, owner.id).active


def test_changing_your_own_password_needs_the_current_one(staff_client, staff):
    new = "another long password"
    wrong = staff_client.post("/account/password", data={"current": "nope", "password": new, "confirm": new})
    assert "not your current password" in wrong.get_data(as_text=True)
    right = staff_client.post("/account/password", data={"current": PASSWORD, "password": new, "confirm": new})
    assert right.status_code == 302
    assert staff_client.get("/customers/").status_code == 200, "this session stays logged in"
    assert find_user_by_email(staff.email).check_password(new)


def test_create_user_command_reads_the_password_from_stdin(runner):
    result = runner.invoke(
        args=["create-user", "--role", "owner", "--email", "Boss@Tokosari.id", "--name", "Boss", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    user = find_user_by_email("boss@tokosari.id")
    assert user.role == "owner" and user.check_password(PASSWORD)


def test_create_user_command_prompts_and_refuses_short_passwords(runner):
    result = runner.invoke(args=["create-user", "--email", "x@tokosari.id", "--name", "X"], input="short\nshort\n")
    assert result.exit_code != 0 and "at least 10" in result.output
    assert find_user_by_email("x@tokosari.id") is None
