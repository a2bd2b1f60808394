"""A morning at the shop: staff open the queue, answer a customer who is waiting, and see them leave the list."""
import os
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from crm.extensions import db
from crm.today.queue import shop_day
from crm.today.services import add_follow_up

SCREENSHOTS = Path(os.environ.get("OBROLAN_SCREENSHOTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
GAMIS = "Kak, harga gamis ukuran L berapa? bisa COD ke Bandung?"


@pytest.mark.browser
def test_staff_answer_a_waiting_customer_from_the_queue(page, login, staff, owner, make_customer, chat):
    now = datetime.now(timezone.utc)
    day = shop_day()
    rina = make_customer("Rina Marlina", whatsapp="0812-3456-7890")
    chat(rina, [("staff", "Halo kak, ada yang bisa dibantu?"), ("customer", GAMIS)],
         start=now - timedelta(hours=2, minutes=1))
    sari = make_customer("Sari Dewi", instagram="@sari.shop")
    chat(sari, [("customer", "Mau order 2 pcs, transfer ke BCA ya kak"), ("staff", "Siap kak, ditunggu")],
         channel="instagram", start=now - timedelta(hours=5))
    sari.stage = "negotiating"
    budi = make_customer("Budi Reseller", whatsapp="0813-1111-2222")
    chat(budi, [("customer", "Bisa jadi reseller? minimal order berapa?"), ("staff", "Bisa kak, min 1 kodi")],
         start=now - timedelta(days=3))
    yesterday = datetime.combine(day.today - timedelta(days=1), time(0), tzinfo=ZoneInfo("Asia/Jakarta"))
    add_follow_up(budi, due_at=yesterday, has_time=False, note="kirim pricelist reseller", assigned_to_id=staff.id)
    dina = make_customer("Dina Lestari", whatsapp="0857-2222-3333")
    chat(dina, [("customer", "Paketnya belum sampai kak, resi nya apa?"), ("staff", "Dicek dulu ya kak")],
         start=now - timedelta(days=1))
    add_follow_up(dina, due_at=day.start, has_time=False, note="cek resi JNE", assigned_to_id=owner.id)
    db.session.commit()

    login(staff.email)
    page.goto("/")
    expect(page.get_by_role("heading", name="Follow up today")).to_be_visible()
    waiting = page.locator("#waiting")
    row = waiting.locator(".queue-row", has_text="Rina Marlina")
    expect(row).to_contain_text("Waiting on us for 2 hours")
    expect(row.locator('[data-tag="price"]')).to_be_visible()
    expect(row.locator('[data-tag="shipping"]')).to_be_visible()
    expect(page.locator("#overdue")).to_contain_text("Budi Reseller")
    expect(page.locator("#today")).to_contain_text("Dina Lestari")
    expect(page.locator("#hot")).to_contain_text("Sari Dewi")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "queue.png"), full_page=True)

    row.get_by_text("Log reply").click()
    row.get_by_label("Our reply to Rina Marlina").fill("Ready kak, 185rb. COD ke Bandung bisa 😊")
    row.get_by_role("button", name="Save reply").click()
    expect(page.get_by_text("Reply to Rina Marlina logged.")).to_be_visible()
    expect(page.locator("#waiting")).not_to_contain_text("Rina Marlina")
    expect(page.locator("#waiting .count")).to_have_text("0")

    # Done and snooze from the queue: the overdue follow-up goes, today's moves to tomorrow.
    page.locator("#overdue .queue-row", has_text="Budi Reseller").get_by_role("button", name="Done").click()
    expect(page.locator("#overdue")).not_to_contain_text("Budi Reseller")
    page.locator("#today .queue-row", has_text="Dina Lestari").get_by_role("button", name="+1 day").click()
    expect(page.locator("#today")).not_to_contain_text("Dina Lestari")

    # The filter applies on change (app.js), and the customer page shows the score with its reasons.
    page.locator("summary", has_text="Filters").click()
    page.get_by_label("Whose").select_option("me")
    page.wait_for_url("**staff=me**")
    expect(page.locator("summary", has_text="Filters").locator(".count")).to_have_text("1")
    expect(page.locator("#overdue")).to_contain_text("Nothing here")
    page.goto("/")
    page.locator("#hot").get_by_role("link", name="Sari Dewi").click()
    expect(page.locator("#prospect")).to_contain_text("+30 asked about Order today")
    page.screenshot(path=str(SCREENSHOTS / "customer-score.png"), full_page=True)
