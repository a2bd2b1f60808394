"""The channel report in a real browser: the owner enters a month's costs, the charts draw (under the strict CSP),
a table downloads as CSV; staff see the same report without the cost entry; the top-bar buttons switch the report
between Indonesian and English."""
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

from playwright.sync_api import expect

from crm.extensions import db
from crm.formatting import shop_zone
from crm.today.services import record_sale

SCREENSHOTS = Path(os.environ.get("OBROLAN_SCREENSHOTS", Path(__file__).resolve().parents[2] / "test-artifacts"))

# Ten customers over the last eight weeks, on three channels; six of them bought.
SHOP = [
    ("Rina", "whatsapp", "081211112001", 1, 370_000),
    ("Dewi", "instagram", "dewi.hijab", 3, 185_000),
    ("Sari", "whatsapp", "081211112003", 9, 450_000),
    ("Tono", "tiktok", "tono.jkt", 12, None),
    ("Wulan", "instagram", "wulan.store", 17, 240_000),
    ("Agus", "whatsapp", "081211112006", 23, None),
    ("Maya", "whatsapp", "081211112007", 30, 610_000),
    ("Putri", "tiktok", "putri.olshop", 38, 95_000),
    ("Bayu", "instagram", "bayu.id", 45, None),
    ("Lia", "whatsapp", "081211112010", 52, None),
]

CHARTS_DRAWN = """() => ['chart-weekly', 'chart-revenue'].map((id) => {
  const canvas = document.getElementById(id);
  const chart = window.Chart && Chart.getChart(canvas);
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted++;
  return {type: chart ? chart.config.type : null, datasets: chart ? chart.data.datasets.length : 0,
          points: chart ? chart.data.labels.length : 0, painted, width: canvas.width};
})"""


def _a_shop(make_customer, chat, staff):
    now = datetime.now(timezone.utc)
    for name, channel, handle, days_ago, amount in SHOP:
        customer = make_customer(name, **{channel: handle})
        start = now - timedelta(days=days_ago, hours=2)
        chat(customer, [("customer", "Kak, harga gamis ini berapa?"), ("customer", "ukuran L ada?"),
                        ("staff", "Ada kak, 185rb"), ("customer", "ongkir ke Bandung?")],
             channel=channel, start=start, logged_by=staff, step=timedelta(minutes=25))
        if amount:
            sold_on = (start + timedelta(hours=1)).astimezone(shop_zone()).date()
            record_sale(customer, amount=amount, sold_on=sold_on, channel=channel, created_by_id=staff.id)
    db.session.commit()


def _watch_csp(page):
    violations = []
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    return violations


def test_owner_enters_costs_and_reads_the_report_with_its_charts(page, login, owner, staff, make_customer, chat):
    _a_shop(make_customer, chat, staff)
    violations = _watch_csp(page)
    login(owner.email)

    page.get_by_role("link", name="Report").click()
    page.get_by_role("link", name="Costs per channel", exact=True).click()
    whatsapp = page.locator("tr[data-channel=whatsapp]")
    whatsapp.get_by_label("Ads (Rp) · WhatsApp").fill("500000")
    whatsapp.get_by_label("Staff hours · WhatsApp").fill("12.5")
    whatsapp.get_by_label("Cost per staff hour (Rp) · WhatsApp").fill("20000")
    page.locator("tr[data-channel=instagram]").get_by_label("Boosts (Rp) · Instagram").fill("300000")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("saved.")).to_be_visible()
    expect(whatsapp.get_by_label("Ads (Rp) · WhatsApp")).to_have_value("500,000")  # grouped as the reader writes it
    expect(whatsapp).to_contain_text("Rp 750,000")  # 500,000 + 12.5 h × 20,000
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "report-costs.png"), full_page=True)

    page.get_by_role("link", name="Back to the report").click()
    page.get_by_label("Period").select_option("last_90")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="Cost and return")).to_be_visible()
    channels = page.locator("table[data-report-table=channels]")
    expect(channels.locator("tbody tr")).to_have_count(3)
    expect(channels.locator("tfoot tr")).to_contain_text("All channels")
    expect(channels.locator("tr[data-key=whatsapp]")).to_contain_text("Rp 1,430,000")
    expect(page.locator("table[data-report-table=costs] tr[data-key=whatsapp]")).to_be_visible()

    page.wait_for_function("() => window.Chart && Chart.getChart('chart-weekly') && Chart.getChart('chart-revenue')")
    weekly, revenue = page.evaluate(CHARTS_DRAWN)
    assert weekly["type"] == "line" and weekly["datasets"] == 3 and weekly["points"] >= 13, weekly
    assert revenue["type"] == "bar" and revenue["datasets"] == 1 and revenue["points"] == 3, revenue
    assert weekly["painted"] > 2000 and revenue["painted"] > 2000, (weekly, revenue)

    with page.expect_download() as download_info:
        page.locator(".report-section").first.get_by_role("link", name="Download as CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("obrolan-channels-")
    content = Path(download.path()).read_text(encoding="utf-8")
    assert content.startswith("\ufeffname,new_customers,conversations")
    assert "WhatsApp,5,5," in content

    page.screenshot(path=str(SCREENSHOTS / "report.png"), full_page=True)
    assert not violations, violations


def test_staff_see_the_charts_but_not_the_cost_entry(page, login, staff, make_customer, chat):
    _a_shop(make_customer, chat, staff)
    violations = _watch_csp(page)
    login(staff.email)
    page.get_by_role("link", name="Report").click()
    expect(page.get_by_role("heading", name="Channel report")).to_be_visible()
    expect(page.get_by_role("link", name="Costs per channel", exact=True)).to_have_count(0)
    # The default period is this month, which on the 1st holds minutes: the shop's eight weeks need a longer one.
    page.get_by_label("Period").select_option("last_90")
    page.get_by_role("button", name="Show").click()
    page.wait_for_function("() => window.Chart && Chart.getChart('chart-weekly') && Chart.getChart('chart-revenue')")
    weekly, revenue = page.evaluate(CHARTS_DRAWN)
    assert weekly["painted"] > 2000 and revenue["painted"] > 2000, (weekly, revenue)
    response = page.goto("/reports/costs")
    assert response.status == 403
    assert not violations, violations


def test_the_report_switches_to_indonesian_and_back_with_the_top_bar_buttons(page, login, owner, staff, make_customer,
                                                                             chat):
    _a_shop(make_customer, chat, staff)
    violations = _watch_csp(page)
    login(owner.email)  # the browser asks for English (en-US)
    page.get_by_role("link", name="Report").click()
    page.get_by_label("Period").select_option("last_90")
    page.get_by_role("button", name="Show").click()
    charts_drawn = "() => window.Chart && Chart.getChart('chart-weekly') && Chart.getChart('chart-revenue')"
    page.wait_for_function(charts_drawn)
    SCREENSHOTS.mkdir(exist_ok=True)

    page.get_by_role("button", name="Bahasa Indonesia").click()
    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.get_by_role("heading", name="Laporan kanal")).to_be_visible()
    nav = page.locator("nav.mainnav")
    for word in ("Hari ini", "Pelanggan", "Laporan", "Tempat sampah", "Cadangan"):
        expect(nav.get_by_role("link", name=word, exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Catat chat")).to_be_visible()
    expect(page.get_by_role("button", name="Bahasa Indonesia")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_label("Periode")).to_have_value("last_90")  # the period survived the switch
    channels = page.locator("table[data-report-table=channels]")
    expect(channels.locator("tfoot tr")).to_contain_text("Semua kanal")
    expect(channels.locator("tr[data-key=whatsapp]")).to_contain_text("Rp 1.430.000")
    expect(page.get_by_role("heading", name="Per tag kebutuhan")).to_be_visible()
    page.wait_for_function(charts_drawn)
    weekly, revenue = page.evaluate(CHARTS_DRAWN)
    assert weekly["painted"] > 2000 and revenue["painted"] > 2000, (weekly, revenue)
    page.screenshot(path=str(SCREENSHOTS / "report-id.png"), full_page=True)

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Channel report")).to_be_visible()
    expect(page.locator("nav.mainnav").get_by_role("link", name="Customers", exact=True)).to_be_visible()
    expect(page.get_by_label("Period")).to_have_value("last_90")
    expect(channels.locator("tr[data-key=whatsapp]")).to_contain_text("Rp 1,430,000")
    page.wait_for_function(charts_drawn)
    weekly, revenue = page.evaluate(CHARTS_DRAWN)
    assert weekly["painted"] > 2000 and revenue["painted"] > 2000, (weekly, revenue)
    page.screenshot(path=str(SCREENSHOTS / "report-en.png"), full_page=True)
    assert not violations, violations
