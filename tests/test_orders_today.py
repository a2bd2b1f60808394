"""Today's order sections on a fixed clock: awaiting payment for more than N days (with a nudge), shipped and not
delivered after N days, delivered N days ago and never asked for a review, and buy-again reminders (N per shop and
per product), with their settings, filters and actions."""
import html
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import true

from crm.admin.trash import move_to_trash, restore
from crm.conversations.importing import import_path
from crm.extensions import db
from crm.models import Customer, Message
from crm.orders.reminders import order_reminders, section_rows
from crm.orders.services import ItemInput, OrderInput, create_order, set_status
from crm.orders.settings import order_settings, save_order_settings
from crm.today.queue import QueueFilters


def now():
    """The test's clock: conftest's autouse `clock` travels to TEST_NOW (OBROLAN_TEST_NOW) for every test."""
    return datetime.now(timezone.utc)


@pytest.fixture
def order_for(app, make_customer):
    def make(name, *, days_ago, steps=(), method="bank_transfer", item="Gamis parang", channel="whatsapp",
             customer=None):
        customer = customer or make_customer(name)
        ordered = now() - timedelta(days=days_ago)
        order = create_order(customer, OrderInput(items=[ItemInput(item, "", 1, 185_000)], payment_method=method,
                                                  channel=channel), ordered_at=ordered)
        for status, days in steps:
            set_status(order, status, now() - timedelta(days=days))
        db.session.commit()
        return order

    return make


def names(section, **kwargs):
    rows, total = section_rows(section, **kwargs)
    assert total == len(rows)
    return [row.order.customer.display_name for row in rows]


def test_orders_awaiting_payment_for_more_than_n_days(order_for):
    order_for("Ani", days_ago=3)
    order_for("Budi", days_ago=1)
    order_for("Cici COD", days_ago=5, method="cod")
    order_for("Dewi paid", days_ago=5, steps=[("paid", 4)])
    order_for("Eka cancelled", days_ago=5, steps=[("cancelled", 4)])
    assert names("awaiting_payment") == ["Ani"]
    [row] = section_rows("awaiting_payment")[0]
    assert "order #%d (Gamis parang) Rp 185,000 is still waiting for payment" % row.order.id in row.nudge
    assert row.nudge.startswith("Hi kak Ani,")


def test_shipped_and_not_delivered_after_n_days(order_for):
    order_for("Ani", days_ago=9, steps=[("paid", 8), ("shipped", 6)])
    order_for("Budi", days_ago=4, steps=[("paid", 3), ("shipped", 2)])
    order_for("Cici", days_ago=9, steps=[("paid", 8), ("shipped", 7), ("delivered", 6)])
    order_for("Dodi paid long ago, shipped yesterday", days_ago=30, steps=[("paid", 29), ("shipped", 1)])
    shipped_before_ani = order_for("Eka", days_ago=10, steps=[("paid", 9), ("shipped", 8)])
    assert names("not_delivered") == ["Eka", "Ani"]  # counted from the shipping, longest first
    [first, _] = section_rows("not_delivered")[0]
    assert first.since == shipped_before_ani.step("shipped").at


def test_delivered_n_days_ago_and_never_asked_for_a_review(order_for, chat, make_customer):
    order_for("Ani", days_ago=8, steps=[("paid", 7), ("shipped", 6), ("delivered", 3)])
    order_for("Budi", days_ago=8, steps=[("paid", 7), ("shipped", 6), ("delivered", 2)])
    order_for("Cici long ago", days_ago=40, steps=[("paid", 39), ("shipped", 38), ("delivered", 30)])
    asked = order_for("Dewi asked", days_ago=8, steps=[("paid", 7), ("shipped", 6), ("delivered", 4)])
    asked.review_asked_at = now()
    eka = make_customer("Eka asked in the chat")
    order_for("", customer=eka, days_ago=8, steps=[("paid", 7), ("shipped", 6), ("delivered", 5)])
    chat(eka, [("staff", "Kak paketnya sudah sampai ya? Boleh minta ulasannya kak 🙏")],
         start=now() - timedelta(days=4))
    fani = make_customer("Fani asked before the delivery")
    order_for("", customer=fani, days_ago=8, steps=[("paid", 7), ("shipped", 6), ("delivered", 4)])
    chat(fani, [("staff", "nanti kasih review ya kak")], start=now() - timedelta(days=7))
    db.session.commit()
    assert names("review") == ["Fani asked before the delivery", "Ani"]


def test_a_review_request_counts_from_an_import_and_not_from_the_trash(order_for, owner, tmp_path):
    """An import writes its messages past the ORM (multi-row INSERTs): each row's review flag is read all the same,
    from our messages only; a request in the trash no longer counts, and counts again once restored."""
    jakarta = ZoneInfo("Asia/Jakarta")

    def line(days_ago, who, text):
        return f"{(now() - timedelta(days=days_ago)).astimezone(jakarta):%d/%m/%Y %H.%M} - {who}: {text}"

    export = tmp_path / "WhatsApp Chat with Gita.txt"
    export.write_text("\n".join([
        line(9, "Gita", "kak gamis L ready?"), line(9, "Toko Sari", "ready kak, 185rb"),
        line(2, "Toko Sari", "Paketnya sudah sampai kak? Boleh minta ulasannya ya 🙏"),
        line(2, "Gita", "sudah kak, nanti aku kasih review"),
    ]) + "\n", encoding="utf-8")
    import_path(export, me=["Toko Sari"], day_first=True, logged_by_id=owner.id)
    db.session.commit()
    gita = db.session.execute(db.select(Customer).where(Customer.display_name == "Gita")).scalar_one()
    order_for("", customer=gita, days_ago=8, steps=[("paid", 7), ("shipped", 6), ("delivered", 4)])
    [request] = db.session.execute(db.select(Message).where(Message.asks_for_review == true())).scalars()
    assert request.body == "Paketnya sudah sampai kak? Boleh minta ulasannya ya 🙏"
    assert names("review") == []

    move_to_trash(request)
    db.session.commit()
    assert names("review") == ["Gita"]
    restore(request)
    db.session.commit()
    assert names("review") == []


def test_buy_again_per_shop_and_per_product(order_for, make_customer, owner):
    order_for("Ani", days_ago=31, steps=[("paid", 31)])
    budi = make_customer("Budi ordered since")
    order_for("", customer=budi, days_ago=40, steps=[("paid", 40)])
    order_for("", customer=budi, days_ago=5)
    order_for("Cici unpaid", days_ago=35)
    order_for("Dewi madu", days_ago=15, steps=[("paid", 15)], item="Madu hutan 500 ml")
    order_for("Eka too old", days_ago=200, steps=[("paid", 200)])
    order_for("Fani returned", days_ago=40, steps=[("paid", 40), ("returned", 30)])
    gita = make_customer("Gita cancelled since")  # a cancelled order is no later order
    order_for("", customer=gita, days_ago=45, steps=[("paid", 45)])
    order_for("", customer=gita, days_ago=10, steps=[("cancelled", 9)])
    move_to_trash(order_for("Hadi in the trash", days_ago=31, steps=[("paid", 31)]).customer)
    db.session.commit()
    assert names("repeat") == ["Gita cancelled since", "Ani"]
    save_order_settings({"payment_nudge_days": 2, "delivery_days": 5, "review_days": 3, "repeat_days": 30},
                        [("madu", 14)], user_id=owner.id)
    db.session.commit()
    assert names("repeat") == ["Gita cancelled since", "Ani", "Dewi madu"]


def test_buy_again_looks_at_the_latest_order_even_when_two_were_placed_at_once(order_for, make_customer):
    ika = make_customer("Ika")
    first = order_for("", customer=ika, days_ago=31, steps=[("paid", 31)])
    second = order_for("", customer=ika, days_ago=31)
    for order in (first, second):  # the same moment: the later id is the latest
        order.step("awaiting_payment").at = first.step("awaiting_payment").at
    db.session.commit()
    assert names("repeat") == []
    second.step("awaiting_payment").at -= timedelta(seconds=1)
    db.session.commit()
    assert names("repeat") == ["Ika"]


def test_the_settings_move_the_sections(order_for, owner):
    order_for("Ani", days_ago=3)
    save_order_settings({"payment_nudge_days": 4, "delivery_days": 5, "review_days": 3, "repeat_days": 30}, [],
                        user_id=owner.id)
    db.session.commit()
    assert order_settings().payment_nudge_days == 4 and names("awaiting_payment") == []


def test_todays_filters_apply(order_for, staff):
    ani = order_for("Ani", days_ago=3, channel="instagram")
    order_for("Budi", days_ago=3, channel="whatsapp")
    ani.customer.assigned_to_id = staff.id
    db.session.commit()
    reminders = order_reminders(QueueFilters(channel="instagram"))
    assert [row.order.customer.display_name for row in reminders.sections["awaiting_payment"]] == ["Ani"]
    assert names("awaiting_payment", filters=QueueFilters(user_id=staff.id)) == ["Ani"]


def test_three_days_after_delivered_today_says_ask_for_a_review(staff_client, order_for, clock):
    order = order_for("Rina", days_ago=4, steps=[("paid", 4), ("shipped", 2)])
    staff_client.post(f"/orders/{order.id}/status", data={"status": "delivered"})
    page = staff_client.get("/").get_data(as_text=True)
    assert "Ask for a review" not in page
    clock.shift(timedelta(days=2, hours=23))
    assert "Ask for a review" not in staff_client.get("/").get_data(as_text=True)
    clock.shift(timedelta(hours=1, minutes=1))
    page = staff_client.get("/").get_data(as_text=True)
    assert "Ask for a review" in page and "Delivered 3 days ago" in page
    assert "We would be glad if you left us a review" in page
    response = staff_client.post(f"/orders/{order.id}/review-asked", data={"next": "/"})
    assert response.status_code == 302
    assert "Ask for a review" not in staff_client.get("/").get_data(as_text=True)


def test_the_sections_on_today_and_in_full(staff_client, order_for):
    for n in range(3):
        order_for(f"Customer {n}", days_ago=3 + n, steps=[("paid", 2 + n), ("shipped", 1 + n)] if n else ())
    page = staff_client.get("/").get_data(as_text=True)
    assert "Orders awaiting payment" in page and "Placed more than 2 days ago" in page
    assert staff_client.get("/orders/reminders/awaiting_payment").status_code == 200
    assert "Customer 0" in staff_client.get("/orders/reminders/awaiting_payment").get_data(as_text=True)
    assert staff_client.get("/orders/reminders/nope").status_code == 404


def test_a_section_in_full_comes_page_by_page_with_todays_filters(app, staff_client, order_for):
    app.config["PER_PAGE"] = 2
    for n in range(5):
        order_for(f"Customer {n}", days_ago=10 - n, channel="instagram" if n == 4 else "whatsapp")
    first = staff_client.get("/orders/reminders/awaiting_payment").get_data(as_text=True)
    assert ["Customer 0", "Customer 1"] == [f"Customer {n}" for n in range(5) if f"Customer {n}<" in first]
    assert 'class="count">5<' in first and 'href="/orders/reminders/awaiting_payment?page=3"' in first
    last = staff_client.get("/orders/reminders/awaiting_payment?page=3").get_data(as_text=True)
    assert "Customer 4<" in last and "Customer 3<" not in last and 'rel="next"' not in last
    assert staff_client.get("/orders/reminders/awaiting_payment?page=4").status_code == 404
    only = staff_client.get("/orders/reminders/awaiting_payment?channel=instagram").get_data(as_text=True)
    assert "Customer 4<" in only and 'class="count">1<' in only and 'href="/?channel=instagram"' in only


def _row_form(page: str, order_id: int) -> tuple[str, dict]:
    """The action and fields of the one button form on an order's row, as the browser would post them."""
    row = re.search(rf'<li [^>]*data-order="{order_id}".*?</li>', page, re.S).group(0)
    [(action, body)] = re.findall(r'<form method="post" action="([^"]+)" class="inline">(.*?)</form>', row, re.S)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', body))
    return html.unescape(action), {name: html.unescape(value) for name, value in fields.items()}


def test_marking_delivered_asked_and_reminded_from_todays_rows(staff_client, order_for):
    shipped = order_for("Ani", days_ago=9, steps=[("paid", 8), ("shipped", 6)])
    delivered = order_for("Cici", days_ago=9, steps=[("paid", 8), ("shipped", 7), ("delivered", 4)])
    again = order_for("Budi", days_ago=31, steps=[("paid", 31)])
    page = staff_client.get("/?channel=whatsapp").get_data(as_text=True)
    for order, button, section in ((shipped, "Delivered", "not_delivered"), (delivered, "Asked", "review"),
                                   (again, "Reminded", "repeat")):
        assert f'<button class="small done">{button}</button>' in page
        action, fields = _row_form(page, order.id)
        assert fields["next"] == "/?channel=whatsapp"
        answer = staff_client.post(action, data=fields)
        assert answer.status_code == 302 and answer.headers["Location"] == "/?channel=whatsapp"
        assert order.id not in [row.order.id for row in section_rows(section)[0]]
    db.session.expire_all()
    assert shipped.status == "delivered" and delivered.review_asked_at and again.repeat_reminded_at


def test_today_the_customer_page_and_the_report_count_the_same_sales(staff_client, make_customer):
    from crm.admin.trash import move_to_trash
    from crm.orders.services import record_paid_order
    from crm.reports.figures import channel_report, period_for
    from crm.today.queue import follow_up_queue, shop_day

    day = shop_day()
    rina, dewi, sari, tono, gone = (make_customer(n) for n in ("Rina", "Dewi", "Sari", "Tono", "Gone"))
    for amount in ("370000", "90rb"):  # two sales of one customer: one customer won
        response = staff_client.post(f"/customers/{rina.id}/pipeline", data={
            "stage": "won", "amount": amount, "sold_on": day.today.isoformat(), "channel": "whatsapp"})
        assert response.status_code == 302
    record_paid_order(dewi, amount=None, paid_on=day.today, channel="instagram")  # won, amount not known
    returned = record_paid_order(sari, amount=200_000, paid_on=day.today, channel="whatsapp")
    set_status(returned, "returned", now())
    record_paid_order(tono, amount=50_000, paid_on=day.month_start - timedelta(days=1), channel="whatsapp")
    record_paid_order(gone, amount=75_000, paid_on=day.today, channel="whatsapp")
    move_to_trash(gone)
    db.session.commit()

    numbers = follow_up_queue().numbers
    report = channel_report(period_for("this_month"))
    assert (numbers["won"], numbers["won_amount"]) == (report.total.won, report.total.revenue) == (2, 460_000)
    assert {row.key: (row.won, row.revenue) for row in report.channels if row.won} == {
        "whatsapp": (1, 460_000), "instagram": (1, 0)}
    page = staff_client.get(f"/customers/{rina.id}").get_data(as_text=True)
    assert "Rp 370,000" in page and "Rp 90,000" in page
    assert "amount not known" in staff_client.get(f"/customers/{dewi.id}").get_data(as_text=True)
