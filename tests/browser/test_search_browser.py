"""Search in a real browser: suggestions appear as you type in the top bar, the results page follows the
filters as they change, and a chat line holding <script> stays text."""
import re
from datetime import datetime, timezone

from playwright.sync_api import expect


def test_top_bar_suggests_as_you_type_and_the_results_page_follows_filters(page, login, owner, make_customer, chat):
    sari = make_customer("Sari Batik", whatsapp="0812-3456-7890", instagram="@sari.batik")
    chat(sari, [("customer", "Kak, gamis hitam ready? <script>alert(1)</script>"), ("staff", "Ready kak, 185rb")],
         start=datetime(2026, 10, 1, 3, tzinfo=timezone.utc))
    chat(make_customer("Budi"), [("customer", "gamis navy ukuran XL ada?")], channel="instagram")
    login(owner.email)

    box = page.locator(".topsearch input[type=search]")
    box.press_sequentially("gami", delay=40)
    suggestions = page.locator("#topsearch-suggest")
    expect(suggestions.locator("mark").first).to_have_text(re.compile("gamis", re.I))
    expect(suggestions).to_contain_text("Sari Batik")
    box.press("Escape")
    expect(suggestions.locator(".suggest-panel")).to_have_count(0)

    box.fill("0812 3456")
    expect(suggestions).to_contain_text("Sari Batik")
    box.press("Enter")  # the box is a plain GET form: the results page
    page.wait_for_url(re.compile(r"/search\?q=0812"))
    expect(page.locator(".search-customers")).to_contain_text("Sari Batik")

    query = page.locator("main input[name=q]")
    query.fill("gamis")
    results = page.locator("#search-results")
    expect(results.locator(".search-thread")).to_have_count(2)
    expect(results).to_contain_text("<script>alert(1)</script>")  # shown as text, never run
    page.locator("summary", has_text="Filters").click()
    page.locator("#channel").select_option("instagram")
    expect(results.locator(".search-thread")).to_have_count(1)
    expect(results).to_contain_text("Budi")
    expect(page).to_have_url(re.compile(r"channel=instagram"))
