"""Staff import an export on the Import page: a refused form shows why, the page asks who is the shop, a long
import shows its progress until its summary."""
from pathlib import Path

from playwright.sync_api import expect

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHAT = "23/05/26 10.15 - Rina: halo kak, gamis ready?\n23/05/26 10.16 - Sari: ready kak, 185rb\n"


def _shoot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_import_asks_who_is_the_shop_and_says_what_it_did(page, login, staff, tmp_path):
    login(staff.email)
    page.get_by_role("link", name="Import").first.click()
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#import-panel")).to_contain_text("Choose a file.")

    chat = tmp_path / "chat.txt"
    chat.write_text(CHAT, encoding="utf-8")
    page.get_by_label("Exported chat: .txt, .zip or .json").set_input_files(str(chat))
    page.get_by_role("button", name="Import", exact=True).click()
    job = page.locator("#import-job")
    expect(job).to_contain_text("Who is the shop in this chat?")
    expect(job).to_contain_text("Nothing imported")
    expect(job).not_to_contain_text("--me")
    _shoot(page, "import-choose-the-shop")
    job.get_by_label("Who is Sari").select_option("staff")
    job.get_by_role("button", name="Import with this choice").click()
    expect(job).to_contain_text("Imported 2 messages")
    expect(job).to_contain_text("1 new customer")
    _shoot(page, "import-summary")
    job.get_by_role("link", name="Open the last conversation").click()
    expect(page.locator(".thread .message")).to_have_count(2)


def test_a_long_import_shows_progress_then_its_summary(app, page, login, staff, tmp_path):
    app.config["IMPORT_WAIT_SECONDS"] = 0
    rows = [f"{10 + i // 1500 % 19}/0{1 + i // 28_500}/26 {8 + i % 1500 // 150:02d}.{i % 150 // 3:02d} - "
            f"{'Rina' if i % 2 else 'Sari'}: pesan {i}" for i in range(30_000)]
    chat = tmp_path / "WhatsApp Chat - Rina.txt"
    chat.write_text("\n".join(rows) + "\n", encoding="utf-8")
    login(staff.email)
    page.goto("/conversations/import")
    page.get_by_label("Exported chat: .txt, .zip or .json").set_input_files(str(chat))
    page.get_by_role("button", name="Import", exact=True).click()
    job = page.locator("#import-job")
    expect(job).to_contain_text("You can leave this page")
    _shoot(page, "import-progress")
    # The file's name says who the customer is: Sari is the shop.
    expect(job).to_contain_text("Imported 30000 messages", timeout=120_000)
    page.goto("/conversations/import")
    expect(page.locator(".recent-imports")).to_contain_text("Imported 30000 messages")
