"""The customer list: every filter, every order, the total and page numbers, and every bulk action (audited;
deleting goes through the trash)."""
import re
from datetime import date, datetime, timedelta, timezone

import pytest

from crm.extensions import db
from crm.kept import drift
from crm.models import AuditEvent, ConversationTag, Customer, FollowUp, Order, Tag
from crm.orders.services import sales_between
from crm.today.queue import shop_day
from crm.today.services import add_follow_up, record_sale


def now():
    return datetime.now(timezone.utc)


def names(page: str) -> list[str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    return re.findall(r'<th scope="row"><a href="/customers/\d+">([^<]+)</a>', body)


@pytest.fixture
def shop(app, make_customer, chat, owner, staff):
    """Five customers who differ in every way the list can filter or order by."""
    rina = make_customer("Rina", whatsapp="081211110001")
    dewi = make_customer("Dewi", instagram="dewi.shop")
    sari = make_customer("Sari", whatsapp="081211110003")
    tono = make_customer("Tono")
    ayu = make_customer("Ayu", instagram="ayu.jkt")
    rina.stage, rina.expected_value, rina.assigned_to_id = "negotiating", 450_000, staff.id
    dewi.stage, dewi.expected_value, dewi.assigned_to_id = "interested", 1_200_000, owner.id
    sari.stage, sari.expected_value = "won", 150_000
    db.session.commit()
    chat(rina, [("customer", "Harga gamis L brp? mau order 2")], start=now() - timedelta(hours=2))
    chat(dewi, [("customer", "ongkir ke Bandung?"), ("staff", "20rb kak")], channel="instagram",
         start=now() - timedelta(days=3))
    chat(sari, [("customer", "halo"), ("staff", "halo kak")], start=now() - timedelta(days=40))
    chat(tono, [("customer", "kak ready?"), ("staff", "ready")], channel="tiktok", start=now() - timedelta(days=10))
    add_follow_up(dewi, due_at=now() + timedelta(days=1), has_time=False)
    record_sale(db.session.get(Customer, sari.id), amount=150_000, sold_on=shop_day().today, channel="whatsapp")
    record_sale(db.session.get(Customer, tono.id), amount=90_000, sold_on=date(2025, 1, 10), channel="tiktok")
    db.session.commit()
    # Ayu: no chat at all, created now.
    return {"rina": rina, "dewi": dewi, "sari": sari, "tono": tono, "ayu": ayu}


def test_the_default_order_is_last_activity_with_a_total(shop, staff_client):
    page = staff_client.get("/customers/").get_data(as_text=True)
    assert names(page) == ["Ayu", "Rina", "Dewi", "Tono", "Sari"]
    assert "5 customers" in page


@pytest.mark.parametrize("query, expected", [
    ("stage=negotiating", ["Rina"]),
    ("channel=instagram", ["Ayu", "Dewi"]),  # a handle on it, or a chat on it
    ("channel=tiktok", ["Tono"]),
    ("tag=price", ["Rina"]),
    ("tag=shipping", ["Dewi"]),
    ("assigned=none", ["Ayu", "Tono", "Sari"]),
    ("waiting=y", ["Rina"]),
    ("quiet=7", ["Tono", "Sari"]),
    ("quiet=30", ["Sari"]),
    ("follow_up=y", ["Dewi"]),
    ("won=this_month", ["Sari"]),
    ("won=last_90", ["Sari"]),
    ("q=081211110003", ["Sari"]),
    ("channel=instagram&assigned=me", []),
    ("stage=nonsense&channel=pigeon&quiet=abc&sort=evil", ["Ayu", "Rina", "Dewi", "Tono", "Sari"]),
])
def test_each_filter(shop, staff_client, query, expected):
    response = staff_client.get(f"/customers/?{query}")
    assert response.status_code == 200
    assert names(response.get_data(as_text=True)) == expected


def test_assigned_to_me_and_to_someone(shop, staff_client, owner, staff):
    assert names(staff_client.get("/customers/?assigned=me").get_data(as_text=True)) == ["Rina"]
    assert names(staff_client.get(f"/customers/?assigned={owner.id}").get_data(as_text=True)) == ["Dewi"]


def test_a_tag_removed_by_hand_does_not_count(shop, staff_client, owner):
    from crm.models import Conversation
    from crm.needs.tagging import remove_tag_by_hand

    price = db.session.execute(db.select(Tag).where(Tag.name == "price")).scalar_one()
    conversation = db.session.execute(db.select(Conversation).where(Conversation.customer_id == shop["rina"].id)
                                      ).scalar_one()
    remove_tag_by_hand(conversation, price, owner.id)
    db.session.commit()
    assert names(staff_client.get("/customers/?tag=price").get_data(as_text=True)) == []


@pytest.mark.parametrize("query, expected", [
    ("sort=name", ["Ayu", "Dewi", "Rina", "Sari", "Tono"]),
    ("sort=name&dir=desc", ["Tono", "Sari", "Rina", "Dewi", "Ayu"]),
    ("sort=value", ["Dewi", "Rina", "Sari", "Ayu", "Tono"]),  # no expected value last, either way
    ("sort=value&dir=asc", ["Sari", "Rina", "Dewi", "Tono", "Ayu"]),
    # Customer since: their first message (chats typed in as of days ago), or when added (Ayu, no chat).
    ("sort=since", ["Ayu", "Rina", "Dewi", "Tono", "Sari"]),
    ("sort=since&dir=asc", ["Sari", "Tono", "Dewi", "Rina", "Ayu"]),
    ("sort=activity&dir=asc", ["Sari", "Tono", "Dewi", "Rina", "Ayu"]),
])
def test_each_order(shop, staff_client, query, expected):
    assert names(staff_client.get(f"/customers/?{query}").get_data(as_text=True)) == expected


def test_order_by_score(shop, staff_client):
    page = staff_client.get("/customers/?sort=score").get_data(as_text=True)
    scores = {customer.display_name: customer.score for customer in db.session.execute(db.select(Customer)).scalars()}
    assert names(page)[0] == "Rina" and scores["Rina"] > scores["Dewi"] > 0
    assert [scores[name] for name in names(page)] == sorted(scores.values(), reverse=True)


def test_filters_stay_in_the_links_the_page_gives(app, shop, staff_client):
    app.config["PER_PAGE"] = 2
    page = staff_client.get("/customers/?assigned=none&sort=name").get_data(as_text=True)
    assert names(page) == ["Ayu", "Sari"] and "3 customers match" in page
    assert 'href="/customers/?page=2&amp;assigned=none&amp;sort=name"' in page
    assert 'href="/customers/?assigned=none&amp;sort=name&amp;dir=desc"' in page, "the header turns the order"
    assert names(staff_client.get("/customers/?assigned=none&sort=name&page=2").get_data(as_text=True)) == ["Tono"]
    assert staff_client.get("/customers/?page=99").status_code == 200


def ids_of(*customers):
    return [customer.id for customer in customers]


def test_bulk_assign_and_stage_are_audited_per_customer_and_as_one_action(shop, staff_client, staff):
    rina, tono, ayu = shop["rina"], shop["tono"], shop["ayu"]
    response = staff_client.post("/customers/bulk", data={
        "action": "assign", "assign_to": staff.id, "ids": ids_of(rina, tono, ayu), "next": "/customers/?sort=name"})
    assert response.status_code == 302 and response.headers["Location"] == "/customers/?sort=name"
    assert {c.assigned_to_id for c in db.session.execute(
        db.select(Customer).where(Customer.id.in_(ids_of(rina, tono, ayu)))).scalars()} == {staff.id}
    event = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "bulk_assign")).scalar_one()
    assert [c["name"] for c in event.details["customers"]] == ["Tono", "Ayu"] and event.details["skipped"] == 1
    edits = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "edit")).scalars().all()
    assert sorted(e.summary for e in edits) == ["Ayu", "Tono"]

    staff_client.post("/customers/bulk", data={"action": "stage", "stage": "interested",
                                               "ids": ids_of(tono, ayu), "next": "/customers/"})
    assert {db.session.get(Customer, i).stage for i in ids_of(tono, ayu)} == {"interested"}
    assert db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "bulk_stage")).scalar_one()
    stages = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "stage")).scalars().all()
    assert sorted((e.summary, e.details["changed"]["stage"][1]) for e in stages) == \
        [("Ayu", "interested"), ("Tono", "interested")], "one event per customer, not two"
    assert len(db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "edit")).scalars().all()) == 2, \
        "only the two assignments"


def test_bulk_won_records_a_sale_of_unknown_amount_for_each(shop, staff_client):
    rina, tono, ayu = shop["rina"], shop["tono"], shop["ayu"]
    staff_client.post("/customers/bulk", data={"action": "stage", "stage": "won", "ids": ids_of(rina, tono, ayu)})
    today = shop_day().today
    sales = db.session.execute(sales_between(today, today).where(  # a sale is a paid order (crm.orders)
        Order.customer_id.in_(ids_of(rina, tono, ayu)))).scalars().all()
    assert sorted((s.customer_id, s.total) for s in sales) == [(rina.id, None), (ayu.id, None)], \
        "Tono is won already"
    assert [s.channel for s in sales if s.customer_id == rina.id] == ["whatsapp"]
    assert {db.session.get(Customer, i).stage for i in ids_of(rina, tono, ayu)} == {"won"}
    events = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "sale",
                                                            AuditEvent.summary.in_(["Ayu", "Rina"]))).scalars().all()
    assert sorted((e.summary, e.details["amount"], e.details["changed"]["stage"][1]) for e in events) == \
        [("Ayu", None, "won"), ("Rina", None, "won")]
    assert db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "bulk_stage")).scalar_one()


def test_bulk_tag_goes_on_the_latest_conversation(shop, staff_client):
    reseller = db.session.execute(db.select(Tag).where(Tag.name == "reseller")).scalar_one()
    staff_client.post("/customers/bulk", data={"action": "tag", "tag_id": reseller.id,
                                               "ids": ids_of(shop["rina"], shop["ayu"])})
    assert names(staff_client.get("/customers/?tag=reseller").get_data(as_text=True)) == ["Rina"]
    row = db.session.execute(db.select(ConversationTag).where(ConversationTag.tag_id == reseller.id)).scalar_one()
    assert row.source == "manual"
    event = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "bulk_tag")).scalar_one()
    assert event.details["tag"] == "reseller" and event.details["skipped"] == 1, "Ayu has no conversation"


def test_bulk_follow_up(shop, staff_client, staff):
    staff_client.post("/customers/bulk", data={"action": "follow_up", "when": "3d",
                                               "ids": ids_of(shop["tono"], shop["rina"])})
    follow_ups = db.session.execute(db.select(FollowUp).where(FollowUp.done_at.is_(None))).scalars().all()
    mine = {f.customer_id: f for f in follow_ups}
    assert set(mine) == set(ids_of(shop["tono"], shop["rina"], shop["dewi"]))
    assert mine[shop["rina"].id].assigned_to_id == staff.id, "Rina is assigned to the staff member"
    assert mine[shop["tono"].id].due_at.astimezone(shop_day().start.tzinfo).date() == \
        shop_day().today + timedelta(days=3)
    assert names(staff_client.get("/customers/?follow_up=y").get_data(as_text=True)) == ["Rina", "Dewi", "Tono"]


def test_bulk_trash_goes_through_the_trash(shop, staff_client, owner_client):
    response = staff_client.post("/customers/bulk", data={"action": "trash", "ids": ids_of(shop["dewi"], shop["tono"])})
    assert response.status_code == 302
    assert names(staff_client.get("/customers/").get_data(as_text=True)) == ["Ayu", "Rina", "Sari"]
    trash = owner_client.get("/trash").get_data(as_text=True)
    assert "Dewi" in trash and "Tono" in trash
    deletes = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "delete")).scalars().all()
    assert sorted(e.summary for e in deletes) == ["Dewi", "Tono"]
    assert db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "bulk_trash")).scalar_one()
    assert drift() == []


def test_bulk_needs_a_pick_a_token_and_a_known_action(shop, staff_client):
    response = staff_client.post("/customers/bulk", data={"action": "trash", "next": "/customers/"},
                                 follow_redirects=True)
    assert "Pick the customers first" in response.get_data(as_text=True)
    assert staff_client.post("/customers/bulk", data={"action": "explode", "ids": [shop["rina"].id]}
                             ).status_code == 400
    assert staff_client.post("/customers/bulk", data={"action": "trash", "ids": [shop["rina"].id]}, csrf=False
                             ).status_code == 400
    assert db.session.get(Customer, shop["rina"].id).deleted_at is None
    response = staff_client.post("/customers/bulk", data={"action": "trash", "ids": [shop["rina"].id],
                                                          "next": "https://evil.example/"})
    assert response.headers["Location"].startswith("/")


def test_a_customer_trashed_meanwhile_is_left_alone(shop, staff_client, owner_client):
    owner_client.post(f"/customers/{shop['rina'].id}/delete")
    response = staff_client.post("/customers/bulk", data={"action": "stage", "stage": "lost",
                                                          "ids": ids_of(shop["rina"], shop["ayu"])},
                                 follow_redirects=True)
    assert "1 was left as it was" in response.get_data(as_text=True)
    assert db.session.get(Customer, shop["rina"].id).stage == "negotiating"
