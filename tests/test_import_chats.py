"""Importing the shared sample exports through `flask import-chat`: exact counts, idempotent, dry run."""
import json
from pathlib import Path

import pytest

from crm.extensions import db
from crm.models import Conversation, Customer, Message, OurName

SAMPLES = Path(__file__).resolve().parent / "fixtures" / "samples"
EXPECTED = json.loads((SAMPLES / "EXPECTED.json").read_text())


def _import(runner, path, *args, exit_code=0):
    result = runner.invoke(args=["import-chat", str(path), "--json", *args])
    assert result.exit_code == exit_code, result.output
    return json.loads(result.output.strip().splitlines()[-1])


def _count(model):
    return db.session.execute(db.select(db.func.count()).select_from(model)).scalar()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_sample_imports_with_the_expected_counts_once(runner, name):
    expected = EXPECTED[name]
    path = SAMPLES / name
    if name.endswith("message_1.json"):
        path = path.parent
    me = [arg for m in expected["me"] for arg in ("--me", m)]

    dry = _import(runner, path, *me, "--dry-run")
    assert dry["messages_imported"] == expected["messages"] and dry["errors"] == []
    assert _count(Message) == 0 and _count(Customer) == 0 and _count(OurName) == 0, "a dry run writes nothing"

    first = _import(runner, path, *me)
    assert first == dry
    assert first["files"] == 1 and first["customers_created"] == 1
    sides = dict(db.session.execute(db.select(Message.side, db.func.count()).group_by(Message.side)).all())
    assert sides == {"customer": expected["customer_messages"], "staff": expected["our_messages"]}
    customer = db.session.execute(db.select(Customer)).scalar_one()
    assert customer.display_name == expected["customer"]
    channels = set(db.session.execute(db.select(Conversation.channel)).scalars())
    assert channels == {expected["channel"]}
    if "first" in expected:
        times = db.session.execute(db.select(db.func.min(Message.sent_at), db.func.max(Message.sent_at))).one()
        jakarta = __import__("zoneinfo").ZoneInfo("Asia/Jakarta")
        local = [t.astimezone(jakarta).strftime("%Y-%m-%dT%H:%M") for t in times]
        assert local == [expected["first"], expected["last"]]

    for conversation in db.session.execute(db.select(Conversation)).scalars():
        ordered = sorted(conversation.messages, key=lambda m: (m.sent_at, m.id))
        assert (conversation.first_message_at, conversation.last_message_at, conversation.last_side) == (
            ordered[0].sent_at, ordered[-1].sent_at, ordered[-1].side)

    again = _import(runner, path, *me)
    assert again["messages_imported"] == 0 and again["duplicates_skipped"] == expected["messages"]
    assert again["customers_matched"] == 1 and again["customers_created"] == 0
    assert _count(Message) == expected["messages"]


def test_the_shop_names_are_remembered_per_channel(runner):
    _import(runner, SAMPLES / "whatsapp-android-id.txt", "--me", "Toko Batik Sari")
    db.session.execute(db.delete(Message))
    db.session.execute(db.delete(Conversation))
    db.session.commit()
    second = _import(runner, SAMPLES / "whatsapp-android-id.txt")
    assert second["messages_imported"] == 13
    assert _count(Customer) == 1, "matched by name"


def test_a_whole_folder_imports_in_one_go(runner, tmp_path):
    import shutil

    folder = tmp_path / "exports"
    shutil.copytree(SAMPLES, folder, ignore=shutil.ignore_patterns("EXPECTED.json", "README.md"))
    summary = _import(runner, folder, "--me", "Toko Batik Sari", "--me", "Admin Sari", "--me", "Kerajinan Bu Ani")
    assert summary["errors"] == [], summary["errors"]
    assert summary["files"] == len(EXPECTED)
    # Rina's zip holds the same chat as her .txt; Budi's iPhone and Android exports are the same chat too.
    assert summary["duplicates_skipped"] == 13 + 10
    assert summary["messages_imported"] == sum(e["messages"] for e in EXPECTED.values()) - 13 - 10
    assert summary["customers_created"] == 3, "Rina, Budi Santoso and Dewi Lestari, matched by name across channels"


def test_a_folder_reports_files_that_are_not_chats(runner, tmp_path):
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "notes.md").write_text("# nothing here\n")
    summary = _import(runner, tmp_path / "exports", exit_code=1)
    assert [e["file"] for e in summary["errors"]] == ["notes.md"]


def test_garbage_is_reported_with_file_and_line_and_nothing_is_written(runner, tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("just some notes\nwithout any chat\n")
    summary = _import(runner, bad, exit_code=1)
    assert summary["errors"] and summary["errors"][0]["file"].endswith("notes.txt")
    assert summary["errors"][0]["line"] == 1
    assert _count(Message) == 0


def test_an_unplaceable_chat_asks_for_the_shop_side(runner, tmp_path):
    chat = tmp_path / "chat.txt"
    chat.write_text("23/05/26 10.15 - Rina: halo\n23/05/26 10.16 - Sari: halo juga\n", encoding="utf-8")
    summary = _import(runner, chat, exit_code=1)
    assert summary["messages_imported"] == 0 and "--me" in summary["errors"][0]["message"]
    summary = _import(runner, chat, "--me", "Sari")
    assert summary["messages_imported"] == 2 and summary["customers_created"] == 1
    assert db.session.execute(db.select(Customer.display_name)).scalar_one() == "Rina"


def test_importing_again_after_the_customer_went_to_the_trash(runner, tmp_path, owner):
    from crm.admin.trash import move_to_trash

    chat = tmp_path / "WhatsApp Chat with +62 812-3456-7890.txt"
    chat.write_text("23/05/26 10.15 - +62 812-3456-7890: halo\n23/05/26 10.16 - Sari: halo juga\n", encoding="utf-8")
    first = _import(runner, chat, "--me", "Sari")
    assert first["customers_created"] == 1
    customer = db.session.execute(db.select(Customer)).scalar_one()
    move_to_trash(customer)
    db.session.commit()

    longer = chat.read_text() + "24/05/26 09.00 - +62 812-3456-7890: jadi pesan 2\n"
    chat.write_text(longer, encoding="utf-8")
    again = _import(runner, chat, "--me", "Sari")
    # The trashed customer keeps its number and messages; the chat starts over with a new customer.
    assert again["messages_imported"] == 3 and again["customers_created"] == 1
    live = db.session.execute(db.select(Customer).where(Customer.deleted_at.is_(None))).scalar_one()
    new_message = db.session.execute(db.select(Message).where(Message.body == "jadi pesan 2")).scalar_one()
    assert new_message.conversation.customer_id == live.id and new_message.conversation.deleted_at is None


def test_imported_conversations_get_their_need_tags(runner):
    from crm.models import ConversationTag, Tag

    _import(runner, SAMPLES / "whatsapp-android-id.txt", "--me", "Toko Batik Sari")
    names = set(db.session.execute(
        db.select(Tag.name).join(ConversationTag, ConversationTag.tag_id == Tag.id)).scalars())
    assert {"price", "shipping"} <= names, names
    for row in db.session.execute(db.select(ConversationTag)).scalars():
        assert row.source == "auto" and row.reason_message.side == "customer"
        assert row.reason_word.lower() in row.reason_message.body.lower()


def test_a_long_plain_paste_with_repeats_across_batches(runner, tmp_path, monkeypatch):
    from crm.conversations import importing

    monkeypatch.setattr(importing, "BATCH", 3)
    chat = tmp_path / "chat.txt"
    chat.write_text("Rina: ok\nSaya: ok\nRina: ok\nRina: ok\nRina: ok\nSaya: harga 185rb\nRina: ok\nRina: ok\n")
    summary = _import(runner, chat, "--format", "plain")
    assert summary["messages_imported"] + summary["duplicates_skipped"] == 8
    assert _import(runner, chat, "--format", "plain")["messages_imported"] == 0
