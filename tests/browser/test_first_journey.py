"""The first day: the owner logs in, adds a customer, logs a three-message chat and reads it back."""
import os
import re
from pathlib import Path

from playwright.sync_api import expect

SCREENSHOTS = Path(os.environ.get("OBROLAN_SCREENSHOTS", Path(__file__).resolve().parents[2] / "test-artifacts"))


def test_owner_adds_a_customer_logs_a_chat_and_reads_it(page, login, owner):
    login(owner.email)

    page.get_by_role("link", name="Customers").click()
    page.get_by_role("link", name="+ New customer").click()
    page.get_by_label("Name", exact=True).fill("Rina Marlina")
    page.get_by_label("WhatsApp", exact=True).fill("0812-3456-7890")
    page.get_by_label("Instagram", exact=True).fill("@Rina.Shop")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Rina Marlina")).to_be_visible()
    expect(page.get_by_text("+62 812-3456-7890")).to_be_visible()

    page.locator("main").get_by_role("link", name="Log chat").click()
    rows = page.locator(".message-row")
    rows.nth(0).locator("textarea").fill("Kak, gamis motif parang ukuran L masih ready? <script>alert(1)</script>")
    rows.nth(0).locator("textarea").press("Enter")
    expect(rows.nth(1).locator("textarea")).to_be_focused()
    rows.nth(1).get_by_label("Us", exact=True).check()
    rows.nth(1).locator("textarea").fill("Ready kak, warna biru dan hijau 😊")
    rows.nth(2).get_by_label("Customer", exact=True).check()
    rows.nth(2).locator("textarea").fill("Harganya brp kak?")
    page.get_by_role("button", name="Save chat").click()
    expect(page.get_by_text("3 messages logged for Rina Marlina")).to_be_visible()

    page.get_by_role("link", name="Rina Marlina").first.click()
    thread = page.locator(".thread")
    expect(thread.locator(".message")).to_have_count(3)
    expect(thread.locator(".message-staff .body")).to_have_text("Ready kak, warna biru dan hijau 😊")
    expect(thread.locator(".message").first.locator(".body")).to_contain_text("<script>alert(1)</script>")

    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "customer-page.png"), full_page=True)

    page.get_by_role("link", name="Customers").click()
    page.get_by_label("Find a customer").fill("812-3456")
    expect(page.locator("#customer-results")).to_contain_text("Rina Marlina")


def test_a_new_shop_sets_up_the_owner_and_adds_staff(app, page):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/setup$"))
    page.get_by_label("Setup token").fill(app.extensions["obrolan_setup_token"])
    page.get_by_label("Name").fill("Ani")
    page.get_by_label("E-mail").fill("ani@tokosari.id")
    page.get_by_label("Password", exact=True).fill("correct horse battery")
    page.get_by_label("Repeat the password").fill("correct horse battery")
    page.get_by_role("button", name="Create the owner account").click()
    expect(page.get_by_text("Your owner account is ready")).to_be_visible()

    page.get_by_role("link", name="Staff").click()
    form = page.locator("form", has=page.get_by_role("button", name="Add account"))
    form.get_by_label("Name").fill("Budi")
    form.get_by_label("E-mail").fill("budi@tokosari.id")
    form.get_by_label("Password", exact=True).fill("budi's long password")
    form.get_by_label("Repeat the password").fill("budi's long password")
    form.get_by_role("button", name="Add account").click()
    expect(page.get_by_text("Account for Budi created.")).to_be_visible()
    expect(page.locator("table")).to_contain_text("budi@tokosari.id")

    page.get_by_role("button", name="Log out").click()
    page.get_by_label("E-mail").fill("budi@tokosari.id")
    page.get_by_label("Password").fill("budi's long password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.get_by_role("link", name="Staff")).to_have_count(0)
    assert page.goto("/users").status == 403
