"""Staff paste a copied WhatsApp chat, fix who is who in the preview, save, and read it in the thread."""
import re

from playwright.sync_api import expect

COPIED = """[10.00, 09/05/2026] Dewi Lestari: Permisi kak, tas anyaman rotan yang bulat masih ada?
[10.04, 09/05/2026] Kerajinan Bu Ani: Masih ada kak, tinggal 3 😊
[10.05, 09/05/2026] Dewi Lestari: Harganya berapa? Bisa kirim ke Surabaya?
"""


def test_paste_a_copied_whatsapp_chat(page, login, staff):
    login(staff.email)
    page.get_by_role("link", name="Log chat").click()
    page.get_by_label("Paste copied messages or a chat export").fill(COPIED)
    preview = page.locator("#paste-preview")
    expect(preview).to_contain_text("3 messages")
    expect(preview).to_contain_text("Which name in the chat is the shop?")
    preview.get_by_label("Who is Kerajinan Bu Ani").select_option("staff")
    expect(preview).not_to_contain_text("Which name in the chat is the shop?")
    expect(preview).to_contain_text("new customer")
    expect(preview.locator(".message-staff")).to_have_count(1)
    page.get_by_role("button", name="Save chat").click()

    expect(page.get_by_text("3 messages logged for Dewi Lestari")).to_be_visible()
    page.get_by_role("link", name="Dewi Lestari").first.click()
    expect(page).to_have_url(re.compile(r"/customers/\d+$"))
    thread = page.locator(".thread")
    expect(thread.locator(".message")).to_have_count(3)
    expect(thread.locator(".message-staff .body")).to_have_text("Masih ada kak, tinggal 3 😊")
