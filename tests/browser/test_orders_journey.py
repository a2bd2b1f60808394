"""An order from the chat to a review request: staff paste a WhatsApp chat holding a format order, the shop's
total, "sudah transfer kak" with a photo and "resi JNE ..."; they accept each suggestion; the order is paid and
shipped with JNE; marked delivered, and three days later Today says to ask for a review."""
import os
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from crm.extensions import db
from crm.models import Customer, Order

SCREENSHOTS = Path(os.environ.get("OBROLAN_SCREENSHOTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
CHAT = """16/06/26 09.00 - Rina: kak mau order ya
16/06/26 09.01 - Rina: Nama: Rina Wati
Alamat: Jl. Melati No. 5, RT 02/RW 03
Kota: Jakarta Selatan
No HP/WA: 0812-3456-7890
Pesanan: Gamis parang
Jumlah: 2
Ukuran: L
Warna: Sogan
Ekspedisi: JNE
Pembayaran: Transfer BCA
16/06/26 09.05 - Toko Sari: Siap kak, total 370rb + ongkir 15rb = 385rb ya. Transfer ke BCA 1234567890 a/n Toko Sari
16/06/26 09.30 - Rina: IMG-20260616-WA0003.jpg (file attached)
16/06/26 09.31 - Rina: sudah transfer kak
16/06/26 09.32 - Toko Sari: Terima kasih kak, kami proses ya 🙏
16/06/26 15.10 - Toko Sari: Sudah dikirim ya kak, resi JNE 010880123456
"""


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 360, "height": 740}],
                         ids=["desktop", "phone"])
def test_an_order_from_a_pasted_chat_to_a_review_request(page, login, staff, clock, viewport):
    page.set_viewport_size(viewport)
    login(staff.email)
    page.goto("/conversations/log")
    page.get_by_label("New customer's name").fill("Rina")
    page.get_by_label("Paste copied messages or a chat export").fill(CHAT)
    preview = page.locator("#paste-preview")
    expect(preview).to_contain_text("Orders in this chat:")
    preview.get_by_label("Who is Toko Sari").select_option("staff")
    expect(preview.locator('[data-suggestion="new_order"]')).to_contain_text("2× Gamis parang")
    expect(preview.locator('[data-suggestion="paid"]')).to_contain_text("with a photo")
    expect(preview.locator('[data-suggestion="shipped"]')).to_contain_text("JNE 010880123456")
    width = viewport["width"]
    page.screenshot(path=str(SCREENSHOTS / f"orders-{width}-paste.png"), full_page=True)
    page.get_by_role("button", name="Save chat").click()

    suggestions = page.locator("#order-suggestions")
    expect(suggestions).to_contain_text("A format order: create the order?")
    expect(suggestions.locator("mark", has_text="Pembayaran")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / f"orders-{width}-thread.png"), full_page=True)
    suggestions.get_by_role("link", name="Create the order").click()
    expect(page.get_by_role("heading", name="New order for Rina")).to_be_visible()
    expect(page.locator("#items-0-name")).to_have_value("Gamis parang")
    expect(page.locator("#items-0-quantity")).to_have_value("2")
    expect(page.get_by_label("Total (Rp), empty: items + shipping − discount")).to_have_value("385,000")
    expect(page.get_by_label("Courier")).to_have_value("jne")
    page.screenshot(path=str(SCREENSHOTS / f"orders-{width}-form.png"), full_page=True)
    page.get_by_role("button", name="Create the order").click()

    expect(page.get_by_text("created for Rina")).to_be_visible()
    paid = suggestions.locator('[data-suggestion="paid"]')
    expect(paid).to_contain_text("A photo came with it")
    paid.get_by_role("button", name="Yes, mark it paid").click()
    expect(page.get_by_text(": Paid.")).to_be_visible()
    shipped = suggestions.locator('[data-suggestion="shipped"]')
    expect(shipped).to_contain_text("JNE 010880123456")
    shipped.get_by_role("button", name="Yes, mark it shipped").click()
    expect(page.get_by_text(": Shipped.")).to_be_visible()
    expect(page.locator("#order-suggestions")).to_have_count(0)
    card = page.locator("#orders .order-card")
    expect(card).to_contain_text("Shipped")
    expect(card).to_contain_text("JNE 010880123456")

    order = db.session.execute(db.select(Order)).scalar_one()
    assert (order.status, order.courier, order.tracking_number, order.total) == ("shipped", "jne", "010880123456",
                                                                                 385_000)
    assert order.step("paid") and order.step("paid").message_id
    customer = db.session.get(Customer, order.customer_id)
    assert customer.display_name == "Rina Wati" and customer.address.startswith("Jl. Melati No. 5")

    page.goto(f"/orders/{order.id}")
    page.get_by_label("New status").select_option("delivered")
    page.get_by_role("button", name="Save the status").click()
    expect(page.get_by_text(": Delivered.")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / f"orders-{width}-order.png"), full_page=True)
    page.goto("/")
    expect(page.get_by_text("Ask for a review")).to_have_count(0)

    clock.shift(timedelta(days=3, minutes=1))
    page.goto("/")
    section = page.locator("#orders-review")
    expect(section).to_contain_text("Ask for a review")
    expect(section).to_contain_text("Rina Wati")
    expect(section).to_contain_text("Delivered 3 days ago")
    page.screenshot(path=str(SCREENSHOTS / f"orders-{width}-today.png"), full_page=True)
    section.get_by_role("button", name="Asked").click()
    expect(page.locator("#orders-review")).to_have_count(0)
