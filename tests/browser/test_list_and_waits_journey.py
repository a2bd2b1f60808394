"""A busy afternoon: a thank-you closes itself and one wait is closed by hand on Today, a list of customers is
filtered and acted on in bulk, and a customer who bought is won with a sale, on a desk and on a phone."""
import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.sync_api import expect

from crm.extensions import db
from crm.models import Order

SCREENSHOTS = Path(os.environ.get("OBROLAN_SCREENSHOTS", Path(__file__).resolve().parents[2] / "test-artifacts"))


@pytest.fixture
def afternoon(make_customer, chat, staff):
    now = datetime.now(timezone.utc)
    dewi = make_customer("Dewi Anggraini", instagram="dewi.shop")
    chat(dewi, [("customer", "ongkir ke Bandung brp?"), ("staff", "20rb kak"), ("customer", "makasih kak 🙏")],
         channel="instagram", start=now - timedelta(hours=3))
    rina = make_customer("Rina Marlina", whatsapp="0812-3456-7890")
    chat(rina, [("customer", "kak katalognya udah aku liat ya")], start=now - timedelta(hours=2))
    sari = make_customer("Sari Wulandari", whatsapp="0813-1111-2222")
    chat(sari, [("customer", "Harga gamis L brp kak? mau order 2")], start=now - timedelta(hours=1))
    for i in range(4):
        customer = make_customer(f"Pelanggan {i}", instagram=f"pelanggan.{i}")
        chat(customer, [("customer", "harga brp kak?"), ("staff", "150rb")], channel="instagram",
             start=now - timedelta(days=i + 2))
    return {"dewi": dewi, "rina": rina, "sari": sari}


@pytest.mark.browser
def test_waits_close_on_today(page, login, staff, afternoon):
    login(staff.email)
    page.goto("/")
    waiting = page.locator("#waiting")
    expect(waiting.locator(".queue-row")).to_have_count(2)
    expect(waiting).to_contain_text("1 chat ended with thanks: no reply needed")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "today-waits.png"), full_page=True)

    waiting.locator(".queue-row", has_text="Rina Marlina").get_by_role("button", name="No reply needed").click()
    expect(page.get_by_text("No reply needed for Rina Marlina.")).to_be_visible()
    expect(page.locator("#waiting .queue-row")).to_have_count(1)
    expect(page.locator(".strip")).to_contain_text("1 waiting on us")

    page.get_by_role("link", name="1 chat ended with thanks: no reply needed").click()
    row = page.locator(".queue-row", has_text="Dewi Anggraini")
    expect(row).to_contain_text("No reply needed: the chat ended with thanks.")
    expect(row).to_contain_text("makasih kak 🙏")
    row.get_by_role("button", name="Reply needed after all").click()
    expect(page.get_by_text("Dewi Anggraini waits on us again.")).to_be_visible()
    page.goto("/")
    expect(page.locator("#waiting .queue-row")).to_have_count(2)


@pytest.mark.browser
def test_filter_pick_and_act_on_customers(page, login, owner, staff, afternoon):
    login(owner.email)
    page.goto("/customers/")
    expect(page.locator(".list-total")).to_have_text("7 customers")
    expect(page.get_by_label("Channel")).to_be_hidden()
    page.locator(".list-filters summary").click()
    page.get_by_label("Channel").select_option("instagram")
    page.wait_for_url("**channel=instagram**")
    expect(page.locator(".list-total")).to_have_text("5 customers match")
    page.get_by_role("link", name="Customer", exact=True).click()
    page.wait_for_url("**sort=name**")
    expect(page.locator("tbody tr").first).to_contain_text("Dewi Anggraini")
    page.screenshot(path=str(SCREENSHOTS / "customers-filtered.png"), full_page=True)

    expect(page.locator("#bulk button[value=assign]")).to_be_hidden()
    page.get_by_label("Pick Pelanggan 0").check()
    page.get_by_label("Pick Pelanggan 1").check()
    page.locator("#bulk select[name=assign_to]").select_option(label=staff.name)
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.get_by_text("2 customers assigned.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"channel=instagram.*sort=name|sort=name.*channel=instagram"))
    expect(page.locator(".list-filters summary .count")).to_have_text("1")
    page.locator(".list-filters summary").click()
    page.get_by_label("Assigned to").select_option(label=staff.name)
    expect(page.locator(".list-total")).to_have_text("2 customers match")

    page.get_by_label("Pick every customer on this page").check()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Move to trash").click()
    expect(page.get_by_text("2 customers moved to the trash")).to_be_visible()
    expect(page.locator(".list-total")).to_have_text("0 customers match")


@pytest.mark.browser
def test_won_asks_for_the_sale_and_the_pages_read_on_a_phone(page, login, staff, afternoon):
    sari = afternoon["sari"]
    login(staff.email)
    page.goto(f"/customers/{sari.id}")
    pipeline = page.locator("#pipeline")
    expect(pipeline.locator("[data-sale-fields]")).to_be_hidden()
    pipeline.get_by_label("Pipeline stage").select_option("won")
    expect(pipeline.locator("[data-sale-fields]")).to_be_visible()
    pipeline.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Or tick “Amount not known”")).to_be_visible()
    page.get_by_label("Amount not known").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Sale recorded: Sari Wulandari is won.")).to_be_visible()
    expect(page.locator("#orders .order-card")).to_contain_text("amount not known")  # a sale is a paid order
    assert db.session.execute(db.select(Order.total).where(Order.customer_id == sari.id)).scalar_one_or_none() is None

    page.set_viewport_size({"width": 360, "height": 780})
    for name, url in (("phone-today", "/"), ("phone-customers", "/customers/"),
                      ("phone-customer", f"/customers/{afternoon['rina'].id}")):
        page.goto(url)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 380, f"the customer page is {width}px wide on a 360px phone"
