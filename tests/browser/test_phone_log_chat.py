"""Log chat on a touch screen: Enter is a new line (a phone has no Shift), the buttons add the next message and
save, and the hint speaks of tapping, not of keys. With a keyboard, Enter still moves to the next message."""
from playwright.sync_api import expect

from crm.extensions import db
from crm.models import Message

PHONE = {"width": 360, "height": 740}


def _log_in(page, email):
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def test_on_a_phone_enter_is_a_new_line_and_the_buttons_do_the_rest(browser, live_server, staff, make_customer):
    rina = make_customer("Rina Marlina", whatsapp="0812-3456-7890")
    context = browser.new_context(base_url=live_server, viewport=PHONE, is_mobile=True, has_touch=True,
                                  locale="en-US")
    page = context.new_page()
    try:
        _log_in(page, staff.email)
        page.goto(f"/conversations/log?customer_id={rina.id}")
        expect(page.locator(".hint-touch")).to_be_visible()
        expect(page.locator(".hint-keyboard")).to_be_hidden()
        rows = page.locator(".message-row").count()
        first = page.locator("[data-message-rows] textarea").first
        first.tap()
        first.type("Kak, mau order:")
        first.press("Enter")
        first.type("Nama: Rina")
        expect(first).to_have_value("Kak, mau order:\nNama: Rina")
        expect(page.locator(".message-row")).to_have_count(rows)
        page.get_by_role("button", name="+ Next message").tap()
        expect(page.locator(".message-row")).to_have_count(rows + 1)
        page.locator("[data-message-rows] textarea").nth(1).type("Siap kak")
        page.get_by_role("button", name="Save chat").tap()
        page.wait_for_url(lambda url: "/conversations/log" not in url)
        bodies = db.session.execute(db.select(Message.body, Message.side).order_by(Message.id)).all()
        assert bodies == [("Kak, mau order:\nNama: Rina", "customer"), ("Siap kak", "staff")]
        assert page.evaluate("() => document.scrollingElement.scrollWidth") <= PHONE["width"]
    finally:
        context.close()


def test_with_a_keyboard_enter_goes_to_the_next_message(page, login, staff, make_customer):
    rina = make_customer("Rina Marlina", whatsapp="0812-3456-7890")
    login(staff.email)
    page.goto(f"/conversations/log?customer_id={rina.id}")
    expect(page.locator(".hint-keyboard")).to_be_visible()
    expect(page.locator(".hint-touch")).to_be_hidden()
    rows = page.locator(".message-row").count()
    page.locator("[data-message-rows] textarea").first.fill("Harga?")
    page.locator("[data-message-rows] textarea").first.press("Enter")
    expect(page.locator("[data-message-rows] textarea").nth(1)).to_be_focused()
    expect(page.locator("[data-message-rows] textarea").first).to_have_value("Harga?")
    page.locator("[data-message-rows] textarea").last.press("Enter")
    expect(page.locator(".message-row")).to_have_count(rows + 1)
