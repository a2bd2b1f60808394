"""In the browser: a number edited where it is, money typed as shops type it, Log chat's channel following the
customer, a future time refused, a paste spanning days shown whole. Screenshots at phone and desktop widths."""
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

from playwright.sync_api import expect

from crm.extensions import db
from crm.formatting import shop_zone
from crm.models import ChannelIdentity, Order

SCREENSHOTS = Path(os.environ.get("OBROLAN_SCREENSHOTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
WIDTHS = {"phone": 360, "desktop": 1280}


def _shots(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_pak_hendras_number_is_changed_in_place(page, login, staff, make_customer):
    hendra = make_customer("Pak Hendra", whatsapp="+62 857-1122-3344")
    sari = make_customer("Sari", whatsapp="0812-3456-7890")
    login(staff.email)
    page.goto(f"/customers/{hendra.id}")
    page.get_by_role("link", name="Edit").click()
    rows = page.locator(".identity-row[data-saved]")
    expect(rows).to_have_count(1)
    expect(page.locator(".identity-row:not([data-saved])")).to_have_count(9)
    _shots(page, "customer-edit")

    rows.first.locator("input[type=text]").fill("0812 3456 7890")
    page.get_by_role("button", name="Save").click()
    error = page.locator(".identity-row .error")
    expect(error).to_contain_text("+62 812-3456-7890 belongs to Sari already.")
    expect(error.get_by_role("link", name="Sari")).to_have_attribute("href", f"/customers/{sari.id}")
    expect(rows.first.locator("input[type=text]")).to_have_value("0812 3456 7890")

    rows.first.locator("input[type=text]").fill("0857 1122 3345")
    page.get_by_label("Instagram", exact=True).fill("@hendra.batik")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Pak Hendra")).to_be_visible()
    profile = page.locator(".profile .identities")
    expect(profile).to_contain_text("+62 857-1122-3345")
    expect(profile).not_to_contain_text("3344")
    expect(profile).to_contain_text("@hendra.batik")
    assert db.session.execute(db.select(db.func.count(ChannelIdentity.id))
                              .where(ChannelIdentity.customer_id == hendra.id)).scalar() == 2


def test_money_typed_as_shops_type_it_on_the_pipeline_and_costs(page, login, owner, make_customer):
    rina = make_customer("Rina", whatsapp="081234567890")
    login(owner.email)
    page.goto(f"/customers/{rina.id}")
    pipeline = page.locator("form.pipeline-form")
    pipeline.get_by_label("Pipeline stage").select_option("won")
    pipeline.get_by_label("Expected value (Rp)").fill("1,5 jt")
    pipeline.get_by_label("Sale amount (Rp)").fill("185rb")
    pipeline.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Sale recorded: Rina is won.")).to_be_visible()
    expect(page.locator("#orders .order-card")).to_contain_text("Rp 185,000")  # a sale is a paid order
    expect(page.locator(".profile")).to_contain_text("Rp 1,500,000")
    assert db.session.execute(db.select(Order.total)).scalar_one() == 185_000

    page.goto("/reports/costs")
    row = page.locator("tr[data-channel=whatsapp]")
    row.locator("input[type=text]").nth(0).fill("Rp 1.250.000")
    row.locator("input[type=text]").nth(2).fill("12,5")
    row.locator("input[type=text]").nth(3).fill("20rb")
    row.locator("input[type=text]").nth(1).fill("1.5")  # not an amount: one clear error, no browser bubble
    page.get_by_role("button", name="Save").click()
    expect(row.locator(".error")).to_have_text(["Type an amount in rupiah, like 1.250.000, 185rb or 1,5 jt."])
    expect(row.locator("input[type=text]").nth(0)).to_have_value("Rp 1.250.000")
    _shots(page, "costs-refused")
    row.locator("input[type=text]").nth(1).fill("")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("saved.")).to_be_visible()
    expect(page.locator("tr[data-channel=whatsapp]")).to_contain_text("Rp 1,500,000")


def test_log_chat_follows_the_customers_channel(page, login, staff, make_customer):
    dewi = make_customer("Dewi Lestari", instagram="@dewi.hijab")
    login(staff.email)
    page.get_by_role("link", name="Log chat").first.click()
    channel = page.get_by_label("Channel", exact=True)
    expect(channel).to_have_value("whatsapp")
    page.get_by_label("Find by name, phone number or @handle").fill("Dewi")
    page.locator(f"[data-pick-customer='{dewi.id}']").click()
    expect(channel).to_have_value("instagram")

    page.goto(f"/customers/{dewi.id}")
    page.locator("main").get_by_role("link", name="Log chat").click()
    expect(page.get_by_label("Channel", exact=True)).to_have_value("instagram")


def test_a_time_a_week_ahead_is_refused_and_kept(page, login, staff, make_customer):
    rina = make_customer("Rina")
    login(staff.email)
    page.goto(f"/conversations/log?customer_id={rina.id}")
    row = page.locator(".message-row").first
    row.locator("textarea").fill("Kak, jadi order 2 ya")
    ahead = (datetime.now(timezone.utc) + timedelta(days=7)).astimezone(shop_zone()).strftime("%Y-%m-%dT%H:%M")
    row.locator("input[type=datetime-local]").fill(ahead)
    page.get_by_role("button", name="Save chat").click()
    expect(row.locator(".error")).to_contain_text("This time is in the future")
    expect(page.locator(".message-row").first.locator("textarea")).to_have_value("Kak, jadi order 2 ya")
    expect(page.locator(".message-row").first.locator("input[type=datetime-local]")).to_have_value(ahead)
    _shots(page, "log-chat-future-time")


def test_a_paste_over_two_days_links_both_parts(page, login, staff):
    lines = [f"[09.0{n}, 09/05/2026] {'Rina' if n % 2 == 0 else 'Toko Sari'}: pesan pertama {n}" for n in range(2)]
    lines += [f"[10.0{n}, 12/05/2026] {'Rina' if n % 2 == 0 else 'Toko Sari'}: pesan kedua {n}" for n in range(10)]
    login(staff.email)
    page.get_by_role("link", name="Log chat").first.click()
    page.get_by_label("Paste copied messages or a chat export").fill("\n".join(lines) + "\n")
    preview = page.locator("#paste-preview")
    preview.get_by_label("Who is Toko Sari").select_option("staff")
    expect(preview).to_contain_text("12 messages")
    page.get_by_role("button", name="Save chat").click()
    expect(page.get_by_text("12 messages logged for Rina.")).to_be_visible()
    box = page.locator(".split-paste")
    expect(box).to_contain_text("The paste was saved as 2 conversations")
    expect(box.locator("li")).to_have_count(2)
    expect(page.locator(".thread .message")).to_have_count(10)
    _shots(page, "paste-split")
    box.get_by_role("link").click()
    expect(page.locator(".thread .message")).to_have_count(2)
