"""Follow-ups in one step, done and snoozed; pipeline stage and sales; the score on the customer page."""
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from crm.extensions import db
from crm.models import Customer, FollowUp, Order
from crm.today.queue import shop_day
from crm.today.services import add_follow_up, due_at_for, snooze

WIB = ZoneInfo("Asia/Jakarta")


def follow_ups() -> list[FollowUp]:
    return db.session.execute(db.select(FollowUp).order_by(FollowUp.id)).scalars().all()


def local_today() -> date:
    return datetime.now(WIB).date()


# --- due dates -----------------------------------------------------------------------------------------


def test_quick_choices_are_whole_days_from_the_shops_today():
    late_evening = datetime(2026, 5, 14, 16, 30, tzinfo=timezone.utc)  # 23:30 in Jakarta
    from crm import create_app

    with create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True}).app_context():
        day = shop_day(late_evening)
        assert day.today == date(2026, 5, 14)
        assert due_at_for("1d", day) == (datetime(2026, 5, 15, tzinfo=WIB), False)
        assert due_at_for("3d", day)[0].date() == date(2026, 5, 17)
        assert due_at_for("7d", day)[0].date() == date(2026, 5, 21)
        assert due_at_for("date", day, date(2026, 6, 1), time(14, 0)) == (datetime(2026, 6, 1, 14, tzinfo=WIB), True)
        with pytest.raises(ValueError):
            due_at_for("date", day)


def test_snoozing_counts_from_today_and_keeps_the_time_of_day(app, make_customer):
    rina = make_customer("Rina")
    day = shop_day()
    week_ago = datetime.combine(day.today - timedelta(days=7), time(10, 0), tzinfo=WIB)
    follow_up = add_follow_up(rina, due_at=week_ago, has_time=True)
    snooze(follow_up, "1d", day=day)
    assert follow_up.due_at == datetime.combine(day.today + timedelta(days=1), time(10, 0), tzinfo=WIB)
    assert follow_up.has_time


# --- through the pages ---------------------------------------------------------------------------------


def test_one_click_follow_up_from_a_conversation(staff_client, staff, make_customer, chat):
    rina = make_customer("Rina")
    conversation = chat(rina, [("customer", "Harga gamis?")])
    page = staff_client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert 'name="when" value="3d"' in page
    response = staff_client.post("/follow-ups/new", data={
        "customer_id": rina.id, "conversation_id": conversation.id, "assigned_to_id": staff.id, "when": "3d",
        "next": f"/conversations/{conversation.id}"})
    assert response.status_code == 302 and response.headers["Location"] == f"/conversations/{conversation.id}"
    [follow_up] = follow_ups()
    assert follow_up.due_at == datetime.combine(local_today() + timedelta(days=3), time(0), tzinfo=WIB)
    assert not follow_up.has_time and follow_up.conversation_id == conversation.id
    assert follow_up.assigned_to_id == staff.id and follow_up.created_by_id == staff.id


def test_pick_a_date_with_a_time_and_a_note(staff_client, owner, make_customer):
    rina = make_customer("Rina")
    assert staff_client.get(f"/follow-ups/new?customer_id={rina.id}").status_code == 200
    when = local_today() + timedelta(days=10)
    response = staff_client.post("/follow-ups/new", data={
        "customer_id": rina.id, "assigned_to_id": owner.id, "when": "date", "due_date": when.isoformat(),
        "due_time": "14:30", "note": "kirim   katalog baru"})
    assert response.status_code == 302 and response.headers["Location"] == f"/customers/{rina.id}"
    [follow_up] = follow_ups()
    assert follow_up.due_at == datetime.combine(when, time(14, 30), tzinfo=WIB) and follow_up.has_time
    assert follow_up.note == "kirim katalog baru" and follow_up.assigned_to_id == owner.id
    page = staff_client.get(f"/customers/{rina.id}").get_data(as_text=True)
    assert "kirim katalog baru" in page and "Ani Owner" in page


def test_pick_a_date_without_the_date_keeps_what_was_typed(staff_client, make_customer):
    rina = make_customer("Rina")
    response = staff_client.post("/follow-ups/new", data={
        "customer_id": rina.id, "assigned_to_id": 0, "when": "date", "note": "tanya ukuran <b>L</b>"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Pick the date." in page
    assert 'value="tanya ukuran &lt;b&gt;L&lt;/b&gt;"' in page
    assert follow_ups() == []


def test_no_follow_up_for_a_deleted_customer(staff_client, make_customer):
    rina = make_customer("Rina")
    rina.deleted_at = datetime.now(timezone.utc)
    db.session.commit()
    response = staff_client.post("/follow-ups/new", data={"customer_id": rina.id, "assigned_to_id": 0, "when": "1d"})
    assert response.status_code == 404 and follow_ups() == []


def test_done_and_snooze_from_the_customer_page(staff_client, make_customer):
    rina = make_customer("Rina")
    day = shop_day()
    first = add_follow_up(rina, due_at=day.start, has_time=False, note="satu")
    second = add_follow_up(rina, due_at=day.start, has_time=False, note="dua")
    db.session.commit()
    back = f"/customers/{rina.id}"
    assert staff_client.post(f"/follow-ups/{first.id}/done", data={"next": back}).headers["Location"] == back
    assert staff_client.get(f"/follow-ups/{second.id}/snooze").status_code == 200
    response = staff_client.post(f"/follow-ups/{second.id}/snooze", data={"when": "date", "next": back})
    assert response.status_code == 400 and "Pick the date." in response.get_data(as_text=True)
    picked = day.today + timedelta(days=20)
    staff_client.post(f"/follow-ups/{second.id}/snooze", data={"when": "date", "due_date": picked.isoformat()})
    first, second = follow_ups()
    assert first.done_at is not None and second.done_at is None
    assert second.due_at == datetime.combine(picked, time(0), tzinfo=WIB)


def test_next_never_leads_off_site(staff_client, make_customer):
    rina = make_customer("Rina")
    follow_up = add_follow_up(rina, due_at=shop_day().start, has_time=False)
    db.session.commit()
    response = staff_client.post(f"/follow-ups/{follow_up.id}/done", data={"next": "//evil.example/"})
    assert response.headers["Location"] == "/"


# --- stage, sales, score -------------------------------------------------------------------------------


def test_becoming_won_asks_for_the_sale(staff_client, make_customer, chat):
    rina = make_customer("Rina")
    chat(rina, [("customer", "order 2 ya kak")], channel="instagram")
    page = staff_client.get(f"/customers/{rina.id}").get_data(as_text=True)
    assert '<option selected value="instagram">' in page, "the sale channel defaults to the latest chat's"
    response = staff_client.post(f"/customers/{rina.id}/pipeline", data={
        "stage": "won", "expected_value": "450000", "sold_on": local_today().isoformat(), "channel": "instagram"})
    assert response.status_code == 400 and "How much did they buy for?" in response.get_data(as_text=True)
    assert db.session.get(Customer, rina.id).stage == "none"
    response = staff_client.post(f"/customers/{rina.id}/pipeline", data={
        "stage": "won", "expected_value": "450000", "amount": "370000", "sold_on": local_today().isoformat(),
        "channel": "instagram"})
    assert response.status_code == 302
    customer = db.session.get(Customer, rina.id)
    assert customer.stage == "won" and customer.expected_value == 450000
    [order] = db.session.execute(db.select(Order)).scalars().all()
    assert (order.total, order.step("paid").at.astimezone(WIB).date(), order.channel, order.customer_id) == (
        370000, local_today(), "instagram", rina.id), "a sale is an order paid that day"
    assert order.status == "paid" and order.created_by_id is not None
    assert "Rp 370,000" in staff_client.get(f"/customers/{rina.id}").get_data(as_text=True)


def test_stage_and_expected_value_without_a_sale(staff_client, make_customer):
    rina = make_customer("Rina")
    response = staff_client.post(f"/customers/{rina.id}/pipeline", data={
        "stage": "negotiating", "expected_value": "1200000", "channel": "whatsapp"})
    assert response.status_code == 302
    customer = db.session.get(Customer, rina.id)
    assert (customer.stage, customer.expected_value) == ("negotiating", 1200000)
    assert db.session.execute(db.select(Order)).first() is None
    assert staff_client.post(f"/customers/{rina.id}/pipeline", data={"stage": "nope"}).status_code == 400


def test_a_repeat_sale_for_a_won_customer(staff_client, make_customer):
    rina = make_customer("Rina")
    rina.stage = "won"
    db.session.commit()
    response = staff_client.post(f"/customers/{rina.id}/pipeline", data={
        "stage": "won", "amount": "100000", "channel": "whatsapp"})
    assert response.status_code == 400 and "When was the sale?" in response.get_data(as_text=True)
    assert staff_client.post(f"/customers/{rina.id}/pipeline", data={"stage": "won", "channel": "whatsapp"}
                             ).status_code == 302, "saving a won customer without a new sale is fine"


def test_customer_page_shows_the_score_and_its_reasons(staff_client, make_customer, chat):
    rina = make_customer("Rina")
    rina.stage = "interested"
    db.session.commit()
    now = datetime.now(timezone.utc)
    chat(rina, [("customer", "Harganya brp kak?"), ("staff", "185rb kak")], start=now - timedelta(days=2, hours=1))
    chat(rina, [("customer", "halo kak, masih ada?")], channel="instagram", start=now - timedelta(hours=3))
    page = staff_client.get(f"/customers/{rina.id}").get_data(as_text=True)
    assert '<span class="score' in page
    for reason in ("+25 asked about Price 2 days ago", "+15 asked about Product interest today",
                   "+15 waiting for our reply since today", "+10 stage is Interested", "+10 last message today"):
        assert reason in page, reason
    assert ">75</span>" in page
