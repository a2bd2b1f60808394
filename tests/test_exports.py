"""Exports: customers as a CSV Excel reads right, conversations as JSON Lines, both streamed in batches;
deleted and merged-away rows left out; owner only."""
import csv
import io
import json
from datetime import datetime, timedelta, timezone

import pytest

from crm.admin import exports
from crm.customers.services import merge_customers
from crm.extensions import db
from crm.models import utcnow


@pytest.fixture
def shop(make_customer, chat, owner):
    """A small shop: Rina on two channels with a chat, a deleted customer, one merged into Rina, a deleted chat."""
    rina = make_customer("Ibu Rina Wulandari", notes="Suka batik tulis, ukuran XL; minta dikirim ke Sleman",
                         whatsapp="0812-3456-7890", instagram="@rina.batik")
    rina.assigned_to_id = owner.id
    gone = make_customer("Pelanggan Terhapus", whatsapp="0813-0000-0001")
    gone.deleted_at = utcnow()
    twin = make_customer("Rina (IG lama)", email="rina@tokosari.id")
    budi = make_customer("=HYPERLINK(\"http://evil.example\",\"klik\")", telegram="@budi_s")
    db.session.commit()
    start = datetime(2026, 5, 14, 3, 0, tzinfo=timezone.utc)
    first = chat(rina, [("customer", "Kak, batik tulis ukuran XL masih ada? 🙏"), ("staff", "Masih kak, 185rb")],
                 start=start)
    deleted_chat = chat(budi, [("customer", "pesan yang dihapus")], channel="telegram", start=start)
    deleted_chat.deleted_at = utcnow()
    chat(gone, [("customer", "chat pelanggan terhapus")], start=start)
    twin_chat = chat(twin, [("customer", "Dari e-mail lama")], channel="email", start=start + timedelta(days=3))
    first.messages[1].deleted_at = utcnow()
    merge_customers(rina, twin)
    db.session.commit()
    return {"rina": rina, "gone": gone, "twin": twin, "budi": budi, "first": first, "twin_chat": twin_chat,
            "deleted_chat": deleted_chat}


def _csv_rows(text: str, delimiter: str = ","):
    return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))


def test_customers_csv_has_a_bom_every_identity_and_no_deleted_or_merged_customer(owner_client, shop):
    response = owner_client.get("/admin/export/customers.csv")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="obrolan-customers-')
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")  # so Excel on Windows reads UTF-8
    rows = _csv_rows(raw.decode("utf-8-sig"))
    by_name = {row["name"]: row for row in rows}
    assert "Pelanggan Terhapus" not in by_name
    assert "Rina (IG lama)" not in by_name
    rina = by_name["Ibu Rina Wulandari"]
    assert rina["id"] == str(shop["rina"].id)
    assert rina["whatsapp"] == "+6281234567890"
    assert rina["instagram"] == "rina.batik"
    assert rina["email"] == "rina@tokosari.id"  # moved over by the merge
    assert rina["notes"] == "Suka batik tulis, ukuran XL; minta dikirim ke Sleman"
    assert rina["assigned_to"] == "Ani Owner"
    assert len(rows) == 2


def test_a_cell_that_excel_would_run_as_a_formula_is_kept_as_text(owner_client, shop):
    rows = _csv_rows(owner_client.get("/admin/export/customers.csv").get_data().decode("utf-8-sig"))
    names = {row["name"] for row in rows}
    assert "'=HYPERLINK(\"http://evil.example\",\"klik\")" in names
    assert exports._cell("+6281234567890") == "+6281234567890"
    assert exports._cell("-") == "-"
    assert exports._cell("@SUM(A1)") == "'@SUM(A1)"
    assert exports._cell("+cmd|' /C calc'!A0") == "'+cmd|' /C calc'!A0"


def test_customers_csv_with_semicolons_for_indonesian_excel(owner_client, shop):
    text = owner_client.get("/admin/export/customers.csv?sep=semicolon").get_data().decode("utf-8-sig")
    assert text.splitlines()[0].startswith("id;name;stage;")
    rows = _csv_rows(text, delimiter=";")
    assert {row["name"] for row in rows} >= {"Ibu Rina Wulandari"}


def test_customers_csv_in_small_batches_gives_the_same_rows(app, make_customer):
    for i in range(7):
        make_customer(f"Pelanggan {i}", whatsapp=f"0812-0000-00{i:02d}")
    whole = "".join(exports.customers_csv())
    batched = list(exports.customers_csv(batch=2))
    assert "".join(batched) == whole
    assert len(_csv_rows(whole.lstrip("\ufeff"))) == 7


def _lines(response):
    """Read the streamed body piece by piece, as a client would, and parse each complete line."""
    buffer = b""
    for piece in response.response:
        buffer += piece
        *complete, buffer = buffer.split(b"\n")
        yield from (json.loads(line) for line in complete)
    assert buffer == b""


def test_conversations_jsonl_streams_one_conversation_per_line(owner_client, shop):
    response = owner_client.get("/admin/export/conversations.jsonl")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "application/x-ndjson"
    lines = list(_lines(response))
    assert [line["id"] for line in lines] == sorted([shop["first"].id, shop["twin_chat"].id])
    first = next(line for line in lines if line["id"] == shop["first"].id)
    assert first["customer"] == {"id": shop["rina"].id, "name": "Ibu Rina Wulandari"}
    assert first["channel"] == "whatsapp"
    assert [m["body"] for m in first["messages"]] == ["Kak, batik tulis ukuran XL masih ada? 🙏"]  # deleted left out
    assert first["messages"][0]["side"] == "customer"
    assert datetime.fromisoformat(first["messages"][0]["sent_at"]) == datetime(2026, 5, 14, 3, 0, tzinfo=timezone.utc)
    moved = next(line for line in lines if line["id"] == shop["twin_chat"].id)
    assert moved["customer"]["id"] == shop["rina"].id  # the merged customer's chat, now Rina's
    text = json.dumps(lines, ensure_ascii=False)
    assert "pesan yang dihapus" not in text and "chat pelanggan terhapus" not in text


def test_conversations_jsonl_in_small_batches_and_pieces_is_the_same(app, make_customer, chat, monkeypatch):
    customers = [make_customer(f"Pelanggan {i}") for i in range(5)]
    start = datetime(2026, 5, 1, tzinfo=timezone.utc)
    for i, customer in enumerate(customers):
        chat(customer, [("customer" if j % 2 else "staff", f"pesan {i}-{j}") for j in range(i * 3)], start=start)
    whole = "".join(exports.conversation_lines())
    monkeypatch.setattr(exports, "CHUNK_CHARS", 40)  # a long conversation is written in several pieces
    pieces = list(exports.conversation_lines(batch=2, message_batch=3))
    assert len(pieces) > 5
    assert "".join(pieces) == whole
    lines = [json.loads(line) for line in whole.splitlines()]
    assert [len(line["messages"]) for line in lines] == [3, 6, 9, 12]  # the first customer has no chat
    assert lines[-1]["messages"][0]["body"] == "pesan 4-0"


def test_exports_of_an_empty_shop(owner_client):
    assert owner_client.get("/admin/export/customers.csv").get_data().decode("utf-8-sig").count("\n") == 1
    assert owner_client.get("/admin/export/conversations.jsonl").get_data() == b""


def test_staff_get_403_on_exports(staff_client, shop):
    for url in ("/admin/export/customers.csv", "/admin/export/conversations.jsonl",
                "/admin/export/customers.csv?sep=semicolon"):
        response = staff_client.get(url)
        assert response.status_code == 403, url
        assert b"Rina" not in response.data


def test_exports_are_in_the_audit_trail(owner_client, owner, shop):
    from crm.models import AuditEvent

    owner_client.get("/admin/export/customers.csv").get_data()
    owner_client.get("/admin/export/conversations.jsonl").get_data()
    events = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "export")).scalars().all()
    assert [e.user_id for e in events] == [owner.id, owner.id]
    assert events[0].summary.startswith("obrolan-customers-") and events[1].summary.endswith(".jsonl")


def test_orders_are_in_both_exports(owner_client, shop):
    from crm.orders.services import ItemInput, OrderInput, create_order, set_status

    rina, first = shop["rina"], shop["first"]
    paid = create_order(rina, OrderInput(items=[ItemInput("Batik tulis", "XL", 2, 185_000)], shipping_cost=15_000,
                                         payment_method="bank_transfer", channel="whatsapp", courier="jne"),
                        ordered_at=first.first_message_at, conversation=first)
    set_status(paid, "paid", first.first_message_at + timedelta(hours=1))
    create_order(rina, OrderInput(total=90_000, channel="whatsapp"), ordered_at=first.first_message_at)
    cancelled = create_order(rina, OrderInput(total=50_000, channel="whatsapp"), ordered_at=first.first_message_at)
    set_status(cancelled, "cancelled", first.first_message_at + timedelta(hours=2))
    rina.address = "Jl. Kaliurang km 5, Sleman"
    db.session.commit()
    rows = _csv_rows(owner_client.get("/admin/export/customers.csv").get_data().decode("utf-8-sig"))
    row = next(r for r in rows if r["name"] == "Ibu Rina Wulandari")
    assert (row["address"], row["orders"], row["paid_orders"], row["paid_total_idr"]) == (
        "Jl. Kaliurang km 5, Sleman", "2", "1", "385000")
    assert row["last_order_at"].startswith("2026-05-14")
    lines = [json.loads(line) for line in owner_client.get("/admin/export/conversations.jsonl").get_data(
        as_text=True).splitlines()]
    [conversation] = [c for c in lines if c["id"] == first.id]
    [order] = [o for o in conversation["orders"] if o["id"] == paid.id]
    assert (order["status"], order["total"], order["courier"]) == ("paid", 385_000, "jne")
    assert order["items"] == [{"name": "Batik tulis", "variant": "XL", "quantity": 2, "unit_price": 185_000}]
    assert [s["status"] for s in order["steps"]] == ["awaiting_payment", "paid"]
    assert all(c["orders"] == [] for c in lines if c["id"] != first.id)
