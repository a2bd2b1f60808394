"""Quick replies: the starter set, shortcut search, the pages to manage them, the picker's filled suggestions,
the shop details they fill in, the trash, the audit trail, the export and the backup."""
import csv
import io
import sqlite3
from datetime import timedelta

import pytest

from crm.admin.backups import backup_folder, keep_count, make_backup
from crm.admin.trash import move_to_trash
from crm.extensions import db
from crm.models import AuditEvent, QuickReply, QuickReplyUse
from crm.replies.services import (
    create_quick_reply,
    ensure_starter_replies,
    match_rank,
    record_uses,
    search_replies,
    usage_of,
    visible_replies,
)
from crm.replies.starter import STARTER_REPLIES
from crm.shop_settings import save_settings


def _reply(shortcut):
    return db.session.execute(db.select(QuickReply).where(QuickReply.shortcut == shortcut,
                                                          QuickReply.deleted_at.is_(None))).scalar_one()


def _events(action, target_type="quickreply"):
    return db.session.execute(db.select(AuditEvent).where(AuditEvent.action == action,
                                                          AuditEvent.target_type == target_type)).scalars().all()


# --- the starter set ----------------------------------------------------------------------------------------


def test_a_new_shop_has_the_starter_replies_in_indonesian_and_english(app):
    replies = db.session.execute(db.select(QuickReply).order_by(QuickReply.id)).scalars().all()
    assert [(r.starter, r.shortcut, r.title) for r in replies] == [
        (s.key, s.shortcut, s.title) for s in STARTER_REPLIES]
    assert all(r.personal_of_id is None and r.deleted_at is None for r in replies)
    by_shortcut = {r.shortcut: r for r in replies}
    assert "{rekening}" in by_shortcut["rek"].body and "{bank}" in by_shortcut["bank"].body
    assert by_shortcut["minat"].title == "Follow-up: masih minat kak?"
    assert by_shortcut["interested"].title == "Follow-up: still interested?"
    assert {"ongkir", "format", "ready", "makasih", "order", "shipping", "stock", "thanks"} <= set(by_shortcut)


def test_starter_replies_deleted_come_back_only_where_their_shortcut_is_free(app, owner):
    move_to_trash(_reply("rek"))
    move_to_trash(_reply("bank"))
    create_quick_reply(shortcut="bank", title="Our bank", body="BRI 123", personal_of=None, created_by_id=owner.id)
    _reply("ongkir").body = "edited by the shop"
    added = ensure_starter_replies()
    db.session.commit()
    assert [r.starter for r in added] == ["id:rek"]
    assert _reply("ongkir").body == "edited by the shop"
    assert _reply("bank").title == "Our bank"
    assert ensure_starter_replies() == []


def test_owner_adds_back_starter_replies_from_the_page(owner_client, staff_client, app):
    move_to_trash(_reply("makasih"))
    db.session.commit()
    assert staff_client.post("/replies/starters").status_code == 403
    response = owner_client.post("/replies/starters", follow_redirects=True)
    assert "1 starter replies added back" in response.get_data(as_text=True) or "added back" in response.get_data(
        as_text=True)
    assert _reply("makasih").starter == "id:makasih"


# --- shortcut search ----------------------------------------------------------------------------------------


def test_match_rank_orders_exact_prefix_title_and_inside():
    assert match_rank("rek", "rek", "Rekening pembayaran") == 0
    assert match_rank("re", "rek", "Rekening pembayaran") == 1
    assert match_rank("bayar", "rek", "Rekening pembayaran") == 4
    assert match_rank("pemb", "rek", "Rekening pembayaran") == 2
    assert match_rank("ngkir", "ongkir", "Ongkos kirim") == 3
    assert match_rank("zzz", "rek", "Rekening") is None
    assert match_rank("", "rek", "Rekening") == 5


def test_search_folds_case_and_accents_and_ignores_the_slash(app, owner):
    replies = visible_replies(owner)
    assert [r.shortcut for r in search_replies(replies, "/REK")][:1] == ["rek"]
    assert [r.shortcut for r in search_replies(replies, "rék")][:1] == ["rek"]


def test_search_by_title_finds_the_reply_in_either_language(app, owner):
    replies = visible_replies(owner)
    assert "rek" in [r.shortcut for r in search_replies(replies, "rekening")]
    assert [r.shortcut for r in search_replies(replies, "bank")][0] == "bank"
    assert [r.shortcut for r in search_replies(replies, "shipping")] == ["shipping"]
    assert [r.shortcut for r in search_replies(replies, "terima")] == ["makasih"]
    assert search_replies(replies, "no such thing") == []


def test_search_puts_ones_own_first_then_the_most_used(app, owner, staff):
    mine = create_quick_reply(shortcut="ready-jkt", title="Ready di Jakarta", body="Ready kak, kirim dari Jakarta",
                              personal_of=staff, created_by_id=staff.id)
    shop = create_quick_reply(shortcut="ready-bdg", title="Ready di Bandung", body="Ready kak, dari Bandung",
                              personal_of=None, created_by_id=owner.id)
    record_uses([shop.id, shop.id], user_id=staff.id, conversation_id=None)
    db.session.commit()
    replies = visible_replies(staff)
    found = search_replies(replies, "ready", usage_of([r.id for r in replies]))
    assert [r.shortcut for r in found] == ["ready", "ready-jkt", "ready-bdg"]
    found = search_replies(replies, "ready-", usage_of([r.id for r in replies]))
    assert [r.shortcut for r in found] == ["ready-jkt", "ready-bdg"]
    assert mine in replies and len(search_replies(replies, "", limit=100)) == len(replies)


def test_search_shows_at_most_a_screenful(app, owner):
    assert len(search_replies(visible_replies(owner), "")) == 8


# --- managing them ----------------------------------------------------------------------------------------------


def test_owner_adds_a_shop_wide_reply_and_staff_use_it(owner_client, staff_client, staff):
    response = owner_client.post("/replies/new", data={
        "shortcut": "/Ongkir-Jawa", "title": "Ongkir Jawa", "body": "Ongkir ke Jawa 15rb ya {nama}", "scope": "shop"})
    assert response.status_code == 302
    reply = _reply("ongkir-jawa")
    assert reply.personal_of_id is None
    assert "/ongkir-jawa" in staff_client.get("/replies").get_data(as_text=True)
    event = _events("create")[-1]
    assert event.summary == "/ongkir-jawa · Ongkir Jawa" and event.details["body"] == "Ongkir ke Jawa 15rb ya {nama}"


def test_staff_add_only_their_own_and_cannot_change_the_shops(staff_client, owner_client, staff, owner):
    response = staff_client.post("/replies/new", data={
        "shortcut": "salam", "title": "Salam", "body": "Halo {nama}, saya {staf}", "scope": "shop"})
    assert response.status_code == 302
    assert _reply("salam").personal_of_id == staff.id  # "scope" is the owner's choice only
    rek = _reply("rek")
    assert staff_client.get(f"/replies/{rek.id}/edit").status_code == 403
    assert staff_client.post(f"/replies/{rek.id}/delete").status_code == 403
    # Nobody else sees a personal reply, the owner neither.
    salam = _reply("salam")
    assert "/salam" not in owner_client.get("/replies").get_data(as_text=True)
    assert owner_client.get(f"/replies/{salam.id}/edit").status_code == 404
    assert owner_client.get("/replies/pick?q=salam").get_json()["replies"] == []


def test_a_taken_shortcut_is_refused_and_what_was_typed_stays(owner_client, staff_client):
    response = owner_client.post("/replies/new", data={
        "shortcut": "REK", "title": "Rekening baru", "body": "Mandiri 123 🙏", "scope": "shop"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Another quick reply has this shortcut" in page and "Mandiri 123 🙏" in page and "Rekening baru" in page
    # A person's own shortcut may be the same as the shop's: theirs comes first in the picker.
    assert staff_client.post("/replies/new", data={"shortcut": "rek", "title": "Rek saya",
                                                   "body": "BCA 999"}).status_code == 302


def test_the_shortcut_and_the_variables_are_checked(owner_client):
    response = owner_client.post("/replies/new", data={
        "shortcut": "rek baru!", "title": "X", "body": "Halo {nma}, {?ukuran}", "scope": "shop"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Letters, digits, - and _ only" in page
    assert "{nma} is not a variable" in page


def test_editing_keeps_who_it_is_for_and_is_audited(owner_client):
    rek = _reply("rek")
    response = owner_client.post(f"/replies/{rek.id}/edit", data={
        "shortcut": "rek", "title": "Rekening BCA", "body": "BCA 123 a.n. Sari", "scope": "personal"})
    assert response.status_code == 302
    db.session.refresh(rek)
    assert rek.title == "Rekening BCA" and rek.personal_of_id is None
    changed = _events("edit")[-1].details["changed"]
    assert changed["title"] == ["Rekening pembayaran", "Rekening BCA"] and "shortcut" not in changed


def test_renaming_to_a_taken_shortcut_is_refused(owner_client):
    rek = _reply("rek")
    response = owner_client.post(f"/replies/{rek.id}/edit", data={
        "shortcut": "ongkir", "title": "Rekening", "body": "BCA", "scope": "shop"})
    assert response.status_code == 400
    db.session.refresh(rek)
    assert rek.shortcut == "rek"


def test_a_deleted_reply_goes_to_the_trash_and_comes_back(owner_client):
    rek = _reply("rek")
    assert owner_client.post(f"/replies/{rek.id}/delete").status_code == 302
    assert owner_client.get("/replies/pick?q=rek").get_json()["replies"] == []
    trash = owner_client.get("/trash").get_data(as_text=True)
    assert "Rekening pembayaran" in trash and "shop-wide" in trash
    assert owner_client.post(f"/trash/quickreply/{rek.id}/restore").status_code == 302
    db.session.refresh(rek)
    assert rek.deleted_at is None
    assert [e.summary for e in _events("delete")] == ["/rek · Rekening pembayaran"]
    assert [e.summary for e in _events("restore")] == ["/rek · Rekening pembayaran"]


def test_a_reply_cannot_come_back_over_a_new_one_with_its_shortcut(owner_client, owner):
    rek = _reply("rek")
    owner_client.post(f"/replies/{rek.id}/delete")
    create_quick_reply(shortcut="rek", title="Rekening baru", body="BRI 1", personal_of=None, created_by_id=owner.id)
    db.session.commit()
    response = owner_client.post(f"/trash/quickreply/{rek.id}/restore", follow_redirects=True)
    assert "Another quick reply has the shortcut /rek now" in response.get_data(as_text=True)
    db.session.refresh(rek)
    assert rek.deleted_at is not None


def test_the_list_shows_how_often_and_when_each_was_used(owner_client, owner, test_now):
    rek = _reply("rek")
    record_uses([rek.id, rek.id, rek.id], user_id=owner.id, conversation_id=None)
    db.session.commit()
    usage = usage_of([rek.id])[rek.id]
    assert usage.count == 3 and abs(usage.last_used_at - test_now) < timedelta(minutes=1)
    page = owner_client.get("/replies").get_data(as_text=True)
    row = page[page.index('id="quick-reply-%d"' % rek.id):]
    row = row[:row.index("</tr>")]
    assert "3 times" in row and "never" not in row
    assert "never" in page  # the others


def test_the_reply_text_is_always_escaped(owner_client, owner, make_customer):
    hostile = '<img src=x onerror=alert(1)>"\'><b>'
    create_quick_reply(shortcut="xss", title=hostile[:80], body=hostile + " {nama}", personal_of=None,
                       created_by_id=owner.id)
    db.session.commit()
    page = owner_client.get("/replies").get_data(as_text=True)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    customer = make_customer("Rina <script>", whatsapp="0812 3456 7890")
    answer = owner_client.get(f"/replies/pick?q=xss&customer_id={customer.id}")
    # JSON that no browser reads as a page; the script puts it in with textContent and a textarea's value.
    assert answer.mimetype == "application/json" and answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.get_json()["replies"][0]["text"] == hostile + " Rina"


# --- the picker and the shop details --------------------------------------------------------------------------


def test_the_picker_fills_the_reply_for_the_customer(staff_client, owner, make_customer, chat):
    save_settings({"shop_name": "Toko Batik Sari", "bank_accounts": "BCA 1234567890 a.n. Sari"}, owner.id)
    db.session.commit()
    customer = make_customer("Rina Kusuma", whatsapp="0812 3456 7890")
    conversation = chat(customer, [("customer", "Kak gamis navy ready? harganya berapa?"),
                                   ("staff", "Ready kak, 185rb")])
    answer = staff_client.get(f"/replies/pick?q=rek&conversation_id={conversation.id}").get_json()
    assert answer["replies"][0]["text"].startswith("Untuk pembayaran bisa transfer ke rekening berikut ya Rina:\n"
                                                   "BCA 1234567890 a.n. Sari\n")
    ready = staff_client.get(f"/replies/pick?q=ready&conversation_id={conversation.id}").get_json()["replies"][0]
    assert ready["text"] == "Halo Rina, gamis navy ready ya 😊 Harganya 185rb. Mau ukuran dan warna apa?"
    thanks = staff_client.get(f"/replies/pick?q=makasih&customer_id={customer.id}").get_json()["replies"][0]
    assert "belanja di Toko Batik Sari, Rina" in thanks["text"]
    minat = staff_client.get("/replies/pick?q=minat&name=bu+sari").get_json()["replies"][0]
    assert minat["text"].startswith("Halo Bu Sari, saya Budi dari Toko Batik Sari")
    assert "{?produk}" in minat["text"]  # no conversation: the product is a blank to fill


def test_the_picker_leaves_blanks_for_what_the_shop_has_not_said(staff_client):
    answer = staff_client.get("/replies/pick?q=rek").get_json()
    text = answer["replies"][0]["text"]
    assert "{?rekening}" in text and text.startswith("Untuk pembayaran bisa transfer ke rekening berikut ya Kak:")
    thanks = staff_client.get("/replies/pick?q=makasih").get_json()["replies"][0]["text"]
    assert "{?toko}" in thanks  # SHOP_NAME is still the app's name
    assert staff_client.get("/replies/pick?q=qqq").get_json() == {"replies": [],
                                                                 "none": "No quick reply matches /qqq."}


def test_shop_details_are_the_owners_and_audited(owner_client, staff_client):
    assert staff_client.get("/replies/shop").status_code == 403
    rek, minat = _reply("rek"), _reply("minat")
    response = owner_client.post("/replies/shop", data={
        "shop_name": "  Toko   Batik Sari ", "bank_accounts": "BCA 123 a.n. Sari\r\nMandiri 456 a.n. Sari",
        "nudge_overdue": str(minat.id), "nudge_hot": ""})
    assert response.status_code == 302
    page = owner_client.get("/replies").get_data(as_text=True)
    assert "Toko Batik Sari" in page and "Mandiri 456 a.n. Sari" in page and "/minat" in page
    assert "<title>Quick replies · Toko Batik Sari</title>" in page  # the top bar says the shop's name too
    event = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "shop_details")).scalar_one()
    assert event.details["changed"]["bank_accounts"] == ["", "BCA 123 a.n. Sari\nMandiri 456 a.n. Sari"]
    assert "Changed the shop details" in owner_client.get("/audit").get_data(as_text=True)
    # A nudge is a shop-wide quick reply: anything else is refused.
    response = owner_client.post("/replies/shop", data={"shop_name": "x", "bank_accounts": "",
                                                       "nudge_overdue": "999", "nudge_hot": str(rek.id)})
    assert response.status_code == 400


# --- export and backup -------------------------------------------------------------------------------------------


def test_quick_replies_are_exported_with_their_use(owner_client, staff_client, owner, staff):
    create_quick_reply(shortcut="salam", title="Salam", body="=HYPERLINK(\"x\")", personal_of=staff,
                       created_by_id=staff.id)
    rek = _reply("rek")
    record_uses([rek.id], user_id=staff.id, conversation_id=None)
    move_to_trash(_reply("bank"))
    db.session.commit()
    assert staff_client.get("/admin/export/quick-replies.csv").status_code == 403
    response = owner_client.get("/admin/export/quick-replies.csv")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    by_shortcut = {row["shortcut"]: row for row in rows}
    assert "bank" not in by_shortcut and len(rows) == len(STARTER_REPLIES)
    assert by_shortcut["rek"]["uses"] == "1" and by_shortcut["rek"]["for"] == "shop"
    assert by_shortcut["rek"]["last_used_at"][:4] == "2026"
    assert by_shortcut["salam"]["for"] == "Budi Staff" and by_shortcut["salam"]["text"].startswith("'=")
    assert _events("export", "export")[-1].summary.startswith("obrolan-quick-replies-")
    semicolon = owner_client.get("/admin/export/quick-replies.csv?sep=semicolon").get_data().decode("utf-8-sig")
    assert semicolon.splitlines()[0].startswith("id;shortcut;title")


@pytest.mark.sqlite_only("reads the backup file with sqlite3; PostgreSQL's backups are whole pg_dump files, "
                         "tests/test_backups_postgres.py")
def test_a_backup_holds_the_quick_replies_and_the_shop_details(app, owner):
    create_quick_reply(shortcut="salam", title="Salam", body="Halo {nama}", personal_of=owner, created_by_id=owner.id)
    save_settings({"bank_accounts": "BCA 123"}, owner.id)
    record_uses([_reply("rek").id], user_id=owner.id, conversation_id=None)
    db.session.commit()
    path = make_backup(db.engine, backup_folder(app), keep_count(app))
    with sqlite3.connect(path) as copy:
        shortcuts = {row[0] for row in copy.execute("SELECT shortcut FROM quick_replies")}
        assert {"salam", "rek", "bank"} <= shortcuts
        assert copy.execute("SELECT value FROM shop_settings WHERE key = 'bank_accounts'").fetchone() == ("BCA 123",)
        assert copy.execute("SELECT count(*) FROM quick_reply_uses").fetchone() == (1,)


def test_uses_go_with_a_reply_deleted_for_good(app, owner):
    rek = _reply("rek")
    record_uses([rek.id], user_id=owner.id, conversation_id=None)
    move_to_trash(rek)
    db.session.commit()
    from crm.admin.trash import empty_trash

    assert empty_trash()["quickreply"] == 1
    db.session.commit()
    assert db.session.execute(db.select(db.func.count()).select_from(QuickReplyUse)).scalar_one() == 0
