"""The channel report: figures checked against a hand count of a small November shop, periods cut at midnight
in Jakarta, first responses timed run by run, costs spread over their month's days, CSV downloads and roles."""
import csv
import html
import io
import json
import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from crm.conversations.services import NewMessage, log_chat
from crm.extensions import db
from crm.models import ChannelCost, Customer, Tag, utcnow
from crm.needs.tagging import remove_tag_by_hand, tags_of
from crm.reports.figures import (
    CostEntry,
    FirstResponse,
    ResponseTimes,
    channel_report,
    first_responses,
    period_costs,
    period_for,
    save_month_costs,
)
from crm.today.services import record_sale

JAKARTA = ZoneInfo("Asia/Jakarta")
UTC = timezone.utc
NOVEMBER = dict(first=date(2026, 11, 1), last=date(2026, 11, 30))
NOVEMBER_QUERY = "period=custom&first=2026-11-01&last=2026-11-30"


def jkt(month, day, hour=0, minute=0):
    return datetime(2026, month, day, hour, minute, tzinfo=JAKARTA)


def minutes(n):
    return timedelta(minutes=n)


@pytest.fixture
def talk(app):
    """talk(customer, "whatsapp", [(jkt(11, 3, 10), "customer", "Harga?"), ...], by=staff): one logged chat."""

    def log(customer, channel, lines, by=None):
        messages = [NewMessage(sent_at, side, body) for sent_at, side, body in lines]
        conversation = log_chat(customer, channel, messages, logged_by_id=by.id if by else None).conversation
        db.session.commit()
        return conversation

    return log


# First responses, without a database ---------------------------------------------------------------------------

def test_each_run_of_customer_messages_is_timed_from_its_first_message_to_our_next():
    t = datetime(2026, 11, 3, 3, 0, tzinfo=UTC)
    messages = [
        (t, "staff"),  # we wrote first: no question to answer
        (t + minutes(1), "customer"), (t + minutes(5), "customer"),
        (t + minutes(31), "staff"), (t + minutes(32), "staff"),
        (t + minutes(60), "customer"),
        (t + minutes(120), "staff"),
        (t + minutes(200), "customer"), (t + minutes(201), "customer"),
    ]
    assert first_responses(messages) == [
        FirstResponse(t + minutes(1), t + minutes(31)),
        FirstResponse(t + minutes(60), t + minutes(120)),
        FirstResponse(t + minutes(200), None),
    ]
    assert [r.waited for r in first_responses(messages)] == [minutes(30), minutes(60), None]
    assert first_responses([]) == []
    assert first_responses([(t, "staff")]) == []


def test_unanswered_runs_are_counted_apart_not_as_zero():
    t = datetime(2026, 11, 3, tzinfo=UTC)
    times = ResponseTimes.of([FirstResponse(t, t + minutes(10)), FirstResponse(t, t + minutes(20)),
                              FirstResponse(t, t + minutes(90)), FirstResponse(t, None), FirstResponse(t, None)])
    assert (times.answered, times.unanswered) == (3, 2)
    assert times.average == minutes(40)
    assert times.median == minutes(20)
    assert ResponseTimes.of([FirstResponse(t, None)]) == ResponseTimes(answered=0, unanswered=1)


# Periods in the shop's zone ------------------------------------------------------------------------------------

def test_periods_start_and_end_at_midnight_in_jakarta(app):
    october = period_for("custom", first=date(2026, 10, 1), last=date(2026, 10, 31))
    assert october.start == datetime(2026, 9, 30, 17, 0, tzinfo=UTC)
    assert october.end == datetime(2026, 10, 31, 17, 0, tzinfo=UTC)
    assert jkt(10, 31, 23, 30) in october  # 16:30 UTC
    assert jkt(11, 1, 0, 0) not in october  # 17:00 UTC, the first instant of November
    assert jkt(11, 1, 0, 0) - timedelta(microseconds=1) in october

    now = jkt(11, 15, 12, 0)
    this_month = period_for("this_month", now=now)
    assert (this_month.start, this_month.end) == (jkt(11, 1), now)
    assert (this_month.first_day, this_month.last_day) == (date(2026, 11, 1), date(2026, 11, 15))
    last_month = period_for("last_month", now=now)
    assert (last_month.start, last_month.end) == (october.start, october.end)
    last_30 = period_for("last_30", now=now)
    assert (last_30.first_day, last_30.days, last_30.start) == (date(2026, 10, 17), 30, jkt(10, 17))
    assert period_for("last_90", now=now).days == 90
    # 1 November 06:00 in Jakarta is still 31 October in UTC: the shop's month has begun all the same.
    early = period_for("this_month", now=jkt(11, 1, 6, 0))
    assert early.first_day == date(2026, 11, 1) and early.start == jkt(11, 1)
    swapped = period_for("custom", first=date(2026, 10, 31), last=date(2026, 10, 1))
    assert swapped == october


def test_a_message_at_2330_on_31_october_in_jakarta_is_octobers(app, make_customer, talk, staff):
    late = make_customer("Late Lina", whatsapp="081200000001")
    midnight = make_customer("Midnight Mira", whatsapp="081200000002")
    talk(late, "whatsapp", [(jkt(10, 31, 23, 30), "customer", "halo")], by=staff)  # 16:30 UTC
    talk(midnight, "whatsapp", [(jkt(11, 1, 0, 0), "customer", "halo")], by=staff)  # 17:00 UTC on 31 October
    record_sale(late, amount=100_000, sold_on=date(2026, 10, 31), channel="whatsapp")
    record_sale(midnight, amount=250_000, sold_on=date(2026, 11, 1), channel="whatsapp")
    db.session.commit()

    october = channel_report(period_for("custom", first=date(2026, 10, 1), last=date(2026, 10, 31)))
    november = channel_report(period_for("custom", **NOVEMBER))
    assert (october.total.conversations, october.total.customer_messages, october.total.new_customers) == (1, 1, 1)
    assert (november.total.conversations, november.total.customer_messages, november.total.new_customers) == (1, 1, 1)
    assert (october.total.revenue, november.total.revenue) == (100_000, 250_000)
    assert october.total.responses.unanswered == 1 and november.total.responses.unanswered == 1
    # Seen from 15 November: "last month" is October, "this month" November.
    now = jkt(11, 15, 9, 0)
    assert _figures(channel_report(period_for("last_month", now=now)).total) == _figures(october.total)
    assert channel_report(period_for("this_month", now=now)).total.revenue == 250_000


def test_a_run_counts_in_the_period_it_started_in_and_a_later_reply_still_answers_it(app, make_customer, talk):
    rina = make_customer("Rina", whatsapp="081200000003")
    talk(rina, "whatsapp", [
        (jkt(10, 31, 23, 50), "customer", "masih buka?"),
        (jkt(11, 1, 0, 10), "customer", "halo?"),
        (jkt(11, 1, 0, 30), "staff", "masih kak"),
        (jkt(11, 1, 8, 0), "customer", "ok"),
    ])
    october = channel_report(period_for("custom", first=date(2026, 10, 1), last=date(2026, 10, 31))).total
    november = channel_report(period_for("custom", **NOVEMBER)).total
    assert (october.customer_messages, october.responses.answered, october.responses.average) == (1, 1, minutes(40))
    assert (november.customer_messages, november.responses.answered, november.responses.unanswered) == (2, 0, 1)


# A November shop, counted by hand -----------------------------------------------------------------------------

@pytest.fixture
def november_shop(app, make_customer, talk, owner, staff):
    """Four live customers and three that must not count (see the expected figures in the tests below)."""
    rina = make_customer("Rina", whatsapp="081211110001")
    dewi = make_customer("Dewi", instagram="dewi.shop")
    sari = make_customer("Sari", instagram="sari.jkt")
    tono = make_customer("Tono", whatsapp="081211110004")
    gone = make_customer("Gone", whatsapp="081211110005")
    old = make_customer("Old Rina", whatsapp="081211110006")

    rina_chat = talk(rina, "whatsapp", [
        (jkt(11, 3, 10, 0), "customer", "Harga kak?"),
        (jkt(11, 3, 10, 5), "customer", "yang merah"),
        (jkt(11, 3, 10, 30), "staff", "185rb kak"),  # 30 min
        (jkt(11, 3, 11, 0), "customer", "ok pesan 2"),
        (jkt(11, 3, 12, 0), "staff", "siap"),  # 60 min
    ], by=staff)
    dewi_chat = talk(dewi, "instagram", [
        (jkt(11, 5, 9, 0), "customer", "ongkir ke Bandung?"),
        (jkt(11, 5, 11, 0), "staff", "20rb kak"),  # 120 min
        (jkt(11, 5, 11, 30), "customer", "ok makasih"),  # unanswered
    ], by=owner)
    sari_chat = talk(sari, "instagram", [
        (jkt(11, 10, 20, 0), "customer", "harga?"),
        (jkt(11, 11, 8, 0), "staff", "150rb"),  # 12 h, overnight: clock hours
    ], by=owner)
    talk(tono, "whatsapp", [(jkt(10, 20, 9, 0), "customer", "halo"), (jkt(10, 20, 9, 5), "staff", "halo kak")],
         by=staff)
    tono_chat = talk(tono, "whatsapp", [
        (jkt(11, 20, 14, 0), "customer", "mau order lagi"),
        (jkt(11, 20, 14, 10), "staff", "siap kak"),  # 10 min
    ], by=staff)
    deleted_chat = talk(dewi, "facebook", [(jkt(11, 6, 9, 0), "customer", "halo"), (jkt(11, 6, 9, 1), "staff", "ya")],
                        by=owner)
    talk(gone, "whatsapp", [(jkt(11, 7, 9, 0), "customer", "harga?")], by=staff)
    talk(old, "whatsapp", [(jkt(11, 8, 9, 0), "customer", "harga?")], by=staff)

    record_sale(rina, amount=370_000, sold_on=date(2026, 11, 3), channel="whatsapp", created_by_id=staff.id)
    record_sale(sari, amount=150_000, sold_on=date(2026, 11, 12), channel="whatsapp", created_by_id=owner.id)
    record_sale(tono, amount=200_000, sold_on=date(2026, 11, 20), channel="whatsapp", created_by_id=staff.id)
    record_sale(tono, amount=90_000, sold_on=date(2026, 12, 1), channel="whatsapp", created_by_id=staff.id)
    record_sale(gone, amount=1_000_000, sold_on=date(2026, 11, 7), channel="whatsapp")
    record_sale(old, amount=1_000_000, sold_on=date(2026, 11, 8), channel="instagram")
    dewi.stage = "interested"
    deleted_chat.deleted_at = utcnow()
    gone.deleted_at = utcnow()
    old.merged_into_id = rina.id
    price = db.session.execute(db.select(Tag).where(Tag.name == "price")).scalar_one()
    remove_tag_by_hand(sari_chat, price, owner.id)
    db.session.commit()

    tags = {c: sorted(t.tag.name for t in shown) for c, shown in tags_of(
        [rina_chat.id, dewi_chat.id, sari_chat.id, tono_chat.id]).items()}
    assert tags == {rina_chat.id: ["order", "price"], dewi_chat.id: ["shipping"], tono_chat.id: ["order"]}, tags
    return {"rina": rina, "dewi": dewi, "sari": sari, "tono": tono}


def _figures(row):
    r = row.responses
    return {
        "new": row.new_customers, "conversations": row.conversations, "messages": row.customer_messages,
        "answered": r.answered, "unanswered": r.unanswered, "average": r.average, "median": r.median,
        "prospects": row.prospects, "won": row.won, "revenue": row.revenue, "conversion": row.conversion,
        "per_conversation": row.revenue_per_conversation,
    }


def test_channel_figures_match_a_hand_count(november_shop):
    report = channel_report(period_for("custom", **NOVEMBER))
    rows = {row.key: row for row in report.channels}
    assert list(rows) == ["whatsapp", "instagram"]
    # WhatsApp: Rina is new (Tono's first chat was in October); runs of 30, 60 and 10 minutes; three sales were
    # made on WhatsApp (Rina 370k, Sari 150k, Tono 200k; Tono's December sale is outside).
    assert _figures(rows["whatsapp"]) == {
        "new": 1, "conversations": 2, "messages": 4, "answered": 3, "unanswered": 0,
        "average": minutes(100 / 3), "median": minutes(30), "prospects": 1, "won": 3, "revenue": 720_000,
        "conversion": 1.0, "per_conversation": 360_000,
    }
    # Instagram: Dewi (interested) and Sari (bought, on WhatsApp) are new; 120 min, 12 h and one unanswered run.
    # Sari's sale is WhatsApp's, so Instagram converted none: conversion never counts a sale the row does not.
    assert _figures(rows["instagram"]) == {
        "new": 2, "conversations": 2, "messages": 3, "answered": 2, "unanswered": 1,
        "average": minutes(420), "median": minutes(420), "prospects": 2, "won": 0, "revenue": 0,
        "conversion": 0.0, "per_conversation": 0,
    }
    assert _figures(report.total) == {
        "new": 3, "conversations": 4, "messages": 7, "answered": 5, "unanswered": 1,
        "average": minutes((30 + 60 + 10 + 120 + 720) / 5), "median": minutes(60), "prospects": 3, "won": 3,
        "revenue": 720_000, "conversion": 2 / 3, "per_conversation": 180_000,
    }


def test_need_tag_figures_match_a_hand_count(november_shop):
    rows = {row.key: row for row in channel_report(period_for("custom", **NOVEMBER)).tags}
    assert list(rows) == ["order", "price", "shipping"]  # most conversations first, then by title
    # Sari's price tag was removed by hand: price is Rina's conversation only.
    assert _figures(rows["price"]) | {"average": None, "median": None} == {
        "new": 1, "conversations": 1, "messages": 3, "answered": 2, "unanswered": 0, "average": None,
        "median": None, "prospects": 1, "won": 1, "revenue": 370_000, "conversion": 1.0, "per_conversation": 370_000,
    }
    assert rows["price"].responses.median == minutes(45)
    assert (rows["order"].conversations, rows["order"].new_customers, rows["order"].won, rows["order"].revenue) \
        == (2, 1, 2, 570_000)
    assert (rows["shipping"].conversations, rows["shipping"].responses.unanswered, rows["shipping"].revenue,
            rows["shipping"].conversion) == (1, 1, 0, 0.0)


def test_staff_figures_match_a_hand_count(november_shop, owner, staff):
    rows = {row.label: row for row in channel_report(period_for("custom", **NOVEMBER)).staff}
    assert list(rows) == ["Ani Owner", "Budi Staff"]
    budi, ani = rows["Budi Staff"], rows["Ani Owner"]
    assert budi.key == str(staff.id)
    assert (budi.conversations, budi.customer_messages, budi.responses.answered, budi.new_customers,
            budi.won, budi.revenue, budi.conversion) == (2, 4, 3, 1, 2, 570_000, 1.0)
    assert (ani.conversations, ani.customer_messages, ani.responses.answered, ani.responses.unanswered,
            ani.new_customers, ani.won, ani.revenue, ani.conversion) == (2, 3, 2, 1, 2, 1, 150_000, 0.5)


def test_conversations_per_week_per_channel(november_shop):
    weekly = channel_report(period_for("custom", **NOVEMBER)).weekly
    # 1 November 2026 is a Sunday: its week starts on Monday 26 October.
    assert weekly.weeks[0] == date(2026, 10, 26) and weekly.weeks[-1] == date(2026, 11, 30)
    assert len(weekly.weeks) == 6
    assert weekly.by_channel == {"whatsapp": [0, 1, 0, 1, 0, 0], "instagram": [0, 1, 1, 0, 0, 0]}


def test_an_empty_shop_gives_an_empty_report(app):
    report = channel_report(period_for("this_month"))
    assert report.channels == [] and report.tags == [] and report.staff == [] and report.costs == []
    assert report.total.conversion is None and report.total.revenue_per_conversation is None
    assert report.total.responses == ResponseTimes()


# Costs ---------------------------------------------------------------------------------------------------------

def test_costs_are_spread_over_their_month_and_give_cost_per_won_customer(november_shop, owner):
    save_month_costs(date(2026, 11, 1), [
        CostEntry("whatsapp", ads=600_000, boosts=300_000, staff_hours=10, hourly_cost=30_000),
        CostEntry("instagram", ads=300_000),
    ], user_id=owner.id)
    save_month_costs(date(2026, 10, 1), [CostEntry("instagram", ads=310_000)], user_id=owner.id)
    db.session.commit()

    report = channel_report(period_for("custom", **NOVEMBER))
    costs = {row.key: row for row in report.costs}
    assert (costs["whatsapp"].cost, costs["whatsapp"].cost_per_won, costs["whatsapp"].return_on_spend) \
        == (1_200_000, 400_000, 0.6)
    assert (costs["instagram"].cost, costs["instagram"].cost_per_won, costs["instagram"].return_on_spend) \
        == (300_000, None, 0.0)
    assert (report.cost_total.cost, report.cost_total.won, report.cost_total.revenue) == (1_500_000, 3, 720_000)
    # 10 days of October at 10,000 a day and 5 of November at 10,000; WhatsApp 5/30 of 1.2 million.
    assert period_costs(period_for("custom", first=date(2026, 10, 22), last=date(2026, 11, 5))) == \
        {"instagram": 150_000, "whatsapp": 200_000}
    assert period_costs(period_for("this_month", now=jkt(11, 15, 12)))["whatsapp"] == 600_000


def test_saving_a_month_again_replaces_it_and_an_empty_channel_has_no_cost(app, owner):
    save_month_costs(date(2026, 11, 20), [CostEntry("tiktok", ads=100_000), CostEntry("x", boosts=5)], user_id=owner.id)
    save_month_costs(date(2026, 11, 1), [CostEntry("tiktok", ads=120_000), CostEntry("x")], user_id=owner.id)
    db.session.commit()
    rows = db.session.execute(db.select(ChannelCost)).scalars().all()
    assert [(r.channel, r.month, r.total, r.updated_by_id) for r in rows] == \
        [("tiktok", date(2026, 11, 1), 120_000, owner.id)]
    with pytest.raises(ValueError):
        save_month_costs(date(2026, 11, 1), [CostEntry("myspace", ads=1)], user_id=owner.id)


# The page, the downloads, the roles ----------------------------------------------------------------------------

def test_staff_see_the_report_with_its_tables_charts_data_and_the_counting_note(november_shop, staff_client):
    response = staff_client.get(f"/reports/?{NOVEMBER_QUERY}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for heading in ("By channel", "By need tag", "By staff member", "How these are counted", "clock hours"):
        assert heading in page
    assert 'href="/reports/"' in page and ">Report</a>" in page
    assert "Rp 720,000" in page and "33 min" in page and "7 h 00 min" in page and "66.7%" in page
    assert "/reports/costs" not in page, "only the owner is offered cost entry"
    # No inline script (the CSP would refuse it): the charts' data is JSON in an attribute, read by reports.js.
    assert all('src="/static/' in tag for tag in re.findall(r"<script\b[^>]*>", page))
    data = json.loads(html.unescape(re.search(r"data-charts='([^']*)'", page)[1]))
    assert data["revenue"] == {"channels": ["whatsapp", "instagram"], "labels": ["WhatsApp", "Instagram"],
                               "values": [720_000, 0]}
    assert data["weekly"]["labels"] == ["26 Oct", "2 Nov", "9 Nov", "16 Nov", "23 Nov", "30 Nov"]
    assert data["weekly"]["series"][0] == {"channel": "whatsapp", "label": "WhatsApp", "counts": [0, 1, 0, 1, 0, 0]}


def test_a_nonsense_period_shows_this_month_with_a_400(owner_client):
    for query in ("period=forever", "period=custom&first=2026-02-31&last=2026-03-01", "period=custom",
                  "period=custom&first=2020-01-01&last=2026-01-01", "first=%00&last=<script>"):
        response = owner_client.get(f"/reports/?{query}")
        assert response.status_code == 400, query
        assert "By channel" in response.get_data(as_text=True)
        assert owner_client.get(f"/reports/channels.csv?{query}").status_code == 400


def _csv_rows(response):
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";" if ";" in text.splitlines()[0] else ","))


def test_every_table_downloads_as_csv_with_a_bom(november_shop, staff_client, owner, app):
    response = staff_client.get(f"/reports/channels.csv?{NOVEMBER_QUERY}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'filename="obrolan-channels-2026-11-01-2026-11-30.csv"' in response.headers["Content-Disposition"]
    header, whatsapp, instagram, total = _csv_rows(response)
    assert header[:3] == ["name", "new_customers", "conversations"]
    assert dict(zip(header, whatsapp, strict=True)) == dict(zip(header, [
        "WhatsApp", "1", "2", "4", "3", "0", "0.56", "0.5", "1", "3", "720000", "100", "360000"], strict=True))
    assert total[0] == "All channels" and total[header.index("conversion_percent")] == "66.7"
    tags = _csv_rows(staff_client.get(f"/reports/tags.csv?{NOVEMBER_QUERY}"))
    assert [row[0] for row in tags[1:]] == ["Order", "Price", "Shipping"]
    staff_rows = _csv_rows(staff_client.get(f"/reports/staff.csv?{NOVEMBER_QUERY}&sep=semicolon"))
    budi = dict(zip(staff_rows[0], staff_rows[2], strict=True))
    assert budi["name"] == "Budi Staff" and budi["first_response_average_hours"] == "0,56"
    assert len(_csv_rows(staff_client.get(f"/reports/costs.csv?{NOVEMBER_QUERY}"))) == 1  # no costs: header only
    assert staff_client.get("/reports/customers.csv").status_code == 404


def test_a_name_that_is_an_excel_formula_stays_text_in_the_csv(app, make_user, talk, make_customer, owner_client):
    sneaky = make_user("=HYPERLINK(1)", email="sneaky@tokosari.id")
    talk(make_customer("Rina", whatsapp="081299990000"), "whatsapp", [(utcnow() - minutes(5), "customer", "halo")],
         by=sneaky)
    rows = _csv_rows(owner_client.get("/reports/staff.csv"))
    assert rows[1][0] == "'=HYPERLINK(1)"


def test_only_the_owner_enters_costs(november_shop, owner_client, staff_client):
    assert staff_client.get("/reports/costs").status_code == 403
    assert staff_client.post("/reports/costs", data={"month": "2026-11"}).status_code == 403
    page = owner_client.get("/reports/costs?month=2026-11")
    assert page.status_code == 200 and "November 2026" in page.get_data(as_text=True)

    from crm.identities import CHANNELS

    data = {"month": "2026-11"}
    for index, channel in enumerate(CHANNELS):
        data[f"entries-{index}-channel"] = channel
    whatsapp = CHANNELS.index("whatsapp")
    data |= {f"entries-{whatsapp}-ads": "600000", f"entries-{whatsapp}-boosts": "300000",
             f"entries-{whatsapp}-staff_hours": "10", f"entries-{whatsapp}-hourly_cost": "30000"}
    response = owner_client.post("/reports/costs", data=data)
    assert response.status_code == 302 and response.headers["Location"].endswith("/reports/costs?month=2026-11")
    cost = db.session.execute(db.select(ChannelCost)).scalar_one()
    assert (cost.channel, cost.month, cost.total) == ("whatsapp", date(2026, 11, 1), 1_200_000)
    page = owner_client.get(f"/reports/?{NOVEMBER_QUERY}").get_data(as_text=True)
    assert "Cost per won customer" in page and "Rp 400,000" in page and "0.6×" in page

    refused = owner_client.post("/reports/costs", data=data | {f"entries-{whatsapp}-ads": "-5",
                                                               f"entries-{whatsapp}-staff_hours": "sNaN"})
    assert refused.status_code == 400
    assert 'value="-5"' in refused.get_data(as_text=True)
    assert db.session.execute(db.select(ChannelCost)).scalar_one().ads == 600_000
    assert owner_client.post("/reports/costs", data=data | {"month": "next year"}).status_code == 400


def test_deleted_and_merged_customers_never_count(november_shop):
    # Gone (deleted) and Old Rina (merged away) each had a November chat and a 1,000,000 sale.
    total = channel_report(period_for("custom", **NOVEMBER)).total
    assert total.revenue == 720_000 and total.conversations == 4
    assert db.session.execute(db.select(db.func.count(Customer.id))).scalar_one() == 6


def test_the_report_reads_in_indonesian_too(november_shop, owner_client):
    page = owner_client.get(f"/reports/?{NOVEMBER_QUERY}", headers={"Accept-Language": "id-ID,id;q=0.9"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert '<html lang="id">' in text and "Rp 720.000" in text and "66,7%" in text


def test_the_median_is_read_from_steps_and_the_average_is_exact(app, make_customer, talk):
    rina = make_customer("Rina")
    talk(rina, "whatsapp", [
        (jkt(11, 3, 10, 0), "customer", "harga?"), (jkt(11, 3, 10, 31), "staff", "185rb"),  # 31 min: the 35 step
        (jkt(11, 3, 11, 0), "customer", "ongkir?"), (jkt(11, 3, 11, 2), "staff", "20rb"),  # 2 min
        (jkt(11, 3, 12, 0), "customer", "ok"), (jkt(11, 3, 12, 50), "staff", "siap"),  # 50 min
    ])
    responses = channel_report(period_for("custom", **NOVEMBER)).total.responses
    assert (responses.answered, responses.average, responses.median) == (3, minutes((31 + 2 + 50) / 3), minutes(35))


def test_the_report_reads_days_not_messages(november_shop):
    """However many messages, the report's statements read the daily rows, customers and sales only."""
    from sqlalchemy import event

    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        channel_report(period_for("custom", **NOVEMBER))
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert not any("FROM messages" in statement for statement in statements)
