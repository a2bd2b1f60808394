"""Every page of the app on a phone (360 x 740) and a desktop (1280 x 900), on the generated demo shop: no page
scrolls sideways, and Today shows its first work item on the first screen of a phone.

The pages come from app.url_map, so a new page is checked as soon as it exists; a route whose URL needs a value
this test cannot fill fails here until PARAMETERS learns it. Screenshots go to test-artifacts/pages/.
"""
import os
from pathlib import Path

import pytest

from crm import PUBLIC_ENDPOINTS
from crm.admin import audit
from crm.admin.backups import backup_folder, keep_count, make_backup
from crm.admin.trash import move_to_trash
from crm.conversations import import_jobs
from crm.demo import DEMO_OWNER_EMAIL, generate_shop
from crm.extensions import db
from crm.models import Conversation, Customer, FollowUp, ImportJob, Message, OrderStep, QuickReply, Tag, User
from crm.orders.reminders import SECTIONS as REMINDER_SECTIONS

SCREENSHOTS = Path(os.environ.get("OBROLAN_SCREENSHOTS",
                                  Path(__file__).resolve().parents[2] / "test-artifacts")) / "pages"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
DEMO_PASSWORD = "demo-password-for-tests"
# Not pages: downloads, fragments that htmx puts into a page, and pages a logged-in user is sent away from.
NOT_PAGES = {"admin.download_backup", "admin.export_customers", "admin.export_conversations", "reports.download",
             "admin.export_quick_replies", "replies.pick", "customers.lookup", "search.suggest", "auth.login",
             "auth.setup"}
# Pages that need a query string to be a page at all.
QUERY = {"today.add": ("customer_id",), "customers.merge": (), "orders.new": ("customer_id",)}
SCROLL_WIDTH = """() => [document.scrollingElement.scrollWidth,
                        Math.min(window.innerWidth, document.documentElement.clientWidth)]"""


@pytest.fixture
def demo_shop(app):
    """The generated shop of `flask demo-data`, small: 150 customers, about 3,000 messages, on the test's clock."""
    db.session.remove()
    db.engine.dispose()
    generate_shop(customers=150, messages=3_000, password=DEMO_PASSWORD)
    # The owner's pages with rows in them: a backup, and audit events with long details.
    make_backup(db.engine, backup_folder(app), keep_count(app))
    owner = db.session.execute(db.select(User).where(User.email == DEMO_OWNER_EMAIL)).scalar_one()
    customer = db.session.execute(db.select(Customer).order_by(Customer.id).limit(1)).scalar_one()
    audit.record("edit", customer, customer.display_name,
                 {"notes": {"before": "", "after": "alamat: Jl. Melati no 12, Kecamatan Sukajadi, Kota Bandung 40162"}},
                 user=owner)
    move_to_trash(db.session.execute(db.select(Message).order_by(Message.id.desc()).limit(1)).scalar_one())
    db.session.commit()
    # An import's page: a sample export imported as the command line does it.
    sample = Path(__file__).resolve().parents[1] / "fixtures" / "samples" / "whatsapp-android-id.txt"
    job = import_jobs.create_job(source_name=sample.name, path=str(sample), options={"me": ["Toko Batik Sari"]},
                                 user=owner, runner="cli")
    db.session.commit()
    import_jobs.run_job(job.id)
    return app


def _one(statement):
    return db.session.execute(statement.limit(1)).scalar_one()


def _parameters() -> dict[str, list[str]]:
    """Real values for each URL parameter: the busiest customer, the longest thread, an open follow-up..."""
    busiest = _one(db.select(Conversation.customer_id).join(Message).where(Conversation.deleted_at.is_(None))
                   .group_by(Conversation.customer_id).order_by(db.func.count().desc()))
    longest = _one(db.select(Message.conversation_id).join(Conversation).where(Conversation.deleted_at.is_(None))
                   .group_by(Message.conversation_id).order_by(db.func.count().desc()))
    follow_up = _one(db.select(FollowUp.id).where(FollowUp.done_at.is_(None)).order_by(FollowUp.due_at))
    staff = _one(db.select(User.id).where(User.role == "staff").order_by(User.id))
    tag = _one(db.select(Tag.id).order_by(Tag.id))
    # The order with the most items and steps: the widest order page.
    order = _one(db.select(OrderStep.order_id).group_by(OrderStep.order_id).order_by(db.func.count().desc()))
    job = _one(db.select(ImportJob.id).order_by(ImportJob.id))
    # The longest quick reply: the edit page at its widest.
    reply = _one(db.select(QuickReply.id).where(QuickReply.deleted_at.is_(None))
                 .order_by(db.func.length(QuickReply.body).desc()))
    assert _one(db.select(Customer.id).where(Customer.id == busiest))
    return {
        "customer_id": [str(busiest)], "conversation_id": [str(longest)], "follow_up_id": [str(follow_up)],
        "user_id": [str(staff)], "tag_id": [str(tag)], "job_id": [str(job)],
        "section": ["overdue", "today", "waiting", "hot"], "reply_id": [str(reply)],
        "order_id": [str(order)], "reminder": list(REMINDER_SECTIONS),
    }


def _pages(app) -> list[tuple[str, str]]:
    values = _parameters()
    pages = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint in PUBLIC_ENDPOINTS | NOT_PAGES:
            continue
        missing = [name for name in rule.arguments if name not in values]
        assert not missing, f"{rule.rule}: teach PARAMETERS a real value for {missing}"
        for value_set in _expand(rule.arguments, values):
            with app.test_request_context():
                from flask import url_for

                query = {name: values[name][0] for name in QUERY.get(rule.endpoint, ())}
                pages.append((rule.endpoint, url_for(rule.endpoint, **value_set, **query)))
    return pages


def _expand(arguments, values):
    combos = [{}]
    for name in sorted(arguments):
        combos = [dict(combo, **{name: value}) for combo in combos for value in values[name]]
    return combos


def _log_in(page):
    page.goto("/login")
    page.get_by_label("E-mail").fill(DEMO_OWNER_EMAIL)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def _file_name(endpoint: str, url: str, width: int) -> str:
    slug = url.strip("/").replace("/", "_").replace("?", "_") or "today"
    return f"{width}-{slug}.png"


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_no_page_scrolls_sideways(demo_shop, browser, live_server, viewport):
    pages = _pages(demo_shop)
    assert len(pages) >= 20
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(base_url=live_server, viewport=viewport, locale="en-US",
                                  is_mobile=viewport == PHONE, has_touch=viewport == PHONE)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto("/login")
        wide = []
        width, inner = page.evaluate(SCROLL_WIDTH)
        if max(width, inner) > viewport["width"]:
            wide.append(("/login", width))
        page.screenshot(path=str(SCREENSHOTS / _file_name("auth.login", "login", viewport["width"])),
                        full_page=True)
        _log_in(page)
        for endpoint, url in pages:
            response = page.goto(url)
            assert response.status == 200, (url, response.status)
            width, inner = page.evaluate(SCROLL_WIDTH)
            # On a phone Chromium zooms a too-wide page out, which widens window.innerWidth with it.
            if max(width, inner) > viewport["width"]:
                wide.append((url, width))
            page.screenshot(path=str(SCREENSHOTS / _file_name(endpoint, url, viewport["width"])), full_page=True)
        assert not wide, f"pages wider than {viewport['width']} px: {wide}"
        assert not errors, errors
    finally:
        context.close()


def test_todays_first_work_item_is_on_the_first_phone_screen(demo_shop, browser, live_server):
    context = browser.new_context(base_url=live_server, viewport=PHONE, locale="en-US", is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    try:
        _log_in(page)
        page.goto("/")
        first = page.locator("[data-work-item]").first
        top = first.evaluate("(item) => item.getBoundingClientRect().top + window.scrollY")
        assert top < PHONE["height"], f"the first work item starts at {top} px"

        # The sections are behind the menu button, which opens and closes the menu with a thumb.
        menu = page.get_by_role("link", name="Menu")
        customers = page.get_by_role("navigation").get_by_role("link", name="Customers")
        assert not customers.is_visible()
        menu.click()
        assert customers.is_visible() and menu.get_attribute("aria-expanded") == "true"
        page.screenshot(path=str(SCREENSHOTS / "360-menu-open.png"))
        box = customers.bounding_box()
        assert box["height"] >= 44, box
        menu.click()
        assert not customers.is_visible()
        for action in first.get_by_role("button").all() + first.get_by_role("link").all():
            if action.is_visible() and action.get_attribute("class") and "button" in action.get_attribute("class"):
                assert action.bounding_box()["height"] >= 44, action.inner_text()
    finally:
        context.close()
