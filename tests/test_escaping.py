"""Every page, drawn over a shop where every field a user or owner can set holds hostile text, shows that text
as text: no tag and no attribute comes out of it, so neither markup nor htmx attributes (which the CSP does not
stop, and which would carry the CSRF token) can act.

To cover a new field: add its name to FIELDS, give it `hostile("your_field")` in `hostile_shop` (or in a POST of
POSTED_PAGES), and, if it shows on a new page, add that page to `pages()`. The test fails when a GET route is
not visited, when a field's text is shown on no page (a setup that cannot fail), and when any page holds an
element or attribute that came out of a field.
"""
from datetime import date, datetime, timedelta, timezone
from html.parser import HTMLParser
from io import BytesIO

import pytest

from crm.admin import audit
from crm.admin.trash import move_to_trash
from crm.conversations import import_jobs
from crm.conversations.services import NewMessage, log_chat
from crm.customers.services import IdentityInput, audited_fields, create_customer, record_customer_edit
from crm.extensions import db
from crm.models import ChannelCost, Tag
from crm.needs.tagging import add_tag_by_hand, retag_all
from crm.orders.reminders import SECTIONS as REMINDER_SECTIONS
from crm.orders.services import ItemInput, OrderInput, create_order, set_status
from crm.orders.settings import save_order_settings
from crm.replies.services import create_quick_reply, send_via_link
from crm.shop_settings import save_settings
from crm.today.services import add_follow_up, record_sale, set_stage

# Every field a user or owner can set, and so every field an attacker with an account (or a customer writing
# to the shop, whose messages get logged or imported) controls.
FIELDS = (
    "shop_name",  # the shop's name: Shop details (else the SHOP_NAME setting)
    "owner_name", "staff_name",  # account names
    "customer_name", "customer_notes", "handle_other", "handle_email",  # the customer form
    "message_customer", "message_staff", "author_name", "attachment",  # logged and imported chats
    "tag_title", "rule_word",  # the Tags pages: a tag's title and its keywords
    "follow_up_note",
    "audit_summary",  # what the trail keeps of a change (names and notes as they were)
    "search_query",  # typed into the search box and shown back
    "pasted_chat", "pasted_author",  # Log chat > Paste, before it is saved
    "upload_name",  # the name of an uploaded export, shown in the import summary
    "typed_customer_name",  # a refused form shows back what was typed
    "typed_tag_title",
    "typed_staff_name",
    "customer_address",  # kept from a format order, or typed on the customer form
    "order_item", "order_variant", "order_recipient", "order_address", "order_note",  # an order's fields
    "format_order_name", "format_order_item",  # a format order in a chat: read into a suggestion and a form
    "product_setting",  # Order settings: the buy-again days per product
    "typed_order_item",
    "qr_title", "quick_reply_text", "bank_accounts",  # Quick replies (a title holds 80) and Shop details
    "sent_via_link",  # a reply sent through a link: the thread, the undo bar, the audit trail
    "typed_quick_reply",
)


def hostile(field: str) -> str:
    """Closes a double- or single-quoted attribute and the element, then opens one with an htmx attribute
    that would log the reader out as it loads. Short: a tag title holds 80 characters."""
    return f"""{field}"'><i data-xss={field} hx-post=/logout hx-trigger=load>{field}</i>"""


# An e-mail handle has no spaces; "/" separates attributes as well.
HOSTILE_EMAIL = """handle_email"'><i/data-xss=handle_email/hx-post=/logout/hx-trigger=load>@tokosari.id"""
# A file name loses everything up to its last "/", and browsers send a '"' in it as %22.
HOSTILE_FILE_NAME = """upload_name'><i data-xss=upload_name hx-post=logout hx-trigger=load>.txt"""


# Long free text: shown inside an element with hx-disable, so that even an attribute that got through could not act.
FREE_TEXT = ("message_customer", "message_staff", "customer_notes", "follow_up_note", "pasted_chat", "customer_address",
             "order_address", "order_note", "quick_reply_text", "bank_accounts", "sent_via_link")
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _PageReader(HTMLParser):
    """What a browser would build from the page: elements and attributes that come from a field, all the text
    (attribute values included) in which a field's text can be read back, and free text outside hx-disable."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.injected: list[str] = []
        self.text: list[str] = []
        self.outside_hx_disable: list[str] = []
        self._open: list[tuple[str, bool]] = []  # (tag, has hx-disable)

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "data-xss" or (name.startswith("hx-") and value == "load"):
                self.injected.append(f"<{tag} {name}={value!r}>")
            elif value:
                self.text.append(value)
        if tag not in VOID_ELEMENTS:
            # A browser reads a textarea's or title's content as text only: no element can start in it.
            self._open.append((tag, tag in ("textarea", "title") or any(name == "hx-disable" for name, _ in attrs)))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID_ELEMENTS:
            self._open.pop()

    def handle_endtag(self, tag):
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                break

    def handle_data(self, data):
        self.text.append(data)
        if not any(disabled for _, disabled in self._open):
            self.outside_hx_disable.extend(field for field in FREE_TEXT if f"data-xss={field}" in data)


def read_page(html: str) -> _PageReader:
    reader = _PageReader()
    reader.feed(html)
    reader.close()
    return reader


@pytest.fixture
def hostile_shop(app, make_user, test_now, tmp_path):
    """A shop whose every field holds hostile text; returns the ids the pages need."""
    owner = make_user(hostile("owner_name"), email="owner@tokosari.id", role="owner")
    staff = make_user(hostile("staff_name"), email="staff@tokosari.id")
    reply = create_quick_reply(shortcut="xss", title=hostile("qr_title"),
                               body=f"Halo {{nama}} {hostile('quick_reply_text')} {{rekening}}", personal_of=None,
                               created_by_id=owner.id)
    create_quick_reply(shortcut="xss", title=hostile("qr_title"), body=hostile("quick_reply_text"),
                       personal_of=staff, created_by_id=staff.id)
    save_settings({"shop_name": hostile("shop_name"), "bank_accounts": hostile("bank_accounts"),
                   "nudge_overdue": str(reply.id), "nudge_hot": str(reply.id)}, owner.id)

    price = db.session.execute(db.select(Tag).where(Tag.name == "price")).scalar_one()
    price.title = hostile("tag_title")
    price.keywords = f"harga\n{hostile('rule_word')}"

    customer = create_customer(
        hostile("customer_name"), notes=hostile("customer_notes"), assigned_to_id=staff.id,
        identities=[IdentityInput("whatsapp", "0812 3456 7890"), IdentityInput("other", hostile("handle_other")),
                    IdentityInput("email", HOSTILE_EMAIL)],
    )
    other = create_customer("Rina Sari", identities=[IdentityInput("whatsapp", "0813 1111 2222")])
    now = datetime.now(timezone.utc)
    start = now - timedelta(hours=3)
    messages = [
        NewMessage(start, "customer", f"harga berapa kak? {hostile('message_customer')} {hostile('rule_word')}",
                   author_name=hostile("author_name"), attachments=(hostile("attachment"),)),
        NewMessage(start + timedelta(minutes=5), "staff", f"185rb kak {hostile('message_staff')}"),
        NewMessage(start + timedelta(minutes=9), "customer", f"ok kak, harga ongkir? {hostile('message_customer')}"),
        NewMessage(start + timedelta(minutes=12), "customer",
                   f"Nama: {hostile('format_order_name')}\nAlamat: Jl. Melati 5\n"
                   f"Pesanan: {hostile('format_order_item')}"),
    ]
    conversation = log_chat(customer, "whatsapp", messages, logged_by_id=staff.id).conversation
    retag_all()
    label = db.session.execute(db.select(Tag).where(Tag.kind == "label")).scalars().first()
    if label is not None:
        add_tag_by_hand(conversation, label, staff.id)
    trashed = log_chat(other, "instagram", [
        NewMessage(start, "customer", hostile("message_customer")),
        NewMessage(start + timedelta(minutes=1), "customer", hostile("message_customer")),
    ], logged_by_id=owner.id).conversation
    move_to_trash(trashed.messages[0])
    move_to_trash(create_quick_reply(shortcut="gone", title=hostile("qr_title"),
                                     body=hostile("quick_reply_text"), personal_of=None, created_by_id=owner.id))
    whatsapp = next(identity for identity in customer.identities if identity.channel == "whatsapp")
    send_via_link(customer, whatsapp, f"Rekening {hostile('sent_via_link')}", user=staff, conversation=conversation,
                  quick_reply_ids=[reply.id])

    follow_up = add_follow_up(customer, due_at=now - timedelta(days=1), has_time=False,
                              note=hostile("follow_up_note"), assigned_to_id=staff.id,
                              conversation=conversation, created_by_id=owner.id)
    add_follow_up(customer, due_at=now + timedelta(hours=2), has_time=True, note=hostile("follow_up_note"),
                  assigned_to_id=owner.id)
    set_stage(customer, "negotiating", 1_250_000)
    customer.address = hostile("customer_address")
    for days, steps in ((3, ()), (8, ("paid", "shipped")), (9, ("paid", "shipped", "delivered"))):
        order = create_order(customer, OrderInput(
            items=[ItemInput(hostile("order_item"), hostile("order_variant"), 2, 185_000)], channel="whatsapp",
            payment_method="bank_transfer", recipient_name=hostile("order_recipient"), address=hostile("order_address"),
            note=hostile("order_note"), courier="jne"), ordered_at=now - timedelta(days=days),
            conversation=conversation, created_by_id=staff.id)
        for back, status in enumerate(steps, start=1):
            set_status(order, status, now - timedelta(days=days - back * 2 + (1 if status == "delivered" else 0)),
                       tracking_number="010880123456" if status == "shipped" else None)
    save_order_settings({"payment_nudge_days": 2, "delivery_days": 5, "review_days": 3, "repeat_days": 30},
                        [(hostile("product_setting"), 14)], user_id=owner.id)
    record_sale(other, amount=185_000, sold_on=now.date(), channel="whatsapp", created_by_id=staff.id)
    month = test_now.date().replace(day=1)
    db.session.add(ChannelCost(channel="whatsapp", month=month, ads=150_000, boosts=0, staff_hours=2,
                               hourly_cost=25_000, updated_by_id=owner.id))

    before = audited_fields(customer)
    customer.notes = hostile("audit_summary")
    record_customer_edit(customer, before)
    customer.notes = hostile("customer_notes")
    audit.record("edit", customer, hostile("audit_summary"), {"changed": {"notes": [hostile("audit_summary"), "x"]}},
                 user=owner)
    db.session.commit()
    form_message = conversation.messages[-1]
    # An import's page that asks who is the shop: the file's name and the chat's names are on it.
    export = tmp_path / "export.txt"
    export.write_text(f"17/06/2026 10.02 - {hostile('pasted_author')}: {hostile('pasted_chat')}\n"
                      f"17/06/2026 10.03 - Rina: {hostile('pasted_chat')}\n", encoding="utf-8")
    job = import_jobs.create_job(source_name=HOSTILE_FILE_NAME, path=str(export), user=staff, runner="cli")
    db.session.commit()
    import_jobs.run_job(job.id)
    return {"owner": owner.email, "staff": staff.email, "staff_id": staff.id, "customer": customer.id,
            "import_job": job.id,
            "other": other.id, "conversation": conversation.id, "tag": price.id, "follow_up": follow_up.id,
            "month": month, "order": order.id, "format_order": form_message.id, "quick_reply": reply.id}


# GET routes that send a file, not a page: what they hold is data, not HTML a browser renders.
NOT_PAGES = {"static", "favicon", "admin.download_backup", "admin.export_customers", "admin.export_conversations",
             "admin.export_quick_replies", "reports.download",
             "replies.pick"}  # JSON the page's script puts in with textContent and a textarea's value


def pages(shop) -> dict[str, list[str]]:
    """Every GET page, by endpoint, with the URLs that show the hostile shop on it."""
    query = hostile("search_query")
    today = date.today()
    return {
        "home": ["/", "/?channel=whatsapp", f"/?tag=price&user={shop['staff_id']}"],
        "today.section": [f"/queue/{section}" for section in ("overdue", "today", "waiting", "hot")],
        "customers.index": ["/customers/", f"/customers/?q={query}", "/customers/?q=harga"],
        "customers.show": [f"/customers/{shop['customer']}", f"/customers/{shop['other']}"],
        "customers.edit": [f"/customers/{shop['customer']}/edit"],
        "customers.merge": [f"/customers/{shop['customer']}/merge", f"/customers/{shop['other']}/merge?q=rina"],
        "customers.new": ["/customers/new"],
        "customers.lookup": [f"/customers/lookup?q={query}", "/customers/lookup?q=0812"],
        "today.pipeline": [f"/customers/{shop['customer']}/pipeline"],
        "today.add": [f"/follow-ups/new?customer_id={shop['customer']}"],
        "today.snooze_follow_up": [f"/follow-ups/{shop['follow_up']}/snooze"],
        "conversations.show": [f"/conversations/{shop['conversation']}"],
        "conversations.log": ["/conversations/log", f"/conversations/log?customer_id={shop['customer']}"],
        "conversations.import_chats": ["/conversations/import"],
        "conversations.import_job": [f"/conversations/import/{shop['import_job']}"],
        "search.index": [f"/search?q={query}", "/search?q=harga", "/search?q=kak&channel=whatsapp",
                         "/search?q=data-xss"],
        "search.suggest": [f"/search/suggest?q={query}", "/search/suggest?q=harga", "/search/suggest?q=0812"],
        "reports.index": ["/reports/", f"/reports/?start={today.replace(day=1)}&end={today}"],
        "reports.costs": ["/reports/costs", f"/reports/costs?month={shop['month']:%Y-%m}"],
        "needs.index": ["/tags"],
        "needs.new": ["/tags/new"],
        "needs.edit": [f"/tags/{shop['tag']}/edit"],
        "admin.users": ["/users"],
        "admin.reset_password": [f"/users/{shop['staff_id']}/password"],
        "admin.backups": ["/admin/backups"],
        "admin.trash": ["/trash"],
        "admin.audit_trail": ["/audit", f"/audit?user={shop['staff_id']}", "/audit?target_type=customer"],
        "replies.index": ["/replies"],
        "replies.new": ["/replies/new"],
        "replies.edit": [f"/replies/{shop['quick_reply']}/edit"],
        "replies.shop_details": ["/replies/shop"],
        "auth.change_own_password": ["/account/password"],
        "auth.login": ["/login"],
        "auth.setup": [],  # 404 once an account exists; its form is the staff form, posted below
        "orders.index": ["/orders/", "/orders/?status=shipped", f"/orders/?customer_id={shop['customer']}"],
        "orders.show": [f"/orders/{shop['order']}"],
        "orders.edit": [f"/orders/{shop['order']}/edit"],
        "orders.new": [f"/orders/new?customer_id={shop['customer']}",
                       f"/orders/new?customer_id={shop['customer']}&conversation_id={shop['conversation']}"
                       f"&message_id={shop['format_order']}"],
        "orders.reminders": [f"/orders/reminders/{section}" for section in REMINDER_SECTIONS],
        "orders.settings": ["/orders/settings"],
    }


def posted_pages(shop) -> list[tuple[str, dict]]:
    """Pages drawn from a POST: a preview, a refused form showing back what was typed, an import summary."""
    pasted = (f"[10.02, 17/06/2026] {hostile('pasted_author')}: {hostile('pasted_chat')}\n"
              f"[10.03, 17/06/2026] Toko Sari: {hostile('pasted_chat')}\n")
    not_an_export = f"{hostile('message_customer')}\n"
    return [
        ("/conversations/log/preview", {"pasted": pasted, "channel": "whatsapp"}),
        ("/conversations/log", {"pasted": pasted, "channel": "whatsapp",
                                "new_customer_name": hostile("typed_customer_name")}),
        ("/customers/new", {"display_name": hostile("typed_customer_name"), "notes": hostile("typed_customer_name"),
                            "identities-0-channel": "whatsapp", "identities-0-handle": hostile("typed_customer_name")}),
        ("/tags/new", {"title": hostile("typed_tag_title"), "keywords": "", "kind": "nonsense"}),
        ("/users", {"name": hostile("typed_staff_name"), "email": "new@tokosari.id", "password": "short",
                    "confirm": "short", "role": "staff"}),
        ("/replies/new", {"shortcut": "typed", "title": hostile("typed_quick_reply"),
                          "body": f"{hostile('typed_quick_reply')} {{nma}}", "scope": "shop"}),
        ("/conversations/import", {"export": (BytesIO(not_an_export.encode()), HOSTILE_FILE_NAME),
                                   "format": "whatsapp", "channel": "whatsapp"}),
        ("/orders/new", {"customer_id": str(shop["customer"]), "items-0-name": hostile("typed_order_item"),
                         "items-0-unit_price": "not money", "channel": "whatsapp"}),
    ]


def _check(response, where: str, shown: set[str]) -> None:
    html = response.get_data(as_text=True)
    reader = read_page(html)
    assert not reader.injected, f"{where}: markup from a field reached the page: {reader.injected}"
    assert not reader.outside_hx_disable, f"{where}: free text outside hx-disable: {reader.outside_hx_disable}"
    text = "\n".join(reader.text)
    shown.update(field for field in FIELDS if f"data-xss={field}" in text)


def test_no_field_can_put_markup_or_htmx_attributes_on_any_page(app, hostile_shop):
    shop = hostile_shop
    owner, staff, visitor = app.test_client(), app.test_client(), app.test_client()
    assert owner.login(shop["owner"]).status_code == 302 and staff.login(shop["staff"]).status_code == 302
    all_pages = pages(shop)
    get_endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    assert get_endpoints - NOT_PAGES - set(all_pages) == set(), "a page this test does not visit"

    shown: set[str] = set()
    # The POSTs first: what they save (a pasted chat, an import's audit event) is on the pages after.
    for url, form in posted_pages(shop):
        response = owner.post(url, data=form, content_type="multipart/form-data", follow_redirects=True)
        assert response.status_code in (200, 400), (url, response.status_code)
        _check(response, f"POST {url}", shown)
    visited = 0
    for endpoint, urls in all_pages.items():
        for url in urls:
            for who, client in (("owner", owner), ("staff", staff)):
                if endpoint == "auth.login":
                    client = visitor
                for headers in ({}, {"HX-Request": "true"}):
                    response = client.get(url, headers=headers)
                    assert response.status_code in (200, 403), (url, who, response.status_code)
                    _check(response, f"{who} GET {url} {headers}", shown)
                    visited += response.status_code == 200
    assert visited > 100
    assert set(FIELDS) - shown == set(), "fields whose text no page showed: the test cannot fail for them"
    assert owner.get("/customers/").status_code == 200, "nothing logged the owner out"


def test_the_channel_report_prints_a_tag_title_as_text(owner_client, chat, make_customer):
    """The finding: a tag title reached the Channel report as a lazy string, which Jinja takes for safe HTML."""
    field = "tag_title"
    tag = db.session.execute(db.select(Tag).where(Tag.name == "price")).scalar_one()
    tag.title = hostile(field)
    db.session.commit()
    chat(make_customer("Rina"), [("customer", "harga berapa kak?"), ("staff", "185rb kak")])
    retag_all()
    db.session.commit()
    page = owner_client.get("/reports/").get_data(as_text=True)
    assert f"{field}&#34;&#39;&gt;&lt;i data-xss={field}" in page
    assert not read_page(page).injected


def test_lazy_text_is_escaped_wherever_it_is_printed(app):
    """A lazy string holding user text would count as safe HTML; Obrolan escapes lazy strings instead."""
    from flask import render_template_string
    from flask_babel import lazy_gettext

    with app.test_request_context():
        page = render_template_string("{{ value }}|{{ _('Remove %(title)s', title=value) }}",
                                      value=lazy_gettext("%(name)s", name="<i hx-get=/logout>"))
    assert "<i" not in page and page.count("&lt;i hx-get=/logout&gt;") == 2

