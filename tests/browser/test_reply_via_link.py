"""Reply in one click, in a real browser: from Today, "Reply on WhatsApp" for a waiting customer, "/rek" and
Enter fill the bank-account reply, the button opens wa.me with that text (intercepted: no network), the reply is
logged "sent via link" and the customer no longer waits; undo brings both back."""
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from crm.extensions import db
from crm.models import Message, QuickReplyUse
from crm.shop_settings import save_settings

SCREENSHOTS = Path(os.environ.get("OBROLAN_SCREENSHOTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
BANK = "BCA 1234567890 a.n. Sari Dewi\nMandiri 9876543210 a.n. Sari Dewi"


def _shop(owner, make_customer, chat):
    save_settings({"shop_name": "Toko Batik Sari", "bank_accounts": BANK}, owner.id)
    db.session.commit()
    rina = make_customer("Rina Kusuma", whatsapp="0812 3456 7890")
    chat(rina, [("customer", "Kak gamis navy ready?"), ("staff", "Ready kak, 185rb"),
                ("customer", "Oke kak saya transfer, rekeningnya apa? 🙏")],
         start=datetime.now(timezone.utc) - timedelta(hours=2), step=timedelta(minutes=20))
    return rina


def _waiting_row(page, name):
    return page.locator("#waiting .queue-row", has_text=name)


def test_reply_on_whatsapp_from_today_logs_itself_and_can_be_undone(page, login, owner, staff, make_customer, chat):
    rina = _shop(owner, make_customer, chat)
    opened = []

    def whatsapp(route):
        opened.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<title>WhatsApp</title><p>chat</p>")

    page.context.route("https://wa.me/**", whatsapp)
    login(staff.email)
    page.goto("/")
    row = _waiting_row(page, "Rina Kusuma")
    expect(row).to_be_visible()

    row.get_by_text("Reply on WhatsApp").click()
    box = row.get_by_role("textbox", name="Reply to Rina Kusuma on WhatsApp")
    box.click()
    page.keyboard.type("/rek")
    option = row.get_by_role("option").first
    expect(option).to_contain_text("/rek")
    expect(option).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    filled = ("Untuk pembayaran bisa transfer ke rekening berikut ya Rina:\n" + BANK +
              "\n\nSetelah transfer, mohon kirim bukti transfernya di sini. Terima kasih 🙏")
    expect(box).to_have_value(filled)
    page.screenshot(path=str(SCREENSHOTS / "reply-via-link-filled.png"), full_page=True)

    with page.context.expect_page() as popup:
        row.get_by_role("button", name="Open WhatsApp").click()
    chat_page = popup.value
    chat_page.wait_for_load_state()
    url = urlsplit(chat_page.url)
    assert (url.scheme, url.netloc, url.path) == ("https", "wa.me", "/6281234567890")
    assert parse_qs(url.query)["text"] == [filled]
    assert opened and opened[0].startswith("https://wa.me/62")
    chat_page.close()

    # Back on Today: the reply is logged, Rina no longer waits, and the reply can be taken back for a while.
    expect(page.get_by_text("Reply to Rina Kusuma logged as sent on WhatsApp.")).to_be_visible()
    expect(_waiting_row(page, "Rina Kusuma")).to_have_count(0)
    undo_bar = page.locator(".undo-bar")
    expect(undo_bar).to_contain_text("Sent to Rina Kusuma on WhatsApp")

    page.goto(f"/customers/{rina.id}")
    page.get_by_role("link", name="Rina Kusuma").first.is_visible()
    conversation_id = db.session.execute(db.select(Message.conversation_id)).scalars().first()
    page.goto(f"/conversations/{conversation_id}")
    sent = page.locator(".message-staff", has_text="Untuk pembayaran bisa transfer")
    expect(sent).to_contain_text("sent via link")
    expect(sent).to_contain_text("Budi Staff")
    page.screenshot(path=str(SCREENSHOTS / "reply-via-link-thread.png"), full_page=True)

    sent.get_by_role("button", name="Undo: it was not sent").click()
    expect(page.get_by_text("Taken back: the reply to Rina Kusuma is no longer logged.")).to_be_visible()
    expect(page.locator(".message-staff", has_text="Untuk pembayaran bisa transfer")).to_have_count(0)
    expect(page.locator(".undo-bar")).to_have_count(0)
    page.goto("/")
    expect(_waiting_row(page, "Rina Kusuma")).to_be_visible()


def test_the_picker_is_keyboard_only_and_leaves_blanks_selected(page, login, owner, staff, make_customer, chat):
    rina = _shop(owner, make_customer, chat)
    login(staff.email)
    conversation_id = db.session.execute(db.select(Message.conversation_id)).scalars().first()
    page.goto(f"/conversations/{conversation_id}")
    box = page.locator("#latest [data-message-rows] textarea").first
    box.click()
    picker = page.locator(".reply-picker")
    page.keyboard.type("Siap kak /ong")
    expect(picker.get_by_role("option").first).to_contain_text("/ongkir")
    page.keyboard.press("Escape")
    expect(picker).to_have_count(0)
    page.keyboard.press("Backspace")
    expect(picker.get_by_role("option").first).to_contain_text("/ongkir")
    page.keyboard.press("Enter")
    assert box.input_value().startswith("Siap kak Ongkir ke {?kota} {?ongkir} ya Rina")
    # The first blank is selected: typing replaces it; Tab goes to the next one.
    page.keyboard.type("Bandung")
    page.keyboard.press("Tab")
    page.keyboard.type("15rb")
    assert box.input_value().startswith("Siap kak Ongkir ke Bandung 15rb ya Rina, sampai sekitar {?berapa hari}")
    page.keyboard.press("Tab")
    page.keyboard.type("2")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".message-staff", has_text="Ongkir ke Bandung 15rb ya Rina, sampai sekitar 2 hari")
           ).to_be_visible()
    page.goto("/replies")
    expect(page.locator("#shop-replies tr", has_text="/ongkir")).to_contain_text("1 time")
    assert rina.id


def test_copy_and_open_instagram_on_a_phone(browser, live_server, owner, staff, make_customer, chat):
    dewi = make_customer("Dewi", instagram="dewi.hijab")
    chat(dewi, [("customer", "Kak katalognya ada?")], channel="instagram")
    context = browser.new_context(base_url=live_server, viewport={"width": 360, "height": 740}, locale="en-US",
                                  is_mobile=True, has_touch=True)
    context.route("https://ig.me/**", lambda route: route.fulfill(status=200, content_type="text/html", body="ig"))
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto("/login")
        page.get_by_label("E-mail").fill(staff.email)
        page.get_by_label("Password").fill("correct horse battery")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: "/login" not in url)
        page.goto(f"/customers/{dewi.id}")
        page.get_by_text("Reply on Instagram").click()
        box = page.get_by_role("textbox", name="Reply to Dewi on Instagram")
        box.fill("Halo kak, ini katalognya.")
        # "/" is behind the phone keyboard's symbols: the button types it, a tap picks the reply.
        page.get_by_role("button", name="/ Quick replies").tap()
        page.keyboard.type("form")
        page.locator(".reply-picker [role=option]", has_text="/format").tap()
        expect(box).to_have_value("Halo kak, ini katalognya. Untuk order, mohon isi format berikut ya Dewi:\n"
                                  "Nama:\nAlamat lengkap:\nNo HP:\nPesanan (produk, ukuran, warna, jumlah):\n"
                                  "Pembayaran (transfer/COD):")
        width = page.evaluate("() => document.scrollingElement.scrollWidth")
        assert width <= 360, width
        page.screenshot(path=str(SCREENSHOTS / "reply-via-link-instagram-phone.png"), full_page=True)
        with context.expect_page() as popup:
            page.get_by_role("button", name="Copy and open Instagram").click()
        assert popup.value.url == "https://ig.me/m/dewi.hijab"
        expect(page.get_by_text("Reply to Dewi logged as sent on Instagram.")).to_be_visible()
        body = db.session.execute(db.select(Message.body).where(Message.side == "staff")).scalar_one()
        assert body.startswith("Halo kak, ini katalognya. Untuk order, mohon isi format berikut ya Dewi:\nNama:")
        uses = db.session.execute(db.select(QuickReplyUse.quick_reply_id)).scalars().all()
        assert len(uses) == 1
        assert not errors, errors
    finally:
        context.close()
