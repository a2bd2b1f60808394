"""Orders: created by hand or from a format order in the chat, their steps and dates, the suggestions a thread
offers and accepting them, saving a format order's details to the customer, merges, the audit trail, and the
migration that makes every sale a paid order."""
import os
import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from crm import create_app
from crm.customers.services import merge_customers
from crm.extensions import db
from crm.models import AuditEvent, Customer, DismissedSuggestion, Message, Order
from crm.orders.services import (
    ItemInput,
    OrderInput,
    StepRefused,
    create_order,
    order_total,
    paid_orders_of,
    set_status,
)

WIB = ZoneInfo("Asia/Jakarta")
FORM = ("Nama: Rina Wati\nAlamat: Jl. Melati No. 5, RT 02/RW 03\nKota: Jakarta Selatan\nNo HP/WA: 0812-3456-7890\n"
        "Pesanan: Gamis parang\nJumlah: 2\nUkuran: L\nWarna: Sogan\nEkspedisi: JNE\nPembayaran: Transfer BCA")


def now():
    return datetime.now(timezone.utc)


def an_order(customer, **data):
    items = data.pop("items", [ItemInput("Gamis parang", "L", 2, 185_000)])
    ordered_at = data.pop("ordered_at", None) or now() - timedelta(days=2)
    order = create_order(customer, OrderInput(items=items, channel="whatsapp", **data), ordered_at=ordered_at)
    db.session.commit()
    return order


def steps(order):
    return {step.status: step.at for step in order.steps}


# Amounts and steps --------------------------------------------------------------------------------------------

def test_the_total_adds_up_items_shipping_and_discount(app, make_customer):
    rina = make_customer("Rina")
    order = an_order(rina, items=[ItemInput("Gamis", "L", 2, 185_000), ItemInput("Hijab", "", 1, 75_000)],
                     shipping_cost=15_000, discount=10_000)
    assert order.total == 2 * 185_000 + 75_000 + 15_000 - 10_000
    assert [(i.position, i.name, i.line_total) for i in order.items] == [(0, "Gamis", 370_000), (1, "Hijab", 75_000)]
    assert an_order(rina, items=[ItemInput("Gamis", "", 1, None)]).total is None, "an item without price: unknown"
    assert an_order(rina, items=[ItemInput("Gamis", "", 1, None)], total=200_000).total == 200_000
    assert order_total([], 10_000, 0) is None


def test_each_step_keeps_its_date(app, make_customer, clock):
    rina = make_customer("Rina")
    ordered = now() - timedelta(days=3)
    order = an_order(rina, ordered_at=ordered, payment_method="bank_transfer")
    assert (order.status, steps(order)) == ("awaiting_payment", {"awaiting_payment": ordered})
    moments = {status: ordered + timedelta(hours=n) for n, status in enumerate(
        ("paid", "packed", "shipped", "delivered"), start=1)}
    for status, moment in moments.items():
        set_status(order, status, moment, courier="jne" if status == "shipped" else None,
                   tracking_number="010880123456" if status == "shipped" else None)
        db.session.commit()
        assert order.status == status and steps(order)[status] == moment
    assert steps(order) == {"awaiting_payment": ordered, **moments}
    assert (order.courier, order.tracking_number) == ("jne", "010880123456")
    events = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "order_status")).scalars().all()
    assert [e.details["status"] for e in events] == [["awaiting_payment", "paid"], ["paid", "packed"],
                                                     ["packed", "shipped"], ["shipped", "delivered"]]
    assert events[2].details["tracking_number"] == "010880123456"


def test_a_step_cannot_come_before_the_one_it_follows(app, make_customer):
    rina = make_customer("Rina")
    ordered = now() - timedelta(days=3)
    order = an_order(rina, ordered_at=ordered)
    with pytest.raises(StepRefused):
        set_status(order, "paid", ordered - timedelta(hours=1))
    set_status(order, "paid", ordered + timedelta(hours=5))
    with pytest.raises(StepRefused):
        set_status(order, "shipped", ordered + timedelta(hours=4))
    set_status(order, "shipped", ordered + timedelta(hours=6))
    assert order.status == "shipped"


def test_going_back_is_a_correction_and_endings_keep_what_came_before(app, make_customer):
    rina = make_customer("Rina")
    ordered = now() - timedelta(days=3)
    order = an_order(rina, ordered_at=ordered)
    for n, status in enumerate(("paid", "packed", "shipped"), start=1):
        set_status(order, status, ordered + timedelta(hours=n))
    set_status(order, "paid", ordered + timedelta(hours=1))
    assert set(steps(order)) == {"awaiting_payment", "paid"}, "packed and shipped were a mistake"
    set_status(order, "cancelled", ordered + timedelta(hours=9))
    assert order.status == "cancelled" and set(steps(order)) == {"awaiting_payment", "paid", "cancelled"}
    set_status(order, "returned", ordered + timedelta(hours=10))
    assert set(steps(order)) == {"awaiting_payment", "paid", "returned"}, "one ending at a time"
    set_status(order, "paid", ordered + timedelta(hours=2))
    assert order.status == "paid" and set(steps(order)) == {"awaiting_payment", "paid"}
    assert steps(order)["paid"] == ordered + timedelta(hours=2), "choosing a step again moves its date"
    set_status(order, "awaiting_payment", now())
    assert set(steps(order)) == {"awaiting_payment"} and steps(order)["awaiting_payment"] == ordered


def test_cash_on_delivery_is_paid_when_delivered(app, make_customer):
    rina = make_customer("Rina")
    ordered = now() - timedelta(days=4)
    order = an_order(rina, ordered_at=ordered, payment_method="cod")
    set_status(order, "shipped", ordered + timedelta(days=1))
    assert paid_orders_of(rina) == []
    delivered = ordered + timedelta(days=3)
    set_status(order, "delivered", delivered)
    db.session.commit()
    assert steps(order)["paid"] == delivered and paid_orders_of(rina) == [order]


def test_returned_and_cancelled_orders_are_not_sales(app, make_customer):
    rina = make_customer("Rina")
    order = an_order(rina)
    set_status(order, "paid", now() - timedelta(days=1))
    assert paid_orders_of(rina) == [order]
    set_status(order, "returned", now())
    assert paid_orders_of(rina) == []


# Pages --------------------------------------------------------------------------------------------------------

def test_a_new_order_by_hand(staff_client, make_customer):
    rina = make_customer("Rina", whatsapp="081234567890")
    page = staff_client.get(f"/orders/new?customer_id={rina.id}").get_data(as_text=True)
    assert "New order for Rina" in page
    response = staff_client.post("/orders/new", data={
        "customer_id": rina.id, "items-0-name": "Gamis parang", "items-0-variant": "L / Sogan",
        "items-0-quantity": "2", "items-0-unit_price": "185rb", "shipping_cost": "Rp 15.000", "discount": "",
        "payment_method": "bank_transfer", "channel": "whatsapp", "address": "Jl. Melati 5"})
    assert response.status_code == 302
    order = db.session.execute(db.select(Order)).scalar_one()
    assert (order.total, order.shipping_cost, order.status, order.payment_method) == (
        385_000, 15_000, "awaiting_payment", "bank_transfer")
    assert order.created_by.name == "Budi Staff"
    page = staff_client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Gamis parang" in page and "Rp 385,000" in page and "Awaiting payment" in page
    assert "Order #%d" % order.id in staff_client.get(f"/customers/{rina.id}").get_data(as_text=True)
    [event] = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "order_created")).scalars().all()
    assert event.target_id == order.id and event.details["total"] == 385_000


def test_a_refused_order_form_keeps_what_was_typed(staff_client, make_customer):
    rina = make_customer("Rina")
    response = staff_client.post("/orders/new", data={
        "customer_id": rina.id, "items-0-name": "Gamis parang", "items-0-quantity": "2",
        "items-0-unit_price": "seratus", "channel": "whatsapp", "note": "kirim cepat ya"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Type an amount in rupiah" in page and 'value="seratus"' in page and "kirim cepat ya" in page
    assert db.session.execute(db.select(Order)).first() is None
    response = staff_client.post("/orders/new", data={"customer_id": rina.id, "channel": "whatsapp"})
    assert response.status_code == 400 and "Add an item, or type the total." in response.get_data(as_text=True)


def test_status_changes_on_the_order_page(staff_client, make_customer):
    rina = make_customer("Rina")
    order = an_order(rina)
    moment = (now() - timedelta(days=1)).astimezone(WIB).strftime("%Y-%m-%dT%H:%M")
    response = staff_client.post(f"/orders/{order.id}/status", data={"status": "paid", "at": moment})
    assert response.status_code == 302
    order = db.session.get(Order, order.id)
    assert order.status == "paid"
    assert steps(order)["paid"].astimezone(WIB).strftime("%Y-%m-%dT%H:%M") == moment
    future = (now() + timedelta(days=1)).astimezone(WIB).strftime("%Y-%m-%dT%H:%M")
    response = staff_client.post(f"/orders/{order.id}/status", data={
        "status": "shipped", "at": future, "courier": "jnt", "tracking_number": "JP1234567890"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "in the future" in page and 'value="JP1234567890"' in page
    response = staff_client.post(f"/orders/{order.id}/status", data={
        "status": "shipped", "courier": "jnt", "tracking_number": "jp1234567890"})
    order = db.session.get(Order, order.id)
    assert (order.status, order.courier, order.tracking_number) == ("shipped", "jnt", "JP1234567890")
    page = staff_client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "J&amp;T Express JP1234567890" in page


def test_editing_an_order(staff_client, make_customer):
    rina = make_customer("Rina")
    order = an_order(rina)
    page = staff_client.get(f"/orders/{order.id}/edit").get_data(as_text=True)
    assert 'value="Gamis parang"' in page and 'value="185,000"' in page
    response = staff_client.post(f"/orders/{order.id}/edit", data={
        "items-0-name": "Gamis parang", "items-0-quantity": "3", "items-0-unit_price": "185.000",
        "items-1-name": "Hijab", "items-1-quantity": "1", "items-1-unit_price": "75rb", "channel": "instagram"})
    assert response.status_code == 302
    order = db.session.get(Order, order.id)
    assert (order.total, order.channel, len(order.items)) == (3 * 185_000 + 75_000, "instagram", 2)
    event = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "edit")).scalar_one()
    assert event.details["changed"]["total"] == [370_000, 630_000]


def test_orders_of_a_trashed_customer_are_gone_with_them(staff_client, owner_client, make_customer):
    rina = make_customer("Rina")
    order = an_order(rina)
    staff_client.post(f"/customers/{rina.id}/delete")
    assert staff_client.get(f"/orders/{order.id}").status_code == 404
    assert "Rina" not in staff_client.get("/orders/").get_data(as_text=True)


def test_a_merge_brings_the_orders_along(app, make_customer):
    rina, duplicate = make_customer("Rina"), make_customer("Rina K")
    order = an_order(duplicate)
    merge_customers(rina, duplicate)
    db.session.commit()
    assert db.session.get(Order, order.id).customer_id == rina.id


# From the chat ------------------------------------------------------------------------------------------------

@pytest.fixture
def rina_chat(make_customer, chat):
    rina = make_customer("Rina", whatsapp="081299990000")
    start = now() - timedelta(hours=6)
    conversation = chat(rina, [
        ("customer", "kak mau order ya"),
        ("customer", FORM),
        ("staff", "Siap kak, total 370rb + ongkir 15rb = 385rb ya. Transfer ke BCA 1234567890 a/n Toko Sari"),
        ("customer", "sudah transfer kak"),
        ("staff", "Sudah dikirim ya kak, resi JNE 010880123456"),
    ], start=start, step=timedelta(minutes=30))
    return rina, conversation


def _message(conversation, text):
    return db.session.execute(db.select(Message).where(Message.conversation_id == conversation.id,
                                                       Message.body.contains(text))).scalar_one()


def test_the_thread_suggests_and_the_shop_confirms_each_step(staff_client, rina_chat):
    rina, conversation = rina_chat
    thread = f"/conversations/{conversation.id}"
    page = staff_client.get(thread).get_data(as_text=True)
    assert "From the chat" in page and "A format order: create the order?" in page
    assert "<mark>Nama</mark>" in page and "<mark>total 385rb</mark>" in page
    assert "<mark>sudah transfer</mark>" in page and "No photo in the chat" in page
    assert "<mark>010880123456</mark>" in page and "No open order to mark" in page
    assert db.session.execute(db.select(Order)).first() is None, "suggestions change nothing"

    form_message = _message(conversation, "Nama: Rina Wati")
    page = staff_client.get(f"/orders/new?customer_id={rina.id}&conversation_id={conversation.id}"
                            f"&message_id={form_message.id}&next={thread}").get_data(as_text=True)
    assert 'value="Gamis parang"' in page and 'value="L / Sogan"' in page and 'value="2"' in page
    assert 'value="385,000"' in page and 'value="15,000"' in page
    assert "Jl. Melati No. 5, RT 02/RW 03, Jakarta Selatan" in page and 'value="Rina Wati"' in page
    assert '<option selected value="jne">' in page and '<option selected value="bank_transfer">' in page
    assert "Name: Rina → Rina Wati" in page and "WhatsApp number: 0812-3456-7890" in page
    ordered_at = form_message.sent_at.astimezone(WIB).strftime("%Y-%m-%dT%H:%M:%S")
    assert f'value="{ordered_at}"' in page, "the order was placed when the format order was sent"

    response = staff_client.post("/orders/new", data={
        "customer_id": rina.id, "conversation_id": conversation.id, "source_message_id": form_message.id,
        "next": thread, "items-0-name": "Gamis parang", "items-0-variant": "L / Sogan", "items-0-quantity": "2",
        "shipping_cost": "15.000", "total": "385.000", "payment_method": "bank_transfer", "channel": "whatsapp",
        "ordered_at": ordered_at, "recipient_name": "Rina Wati", "recipient_phone": "0812-3456-7890",
        "address": "Jl. Melati No. 5, RT 02/RW 03, Jakarta Selatan", "courier": "jne",
        "offer_name": "Rina Wati", "offer_address": "Jl. Melati No. 5, RT 02/RW 03, Jakarta Selatan",
        "offer_phone": "0812-3456-7890", "save_name": "y", "save_address": "y", "save_phone": "y"})
    assert response.status_code == 302 and response.headers["Location"] == thread
    order = db.session.execute(db.select(Order)).scalar_one()
    assert (order.total, order.conversation_id, order.source_message_id) == (385_000, conversation.id, form_message.id)
    assert order.ordered_at == form_message.sent_at.replace(microsecond=0)
    customer = db.session.get(Customer, rina.id)
    assert customer.display_name == "Rina Wati" and customer.address.startswith("Jl. Melati No. 5")
    assert sorted(i.handle for i in customer.identities) == ["+6281234567890", "+6281299990000"]

    page = staff_client.get(thread).get_data(as_text=True)
    assert "A format order" not in page, "an accepted suggestion is not made again"
    assert "Yes, mark it paid" in page and "Yes, mark it shipped" in page
    paid_message = _message(conversation, "sudah transfer")
    staff_client.post(f"/orders/{order.id}/status", data={
        "status": "paid", "at": paid_message.sent_at.astimezone(WIB).strftime("%Y-%m-%dT%H:%M:%S"),
        "message_id": paid_message.id, "next": thread})
    resi_message = _message(conversation, "resi JNE")
    staff_client.post(f"/orders/{order.id}/status", data={
        "status": "shipped", "at": resi_message.sent_at.astimezone(WIB).strftime("%Y-%m-%dT%H:%M:%S"),
        "message_id": resi_message.id, "courier": "jne", "tracking_number": "010880123456", "next": thread})
    order = db.session.get(Order, order.id)
    assert (order.status, order.courier, order.tracking_number) == ("shipped", "jne", "010880123456")
    assert order.step("paid").message_id == paid_message.id
    assert order.step("shipped").at == resi_message.sent_at.replace(microsecond=0)
    page = staff_client.get(thread).get_data(as_text=True)
    assert "From the chat" not in page
    assert "Orders in this chat" in page and "JNE 010880123456" in page and "in the chat" in page
    # A second visit to the suggestion's link goes to the order made from it.
    response = staff_client.get(f"/orders/new?customer_id={rina.id}&conversation_id={conversation.id}"
                                f"&message_id={form_message.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/orders/{order.id}")


def test_a_dismissed_suggestion_stays_dismissed(staff_client, rina_chat):
    rina, conversation = rina_chat
    message = _message(conversation, "Nama: Rina Wati")
    response = staff_client.post("/orders/suggestions/dismiss", data={
        "message_id": message.id, "kind": "new_order", "next": f"/conversations/{conversation.id}"})
    assert response.status_code == 302
    assert db.session.get(DismissedSuggestion, (message.id, "new_order")) is not None
    page = staff_client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert "A format order" not in page and "sudah transfer" in page
    assert staff_client.post("/orders/suggestions/dismiss", data={"message_id": message.id, "kind": "nope"}
                             ).status_code == 400


def test_a_suggestion_cannot_point_at_another_customers_message(staff_client, rina_chat, make_customer):
    rina, conversation = rina_chat
    dewi = make_customer("Dewi")
    order = an_order(dewi)
    message = _message(conversation, "sudah transfer")
    response = staff_client.post(f"/orders/{order.id}/status", data={"status": "paid", "message_id": message.id})
    assert response.status_code == 400
    response = staff_client.get(f"/orders/new?customer_id={dewi.id}&conversation_id={conversation.id}"
                                f"&message_id={message.id}")
    assert response.status_code == 400


def test_the_customers_own_number_or_anothers_is_not_added_twice(staff_client, rina_chat, make_customer):
    rina, conversation = rina_chat
    make_customer("Other Rina", whatsapp="081234567890")
    message = _message(conversation, "Nama: Rina Wati")
    response = staff_client.post("/orders/new", data={
        "customer_id": rina.id, "conversation_id": conversation.id, "source_message_id": message.id,
        "items-0-name": "Gamis", "total": "385rb", "channel": "whatsapp", "offer_phone": "0812-3456-7890",
        "save_phone": "y"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "it belongs to Other Rina" in page
    assert [i.handle for i in db.session.get(Customer, rina.id).identities] == ["+6281299990000"]
    assert db.session.execute(db.select(Order)).scalar_one().total == 385_000, "the order is saved all the same"


# Order settings -----------------------------------------------------------------------------------------------

def test_order_settings_are_the_owners(owner_client, staff_client):
    assert staff_client.get("/orders/settings").status_code == 403
    page = owner_client.get("/orders/settings").get_data(as_text=True)
    assert 'value="2"' in page and 'value="30"' in page
    response = owner_client.post("/orders/settings", data={
        "payment_nudge_days": "3", "delivery_days": "6", "review_days": "4", "repeat_days": "45",
        "repeat_days_by_product": "madu: 30\nberas 5kg = 14\nnonsense"})
    assert response.status_code == 400 and "could not read: nonsense" in response.get_data(as_text=True)
    response = owner_client.post("/orders/settings", data={
        "payment_nudge_days": "3", "delivery_days": "6", "review_days": "4", "repeat_days": "45",
        "repeat_days_by_product": "Madu: 30\nberas 5kg = 14"})
    assert response.status_code == 302
    from crm.orders.settings import order_settings

    settings = order_settings()
    assert (settings.payment_nudge_days, settings.review_days, settings.repeat_days) == (3, 4, 45)
    assert settings.repeat_days_by_product == (("madu", 30), ("beras 5kg", 14))
    assert settings.repeat_days_for(["Madu hutan 500ml"]) == 30
    assert settings.repeat_days_for(["Beras 5kg pandan wangi", "madu"]) == 14
    assert settings.repeat_days_for(["Gamis"]) == 45
    assert db.session.execute(db.select(AuditEvent).where(AuditEvent.target_type == "settings")).scalar_one()


# The migration of sales ---------------------------------------------------------------------------------------

def _revisions_of_the_orders_migration() -> tuple[str, str]:
    """(its revision, the one before it), read from the file: migrations are renumbered when branches merge."""
    from pathlib import Path

    [path] = (Path(__file__).resolve().parents[1] / "migrations" / "versions").glob("*_orders_from_sales.py")
    source = path.read_text(encoding="utf-8")
    find = lambda name: re.search(rf"^{name} = '([^']+)'", source, re.M).group(1)  # noqa: E731
    return find("revision"), find("down_revision")


@pytest.fixture
def unmigrated_database_url(request, tmp_path):
    """An empty database of the kind the suite runs on: a new SQLite file, or a new PostgreSQL database."""
    if os.environ.get("OBROLAN_TEST_DATABASE_URL", "").startswith("postgresql"):  # as tests/conftest.py
        return request.getfixturevalue("empty_postgres_url")
    return f"sqlite:///{tmp_path / 'sales.sqlite'}"


def test_every_sale_becomes_a_paid_order_with_its_amount_and_day(unmigrated_database_url, tmp_path):
    from flask_migrate import downgrade, upgrade

    orders_revision, before = _revisions_of_the_orders_migration()
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path),
                      "SQLALCHEMY_DATABASE_URI": unmigrated_database_url})
    with app.app_context():
        upgrade(revision=before)
        run = lambda sql, **values: db.session.execute(db.text(sql), values)  # noqa: E731
        run("INSERT INTO users (id, name, email, password_hash, role, active, session_version, created_at)"
            " VALUES (1, 'Ani', 'ani@tokosari.id', 'x', 'owner', :yes, 1, :at)", yes=True,
            at=datetime(2026, 6, 1, 1, 0))
        for n in (1, 2):
            run("INSERT INTO customers (id, display_name, notes, stage, created_at, updated_at) VALUES "
                "(:id, :name, '', 'won', :at, :at)", id=n, name=f"Customer {n}", at=datetime(2026, 1, 1))
        sales = [  # (amount, sold_on, channel, created_by, created_at UTC)
            (370_000, date(2026, 5, 31), "whatsapp", 1, datetime(2026, 5, 31, 16, 30)),  # 23:30 in Jakarta
            (1_250_000, date(2026, 6, 1), "instagram", None, datetime(2026, 6, 3, 2, 0)),  # recorded 2 days later
            (0, date(2025, 12, 31), "other", 1, datetime(2025, 12, 31, 17, 30)),  # 00:30 on 1 January in Jakarta
            (None, date(2026, 6, 2), "whatsapp", 1, datetime(2026, 6, 2, 3, 0)),  # won, amount not known
        ]
        for customer, (amount, sold_on, channel, by, created) in zip((1, 2, 2, 1), sales, strict=True):
            run("INSERT INTO sales (customer_id, amount, sold_on, channel, created_by_id, created_at)"
                " VALUES (:customer, :amount, :sold_on, :channel, :by, :created)", customer=customer, amount=amount,
                sold_on=sold_on, channel=channel, by=by, created=created)
        db.session.commit()
        db.session.remove()

        upgrade(revision=orders_revision)
        orders = db.session.execute(db.select(Order).order_by(Order.id)).scalars().all()
        assert [(o.customer_id, o.total, o.channel, o.created_by_id, o.status) for o in orders] == [
            (1, 370_000, "whatsapp", 1, "paid"), (2, 1_250_000, "instagram", None, "paid"),
            (2, 0, "other", 1, "paid"), (1, None, "whatsapp", 1, "paid")]
        assert [o.step("paid").at.astimezone(WIB).date().isoformat() for o in orders] == [
            "2026-05-31", "2026-06-01", "2025-12-31", "2026-06-02"], "every sale's day is kept"
        assert orders[0].step("paid").at == datetime(2026, 5, 31, 16, 30, tzinfo=timezone.utc)
        assert orders[1].step("paid").at == datetime(2026, 6, 1, 12, 0, tzinfo=WIB), "recorded later: noon"
        assert all(o.step("awaiting_payment").at == o.step("paid").at for o in orders)
        assert [o.created_at for o in orders][1] == datetime(2026, 6, 3, 2, 0, tzinfo=timezone.utc)
        assert "sales" not in db.inspect(db.engine).get_table_names()
        db.session.remove()

        downgrade(revision=before)
        rows = db.session.execute(db.text(
            "SELECT customer_id, amount, sold_on, channel, created_by_id FROM sales ORDER BY id")).all()
        assert [(c, a, str(day), ch, by) for c, a, day, ch, by in rows] == [
            (2, 0, "2025-12-31", "other", 1), (1, 370_000, "2026-05-31", "whatsapp", 1),
            (2, 1_250_000, "2026-06-01", "instagram", None), (1, None, "2026-06-02", "whatsapp", 1)]
        db.session.remove()
        db.engine.dispose()


def test_the_paste_preview_shows_what_the_chat_holds_for_orders(staff_client, make_customer):
    rina = make_customer("Rina", whatsapp="081299990000")
    pasted = (
        "17/06/26 09.00 - Rina: kak mau order ya\n"
        "17/06/26 09.01 - Rina: " + FORM + "\n"
        "17/06/26 09.05 - Toko Sari: Siap kak, total 370rb + ongkir 15rb = 385rb ya\n"
        "17/06/26 09.30 - Rina: IMG-20260617-WA0003.jpg (file attached)\n"
        "17/06/26 09.31 - Rina: sudah transfer kak\n"
        "17/06/26 09.40 - Toko Sari: resi JNE 010880123456 ya kak\n")
    response = staff_client.post("/conversations/log/preview", data={
        "pasted": pasted, "customer_id": rina.id, "channel": "whatsapp", "author-0": "Rina", "side-0": "customer",
        "author-1": "Toko Sari", "side-1": "staff"}, headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert "Orders in this chat:" in page
    assert "New order</strong>: 2× Gamis parang · total Rp 385,000" in page
    assert "Paid</strong>: with a photo" in page and "<mark>sudah transfer</mark>" in page
    assert "Shipped</strong>: JNE 010880123456" in page
    assert db.session.execute(db.select(Order)).first() is None


def _at_once(app, emails, request):
    """The same request from several logged-in staff at the same moment, each in its own thread and session."""
    import threading

    clients = []
    for email in emails:
        client = app.test_client()
        assert client.login(email).status_code == 302
        clients.append(client)
    barrier = threading.Barrier(len(clients))
    results = [None] * len(clients)

    def run(index, client):
        with app.app_context():
            token = client.csrf_token()
            barrier.wait()
            results[index] = request(client, token)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    db.session.expire_all()
    return results


def test_two_staff_accepting_the_same_format_order_make_one_order(app, rina_chat, staff, owner):
    rina, conversation = rina_chat
    message = _message(conversation, "Nama: Rina Wati")

    def accept(client, token):
        return client.post("/orders/new", data={
            "csrf_token": token, "customer_id": rina.id, "conversation_id": conversation.id,
            "source_message_id": message.id, "items-0-name": "Gamis parang", "total": "385rb",
            "channel": "whatsapp"})

    responses = _at_once(app, [staff.email, owner.email], accept)
    assert [r.status_code for r in responses] == [302, 302]
    assert len(db.session.execute(db.select(Order)).scalars().all()) == 1


def test_two_staff_marking_the_same_order_paid_at_once(app, make_customer, staff, owner):
    order = an_order(make_customer("Rina"))

    def mark_paid(client, token):
        return client.post(f"/orders/{order.id}/status", data={"csrf_token": token, "status": "paid"})

    responses = _at_once(app, [staff.email, owner.email], mark_paid)
    assert [r.status_code for r in responses] == [302, 302]
    order = db.session.get(Order, order.id)
    assert order.status == "paid" and [s.status for s in order.steps] == ["awaiting_payment", "paid"]


def test_a_customer_merged_or_trashed_meanwhile(staff_client, make_customer):
    rina, twin = make_customer("Rina"), make_customer("Rina K")
    merge_customers(twin, rina)
    db.session.commit()
    data = {"customer_id": rina.id, "items-0-name": "Gamis parang", "total": "185rb", "channel": "whatsapp",
            "note": "titip ke satpam"}
    response = staff_client.post("/orders/new", data=data, follow_redirects=True)
    assert "Rina was merged into Rina K meanwhile: the order is theirs." in response.get_data(as_text=True)
    assert db.session.execute(db.select(Order.customer_id)).scalar_one() == twin.id
    dewi = make_customer("Dewi")
    dewi_id = dewi.id
    staff_client.post(f"/customers/{dewi_id}/delete")
    response = staff_client.post("/orders/new", data={**data, "customer_id": dewi_id})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Dewi was moved to the trash meanwhile; nothing was saved." in page
    assert "titip ke satpam" in page, "what was typed stays"
    assert db.session.execute(db.select(db.func.count(Order.id))).scalar_one() == 1


def test_the_timeline_shows_in_each_thread_where_a_step_was_logged(staff_client, make_customer, chat):
    rina = make_customer("Rina")
    first = chat(rina, [("customer", "mau gamis 2 kak")], start=now() - timedelta(days=3))
    order = create_order(rina, OrderInput(items=[ItemInput("Gamis parang", "", 2, 185_000)], channel="whatsapp"),
                         ordered_at=now() - timedelta(days=3), conversation=first)
    db.session.commit()
    later = chat(rina, [("staff", "resi JNE 010880123456 ya kak")], start=now() - timedelta(hours=2))
    resi = later.messages[0]
    set_status(order, "shipped", resi.sent_at, message_id=resi.id, courier="jne", tracking_number="010880123456")
    db.session.commit()
    elsewhere = chat(rina, [("customer", "makasih kak")], channel="instagram", start=now() - timedelta(minutes=30))
    for conversation in (first, later):
        page = staff_client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
        assert "Orders in this chat" in page and f"Order #{order.id}" in page and "JNE 010880123456" in page
    assert f'href="/conversations/{later.id}#message-{resi.id}"' in staff_client.get(
        f"/customers/{rina.id}").get_data(as_text=True), "the customer page's timeline links the step's message"
    assert "Orders in this chat" not in staff_client.get(f"/conversations/{elsewhere.id}").get_data(as_text=True)
