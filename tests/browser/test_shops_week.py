"""The shop's week, end to end in the browser: an imported export, the duplicate it made merged away, the same chat
pasted again adding nothing, a number edited in place, a future time refused, a thank-you that needs no reply and a
wait cleared by hand, a win with its sale, and the same figures on Today, the customer page, the customer list and
the report."""
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

from playwright.sync_api import expect

from crm.extensions import db
from crm.formatting import shop_zone
from crm.models import Customer, Message

SCREENSHOTS = Path(os.environ.get("OBROLAN_SCREENSHOTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
SHOP = "Toko Batik Sari"


def _export(now: datetime) -> str:
    """An Android export in Indonesian: an old question on the 20th of last month (a day that tells the date
    order), then this week's chat, ending with the customer's thanks."""
    local = now.astimezone(shop_zone())
    last_month = (local.replace(day=1) - timedelta(days=1)).replace(day=20, hour=14, minute=5)
    this_week = local - timedelta(days=3)
    lines = [(last_month, "Rina M", "kak, batik tulis motif parang masih ada?"),
             (last_month + timedelta(minutes=4), SHOP, "masih ada kak, 1.250.000 ya"),
             (this_week.replace(hour=9, minute=12), "Rina M", "kak aku jadi ambil yang parang ya"),
             (this_week.replace(hour=9, minute=20), SHOP, "siap kak, transfer ke BCA 123 456 7890 a.n. Sari"),
             (this_week.replace(hour=9, minute=31), "Rina M", "makasih kak 🙏")]
    return "".join(f"{moment:%d/%m/%y %H.%M} - {author}: {text}\n" for moment, author, text in lines)


def _count(model) -> int:
    return db.session.execute(db.select(db.func.count(model.id))).scalar()


def _shots(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SCREENSHOTS / f"week-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_the_shops_week(page, login, owner, make_customer, chat, tmp_path):
    now = datetime.now(timezone.utc)
    rina = make_customer("Rina Marlina", whatsapp="0812-3456-7890")
    dewi = make_customer("Dewi Anggraini", instagram="dewi.shop")
    chat(dewi, [("customer", "kak, nanti aku kabari lagi ya ukurannya")], channel="instagram",
         start=now - timedelta(hours=5))
    login(owner.email)

    # Monday: the export from the shop's phone. The file's name says who the customer is.
    export = tmp_path / "WhatsApp Chat with Rina M.txt"
    export.write_text(_export(now), encoding="utf-8")
    page.goto("/conversations/import")
    page.get_by_label("Exported chat: .txt, .zip or .json").set_input_files(str(export))
    page.get_by_role("button", name="Import", exact=True).click()
    job = page.locator("#import-job")
    expect(job).to_contain_text("Imported 5 messages")
    expect(job).to_contain_text("1 new customer")
    duplicate = db.session.execute(db.select(Customer).where(Customer.display_name == "Rina M")).scalar_one()

    # The thanks at the end needs no answer: the wait closed by itself, and Today says why.
    page.goto("/")
    expect(page.locator("#waiting .queue-row", has_text="Rina M")).to_have_count(0)
    expect(page.locator("#waiting")).to_contain_text("1 chat ended with thanks: no reply needed")

    # Rina M is Rina Marlina: merged from Rina Marlina's page.
    page.goto(f"/customers/{rina.id}")
    page.get_by_role("link", name="Merge a duplicate").click()
    page.get_by_label("Find a customer").fill("Rina M")
    page.locator("#merge-candidates").get_by_role("link", name="Rina M").click()
    page.get_by_role("button", name="Merge Rina M into Rina Marlina").click()
    expect(page.get_by_role("heading", name="Rina Marlina")).to_be_visible()
    db.session.refresh(duplicate)
    assert duplicate.merged_into_id == rina.id
    customers_after_merge = _count(Customer)
    messages_after_merge = _count(Message)

    # Tuesday: a colleague pastes the same chat again from her phone: nothing is added, nobody is created.
    page.get_by_role("link", name="Log chat").first.click()
    page.get_by_label("Paste copied messages or a chat export").fill(_export(now))
    preview = page.locator("#paste-preview")
    expect(preview).to_contain_text("Rina Marlina")
    page.get_by_role("button", name="Save chat").click()
    expect(page.get_by_text("These messages were logged before; nothing added.")).to_be_visible()
    assert (_count(Customer), _count(Message)) == (customers_after_merge, messages_after_merge)

    # Wednesday: Rina has a new number; it is changed where it stands.
    page.goto(f"/customers/{rina.id}/edit")
    page.locator(".identity-row[data-saved] input[type=text]").first.fill("0812 3456 7899")
    page.get_by_role("button", name="Save").click()
    identities = page.locator(".profile .identities")
    expect(identities).to_contain_text("+62 812-3456-7899")
    expect(identities).not_to_contain_text("7890")

    # Thursday: her order typed in, first with a time tomorrow by mistake, refused and kept as typed.
    page.goto(f"/conversations/log?customer_id={rina.id}")
    row = page.locator(".message-row").first
    row.locator("textarea").fill("kak, tambah 1 lagi ya yang sogan, total jadi berapa?")
    tomorrow = (now + timedelta(days=1)).astimezone(shop_zone()).strftime("%Y-%m-%dT%H:%M")
    row.locator("input[type=datetime-local]").fill(tomorrow)
    page.get_by_role("button", name="Save chat").click()
    expect(row.locator(".error")).to_contain_text("This time is in the future")
    expect(page.locator(".message-row").first.locator("textarea")).to_have_value(
        "kak, tambah 1 lagi ya yang sogan, total jadi berapa?")
    page.locator(".message-row").first.locator("input[type=datetime-local]").fill("")
    page.get_by_role("button", name="Save chat").click()
    expect(page.get_by_text("1 message logged for Rina Marlina.")).to_be_visible()

    # Today: Rina waits on us; Dewi's "I'll let you know" needs no answer, cleared by hand.
    page.goto("/")
    waiting = page.locator("#waiting")
    expect(waiting.locator(".queue-row")).to_have_count(2)
    expect(page.locator(".strip")).to_contain_text("2 waiting on us")
    waiting.locator(".queue-row", has_text="Dewi Anggraini").get_by_role("button", name="No reply needed").click()
    expect(page.get_by_text("No reply needed for Dewi Anggraini.")).to_be_visible()
    expect(page.locator("#waiting .queue-row")).to_have_count(1)
    expect(page.locator(".strip")).to_contain_text("1 waiting on us")
    _shots(page, "today-waiting")

    # Friday: Rina pays. Won, with the amount as the shop writes it.
    page.goto(f"/customers/{rina.id}")
    pipeline = page.locator("#pipeline")
    pipeline.get_by_label("Pipeline stage").select_option("won")
    pipeline.get_by_label("Sale amount (Rp)").fill("1.250.000")
    pipeline.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Sale recorded: Rina Marlina is won.")).to_be_visible()
    expect(page.locator("#orders .order-card")).to_contain_text("Rp 1,250,000")  # a sale is a paid order
    _shots(page, "customer")

    # The same figures everywhere.
    page.goto("/")
    strip = page.locator(".strip")
    expect(strip).to_contain_text("1 won this month")
    expect(strip).to_contain_text("Rp 1,250,000")
    expect(strip).to_contain_text("1 waiting on us")
    page.goto("/customers/?waiting=1")
    expect(page.locator(".list-total")).to_have_text("1 customer matches")
    expect(page.locator("tbody")).to_contain_text("Rina Marlina")
    page.goto("/reports/")
    whatsapp = page.locator("table[data-report-table=channels] tr[data-key=whatsapp]")
    expect(whatsapp).to_contain_text("Rp 1,250,000")
    expect(page.locator("table[data-report-table=channels] tfoot")).to_contain_text("Rp 1,250,000")
    _shots(page, "report")
