"""Won means a sale: choosing Won anywhere asks for the amount or records "amount not known", and Today, the
customer page and the report count the same sales; the prospect panel's reasons agree with the tags under it."""
import re
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from crm.extensions import db
from crm.formatting import shop_zone
from crm.models import Customer, Order
from crm.reports.figures import channel_report, period_for
from crm.today.queue import follow_up_queue, shop_day


def sales_of(customer_id):
    """A sale is a paid order (crm.orders): its amount, the shop day it was paid and its channel."""
    orders = db.session.execute(db.select(Order).where(Order.customer_id == customer_id)).scalars().all()
    return [SimpleNamespace(amount=o.total, sold_on=o.step("paid").at.astimezone(shop_zone()).date(), channel=o.channel)
            for o in orders if o.step("paid") and o.status == "paid"]


def test_a_new_customer_created_won_asks_for_the_sale(staff_client):
    form = {"display_name": "Rina", "stage": "won", "assigned_to_id": 0, "identities-0-channel": "instagram",
            "identities-0-handle": "rina.shop"}
    response = staff_client.post("/customers/new", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "How much did they buy for?" in page
    assert 'value="rina.shop"' in page, "what was typed stays"
    assert db.session.execute(db.select(Customer)).first() is None

    response = staff_client.post("/customers/new", data=form | {"amount": "370000"})
    assert response.status_code == 302
    rina = db.session.execute(db.select(Customer)).scalar_one()
    [sale] = sales_of(rina.id)
    assert (rina.stage, sale.amount, sale.sold_on, sale.channel) == ("won", 370000, shop_day().today, "instagram")


def test_amount_not_known_is_still_a_sale(staff_client):
    response = staff_client.post("/customers/new", data={"display_name": "Dewi", "stage": "won", "assigned_to_id": 0,
                                                         "amount_unknown": "y"})
    assert response.status_code == 302
    dewi = db.session.execute(db.select(Customer)).scalar_one()
    [sale] = sales_of(dewi.id)
    assert sale.amount is None and sale.channel == "other"
    assert "amount not known" in staff_client.get(f"/customers/{dewi.id}").get_data(as_text=True)
    assert follow_up_queue().numbers["won"] == 1


def test_editing_to_won_asks_too_and_a_won_customer_is_not_asked_again(staff_client, make_customer):
    rina = make_customer("Rina")
    data = {"display_name": "Rina", "stage": "won", "assigned_to_id": 0}
    assert staff_client.post(f"/customers/{rina.id}/edit", data=data).status_code == 400
    assert staff_client.post(f"/customers/{rina.id}/edit", data=data | {"amount": "150000"}).status_code == 302
    assert [s.amount for s in sales_of(rina.id)] == [150000]
    assert staff_client.post(f"/customers/{rina.id}/edit", data=data | {"notes": "langganan"}).status_code == 302
    assert len(sales_of(rina.id)) == 1, "already won: saving the form adds no sale"


def test_won_again_after_going_back_asks_for_the_new_sale(staff_client, make_customer):
    rina = make_customer("Rina")
    today = shop_day().today.isoformat()
    staff_client.post(f"/customers/{rina.id}/pipeline", data={"stage": "won", "amount": "100000", "sold_on": today,
                                                              "channel": "whatsapp"})
    staff_client.post(f"/customers/{rina.id}/pipeline", data={"stage": "interested", "channel": "whatsapp"})
    response = staff_client.post(f"/customers/{rina.id}/pipeline", data={"stage": "won", "sold_on": today,
                                                                         "channel": "whatsapp"})
    assert response.status_code == 400 and "Amount not known" in response.get_data(as_text=True)
    assert staff_client.post(f"/customers/{rina.id}/pipeline", data={
        "stage": "won", "amount_unknown": "y", "sold_on": today, "channel": "whatsapp"}).status_code == 302
    assert sorted((s.amount or 0) for s in sales_of(rina.id)) == [0, 100000]


def test_today_the_customer_page_and_the_report_count_the_same_sales(staff_client, make_customer, chat, staff):
    rina, dewi, sari = make_customer("Rina"), make_customer("Dewi"), make_customer("Sari")
    today = shop_day().today.isoformat()
    chat(rina, [("customer", "mau order 2")], logged_by=staff)
    for customer, amount in ((rina, "370000"), (rina, "90000"), (dewi, None)):
        data = {"stage": "won", "sold_on": today, "channel": "whatsapp"}
        data |= {"amount": amount} if amount else {"amount_unknown": "y"}
        assert staff_client.post(f"/customers/{customer.id}/pipeline", data=data).status_code == 302
    staff_client.post("/customers/new", data={"display_name": "Tono", "stage": "won", "assigned_to_id": 0,
                                              "amount": "50000"})
    db.session.get(Customer, sari.id).stage = "won"  # set without a sale (an old database): not counted
    db.session.commit()

    strip = staff_client.get("/").get_data(as_text=True)
    assert re.search(r"<strong>3</strong> won this month\s*<span class=\"muted\">· Rp 510,000", strip)
    report = channel_report(period_for("this_month"))
    assert (report.total.won, report.total.revenue) == (3, 510_000)
    staff_rows = {row.label: row for row in report.staff}
    budi = staff_rows["Budi Staff"]
    assert budi.won == 3 and budi.new_customers == 1 and budi.conversion == 1.0
    page = staff_client.get(f"/customers/{rina.id}").get_data(as_text=True)
    assert "Rp 370,000" in page and "Rp 90,000" in page


def test_the_prospect_panel_agrees_with_the_tags_shown(staff_client, make_customer, chat):
    rina = make_customer("Rina")
    chat(rina, [("customer", "harga gamis brp? ongkir ke Medan?"), ("staff", "185rb")],
         start=datetime.now(timezone.utc) - timedelta(days=60))
    page = staff_client.get(f"/customers/{rina.id}").get_data(as_text=True)
    assert 'data-tag="price"' in page and 'data-tag="shipping"' in page
    assert "no need tags" not in page
    assert "the needs below were asked about more than 30 days ago" in page
    fresh = make_customer("Dewi")
    assert "No signals yet: no need tags, no recent messages." in staff_client.get(
        f"/customers/{fresh.id}").get_data(as_text=True)
