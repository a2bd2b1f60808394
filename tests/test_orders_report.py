"""The report's order figures on a hand-counted May: orders, paid revenue, COD against transfer, returns and
cancellations, average order value and repeat customers, per channel, need tag and staff member; the channel
report's won customers, revenue and return on spend come from the same paid orders."""
import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from crm.admin.trash import move_to_trash
from crm.extensions import db
from crm.orders.figures import order_report
from crm.orders.services import ItemInput, OrderInput, create_order, set_status
from crm.reports.figures import CostEntry, channel_report, period_for, save_month_costs

WIB = ZoneInfo("Asia/Jakarta")
MAY = dict(first=date(2026, 5, 1), last=date(2026, 5, 31))


def may(day, hour=10):
    return datetime(2026, 5, day, hour, tzinfo=WIB)


def april(day, hour=10):
    return datetime(2026, 4, day, hour, tzinfo=WIB)


@pytest.fixture
def shop(app, make_customer, chat, owner, staff):
    """Eight orders of April and May; the comments give what each adds to May."""
    def order(customer, total, method, channel, by, placed, steps=(), conversation=None):
        made = create_order(customer, OrderInput(items=[ItemInput("Gamis", "", 1, total)], payment_method=method,
                                                 channel=channel), ordered_at=placed, conversation=conversation,
                            created_by_id=by.id)
        for status, moment in steps:
            set_status(made, status, moment)
        return made

    rina, dewi, sari, budi, tono, lina, gone = (make_customer(n) for n in (
        "Rina", "Dewi", "Sari", "Budi", "Tono", "Lina", "Gone"))
    priced = chat(rina, [("customer", "harga gamis berapa kak?")], start=may(3, 9))
    shipping = chat(dewi, [("customer", "ongkir ke Bandung ya kak")], channel="instagram", start=may(10, 9))
    # 1 WA, Budi, price tag: placed and paid by transfer in May.
    order(rina, 385_000, "bank_transfer", "whatsapp", staff, may(3), [("paid", may(3, 11))], priced)
    # 2 WA, Budi: COD placed in May, paid on delivery 24 May; Rina had paid before: a repeat customer.
    order(rina, 150_000, "cod", "whatsapp", staff, may(20), [("shipped", may(21)), ("delivered", may(24))])
    # 3 IG, Ani, shipping tag: placed in May, paid, then returned: not paid revenue, one return.
    order(dewi, 200_000, "bank_transfer", "instagram", owner, may(10), [("paid", may(11)), ("returned", may(25))],
          shipping)
    # 4 IG, Ani: placed in April, paid by e-wallet on 2 May: paid in May, not an order of May.
    order(sari, 100_000, "ewallet", "instagram", owner, april(28), [("paid", may(2))])
    # 5 WA, Budi: placed and cancelled in May.
    order(budi, 90_000, "bank_transfer", "whatsapp", staff, may(15), [("cancelled", may(16))])
    # 6 WA, Budi: placed on 30 May, not paid yet.
    order(tono, 50_000, "bank_transfer", "whatsapp", staff, may(30))
    # 7 IG, Ani: Lina paid in April and again in May (transfer): a repeat customer.
    order(lina, 200_000, "bank_transfer", "instagram", owner, april(1), [("paid", april(2))])
    order(lina, 300_000, "bank_transfer", "instagram", owner, may(5), [("paid", may(6))])
    # 8 a customer in the trash: nowhere.
    order(gone, 999_000, "bank_transfer", "whatsapp", staff, may(7), [("paid", may(7))])
    move_to_trash(gone)
    save_month_costs(date(2026, 5, 1), [CostEntry("instagram", ads=200_000)], user_id=owner.id)
    db.session.commit()
    return {"staff": staff, "owner": owner}


def figures(row):
    return (row.orders, row.paid, row.revenue, row.cod, row.cod_revenue, row.transfer, row.transfer_revenue,
            row.returned, row.cancelled, row.paying_customers, row.repeat_customers)


def test_the_shops_may_by_hand(shop):
    report = order_report(period_for("custom", **MAY))
    assert figures(report.total) == (6, 4, 935_000, 1, 150_000, 2, 685_000, 1, 1, 3, 2)
    assert report.total.average_order_value == 935_000 / 4
    assert {row.key: figures(row) for row in report.channels} == {
        "whatsapp": (4, 2, 535_000, 1, 150_000, 1, 385_000, 0, 1, 1, 1),
        "instagram": (2, 2, 400_000, 0, 0, 1, 300_000, 1, 0, 2, 1),
    }
    assert {str(row.label): figures(row) for row in report.staff} == {
        "Budi Staff": (4, 2, 535_000, 1, 150_000, 1, 385_000, 0, 1, 1, 1),
        "Ani Owner": (2, 2, 400_000, 0, 0, 1, 300_000, 1, 0, 2, 1),
    }
    assert {row.key: figures(row) for row in report.tags} == {
        "price": (1, 1, 385_000, 0, 0, 1, 385_000, 0, 0, 1, 0),
        "shipping": (1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0),
    }


def test_april_and_june_count_their_own(shop):
    april_report = order_report(period_for("custom", first=date(2026, 4, 1), last=date(2026, 4, 30)))
    assert figures(april_report.total) == (2, 1, 200_000, 0, 0, 1, 200_000, 0, 0, 1, 0)
    june = order_report(period_for("custom", first=date(2026, 6, 1), last=date(2026, 6, 30)))
    assert not june.any and june.channels == [] and june.total.average_order_value is None


def test_won_revenue_and_return_on_spend_are_the_paid_orders(shop):
    report = channel_report(period_for("custom", **MAY))
    assert (report.total.won, report.total.revenue) == (3, 935_000)
    [instagram] = report.costs
    assert (instagram.key, instagram.won, instagram.revenue, instagram.cost) == ("instagram", 2, 400_000, 200_000)
    assert instagram.return_on_spend == 2.0


def test_the_report_page_and_its_csv(owner_client, shop):
    query = "period=custom&first=2026-05-01&last=2026-05-31"
    page = owner_client.get(f"/reports/?{query}").get_data(as_text=True)
    assert "Orders by channel" in page and "Orders by need tag" in page and "Orders by staff member" in page
    assert "Rp 935,000" in page and "Rp 233,750" in page
    response = owner_client.get(f"/reports/order_channels.csv?{query}")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["name", "orders", "paid_orders", "paid_revenue_idr"]
    assert rows[1][:4] == ["WhatsApp", "4", "2", "535000"] and rows[-1][:5] == ["All channels", "6", "4", "935000",
                                                                               "233750"]
    assert owner_client.get(f"/reports/order_staff.csv?{query}").status_code == 200
