"""The audit trail: every change says who did it, in the same transaction; the owner reads it, nobody edits it."""
import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

from crm.admin import audit
from crm.admin.trash import move_to_trash
from crm.extensions import db
from crm.models import AuditEvent, ChannelIdentity, Customer, User

SAMPLES = Path(__file__).resolve().parent / "fixtures" / "samples"
ZIP = SAMPLES / "WhatsApp Chat - Rina.zip"


def _events(action=None) -> list[AuditEvent]:
    statement = db.select(AuditEvent).order_by(AuditEvent.id)
    if action:
        statement = statement.where(AuditEvent.action == action)
    return db.session.execute(statement).scalars().all()


def _customer_form(**fields):
    form = {"display_name": "Rina Marlina", "notes": "", "assigned_to_id": "0", "stage": "none",
            "expected_value": "", "identities-0-channel": "whatsapp", "identities-0-handle": "0812-3456-7890"}
    form.update(fields)
    return form


def test_adding_a_customer_is_recorded_with_who_did_it(staff_client, staff):
    assert staff_client.post("/customers/new", data=_customer_form()).status_code == 302
    customer = db.session.execute(db.select(Customer)).scalar_one()
    [event] = _events("create")
    assert (event.user_id, event.user_name) == (staff.id, "Budi Staff")
    assert (event.target_type, event.target_id, event.summary) == ("customer", customer.id, "Rina Marlina")
    assert event.details == {"handles": ["+62 812-3456-7890"]}  # what was typed in the same form
    assert event.created_at.tzinfo is not None
    assert datetime.now(timezone.utc) - event.created_at < timedelta(minutes=1)


def test_an_edit_records_each_changed_field_before_and_after(owner_client, owner, staff, make_customer):
    rina = make_customer("Rina", whatsapp="081234567890")
    form = _customer_form(display_name="Rina M.", stage="interested", expected_value="350000",
                          assigned_to_id=str(staff.id),
                          **{"identities-0-channel": "tiktok", "identities-0-handle": "@rinam"})
    assert owner_client.post(f"/customers/{rina.id}/edit", data=form).status_code == 302
    [event] = _events("edit")
    assert event.user_id == owner.id and event.target_id == rina.id and event.summary == "Rina M."
    assert event.details == {"changed": {
        "display_name": ["Rina", "Rina M."],
        "assigned_to": [None, "Budi Staff"],
        "stage": ["none", "interested"],
        "expected_value": [None, 350000],
        "handles": [["+62 812-3456-7890"], ["+62 812-3456-7890", "@rinam"]],
    }}

    same = _customer_form(display_name="Rina M.", stage="interested", expected_value="350000",
                          assigned_to_id=str(staff.id), **{"identities-0-handle": ""})
    assert owner_client.post(f"/customers/{rina.id}/edit", data=same).status_code == 302
    assert len(_events("edit")) == 1  # nothing changed, nothing recorded


def test_a_refused_edit_leaves_no_event(owner_client, make_customer):
    make_customer("Sari", whatsapp="0812-3456-7890")
    rina = make_customer("Rina")
    response = owner_client.post(f"/customers/{rina.id}/edit", data=_customer_form(display_name="Rina X"))
    assert response.status_code == 400  # the number is Sari's: the whole edit rolls back
    assert _events("edit") == []
    assert db.session.get(Customer, rina.id).display_name == "Rina"


def test_a_rolled_back_change_takes_its_event_with_it(app, make_customer):
    rina = make_customer("Rina")
    move_to_trash(rina)
    assert len(_events("delete")) == 1  # flushed in the transaction...
    db.session.rollback()
    assert _events("delete") == []  # ...and gone with it
    assert db.session.get(Customer, rina.id).deleted_at is None


def test_merge_and_identity_removal_are_recorded(owner_client, owner, make_customer):
    rina = make_customer("Rina", whatsapp="081234567890")
    duplicate = make_customer("Rina IG", instagram="@rina.ig")
    owner_client.post(f"/customers/{rina.id}/merge", data={"other_id": duplicate.id})
    [merge] = _events("merge")
    assert merge.user_id == owner.id and merge.target_id == rina.id
    assert merge.summary == "Rina IG → Rina" and merge.details["merged_id"] == duplicate.id

    identity = db.session.execute(db.select(ChannelIdentity).where(ChannelIdentity.channel == "instagram")).scalar_one()
    owner_client.post(f"/customers/{rina.id}/edit", data=_customer_form(display_name="Rina", **{
        "identities-0-identity_id": str(identity.id), "identities-0-channel": "instagram",
        "identities-0-handle": "@rina.ig", "identities-0-remove": "y"}))
    [removed] = _events("edit")
    assert removed.user_id == owner.id
    assert removed.details == {"changed": {"handles": [["+62 812-3456-7890", "@rina.ig"], ["+62 812-3456-7890"]]}}


def test_logging_a_chat_is_recorded(staff_client, staff, make_customer):
    rina = make_customer("Rina")
    staff_client.post("/conversations/log", data={
        "customer_id": rina.id, "channel": "whatsapp",
        "messages-0-side": "customer", "messages-0-body": "Harga?", "messages-0-sent_at": "",
        "messages-1-side": "staff", "messages-1-body": "185rb kak", "messages-1-sent_at": ""})
    [event] = _events("log_chat")
    assert event.user_id == staff.id and event.target_type == "conversation"
    assert event.summary == "Rina" and event.details == {"messages": 2, "channel": "whatsapp"}


def test_an_import_is_recorded_and_a_dry_run_is_not(staff_client, staff):
    def upload(dry_run):
        data = {"export": (io.BytesIO(ZIP.read_bytes()), ZIP.name), "format": "auto", "channel": "",
                "me": "Toko Batik Sari", **({"dry_run": "y"} if dry_run else {})}
        return staff_client.post("/conversations/import", data=data, content_type="multipart/form-data")

    upload(dry_run=True)
    assert _events() == []
    upload(dry_run=False)
    [event] = _events("import")
    assert event.user_id == staff.id and event.summary == ZIP.name
    assert event.details["messages_imported"] == 13 and event.details["customers_created"] == 1


def test_delete_and_restore_are_recorded_with_the_right_user(staff_client, owner_client, staff, owner, make_customer):
    rina_id = make_customer("Rina").id
    staff_client.post(f"/customers/{rina_id}/delete")
    owner_client.post(f"/trash/customer/{rina_id}/restore")
    owner_client.post(f"/customers/{rina_id}/delete")
    owner_client.post("/trash/empty")
    events = [(e.action, e.user_name, e.target_type, e.target_id) for e in _events()
              if e.action in ("delete", "restore", "empty_trash")]
    assert events == [
        ("delete", "Budi Staff", "customer", rina_id),
        ("restore", "Ani Owner", "customer", rina_id),
        ("delete", "Ani Owner", "customer", rina_id),
        ("empty_trash", "Ani Owner", "trash", None),
    ]
    assert _events("empty_trash")[0].details == {"customer": 1, "conversation": 0, "message": 0, "quickreply": 0}


def test_account_changes_are_recorded(owner_client, owner, staff):
    owner_client.post("/users", data={"name": "Citra", "email": "citra@tokosari.id", "password": "a long password 1",
                                      "confirm": "a long password 1", "role": "staff"})
    citra = db.session.execute(db.select(User).where(User.email == "citra@tokosari.id")).scalar_one()
    owner_client.post(f"/users/{staff.id}/active", data={"active": "0"})
    owner_client.post(f"/users/{staff.id}/active", data={"active": "1"})
    owner_client.post(f"/users/{citra.id}/password", data={"password": "another password 2",
                                                           "confirm": "another password 2"})
    events = [(e.action, e.user_id, e.target_type, e.target_id) for e in _events()]
    assert events == [
        ("account_added", owner.id, "user", citra.id),
        ("account_deactivated", owner.id, "user", staff.id),
        ("account_reactivated", owner.id, "user", staff.id),
        ("password_reset", owner.id, "user", citra.id),
    ]
    assert _events("account_added")[0].summary == "Citra <citra@tokosari.id>"
    assert "another password" not in str([e.details for e in _events()])


def test_the_command_line_records_without_a_user(runner, app):
    result = runner.invoke(args=["create-user", "--email", "dewi@tokosari.id", "--name", "Dewi", "--role", "staff",
                                 "--password-stdin"], input="a long password 3\n")
    assert result.exit_code == 0, result.output
    [event] = _events("account_added")
    assert event.user_id is None and event.user_name == "" and event.summary == "Dewi <dewi@tokosari.id>"


def test_the_name_at_the_time_stays(owner_client, owner, make_customer):
    rina = make_customer("Rina")
    owner_client.post(f"/customers/{rina.id}/delete")
    db.session.get(User, owner.id).name = "Ani Baru"
    db.session.commit()
    assert _events("delete")[0].user_name == "Ani Owner"
    page = owner_client.get("/audit").get_data(as_text=True)
    assert "Ani Owner" in page


# --- reading ---------------------------------------------------------------------------------------------


def test_only_the_owner_reads_the_trail(staff_client, owner_client, make_customer):
    make_customer("Rina")
    assert staff_client.get("/audit").status_code == 403
    page = owner_client.get("/audit").get_data(as_text=True)
    assert "Created" in page and "Rina" in page


def test_the_trail_filters_by_user_action_target_and_date(app, owner_client, owner, staff, make_customer):
    with app.test_request_context():
        audit.record("create", ("customer", 1), "Made by owner", user=owner)
        audit.record("delete", ("customer", 1), "Deleted by staff", user=staff)
        audit.record("account_added", ("user", 9), "By the command line", user=None)
        old = audit.record("delete", ("conversation", 5), "Long ago", user=staff)
    old.created_at = datetime(2026, 1, 10, 20, 0, tzinfo=timezone.utc)  # 11 Jan 03:00 in Jakarta
    db.session.commit()

    def shown(**args):
        page = owner_client.get("/audit", query_string=args).get_data(as_text=True)
        return {s for s in ("Made by owner", "Deleted by staff", "By the command line", "Long ago") if s in page}

    assert shown() == {"Made by owner", "Deleted by staff", "By the command line", "Long ago"}
    assert shown(user=str(staff.id)) == {"Deleted by staff", "Long ago"}
    assert shown(user="system") == {"By the command line"}
    assert shown(action="delete") == {"Deleted by staff", "Long ago"}
    assert shown(target_type="conversation") == {"Long ago"}
    assert shown(action="delete", target_type="customer") == {"Deleted by staff"}
    assert shown(**{"from": "2026-01-11", "to": "2026-01-11"}) == {"Long ago"}  # the shop's day, not UTC's
    assert shown(**{"to": "2026-01-10"}) == set()
    assert shown(**{"from": "not a date"}) == {"Made by owner", "Deleted by staff", "By the command line", "Long ago"}


def test_no_route_can_change_or_delete_an_audit_event(app, owner_client, make_customer):
    make_customer("Rina")
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/audit") or "audit" in rule.endpoint:
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule.rule
            assert getattr(app.view_functions[rule.endpoint], "owner_only", False), rule.rule
    event = _events()[0]
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert owner_client.open("/audit", method=method).status_code == 405
        assert owner_client.open(f"/audit/{event.id}", method=method).status_code in (404, 405)
    assert db.session.get(AuditEvent, event.id).summary == "Rina"
