"""What lists keep (crm/kept.py) cannot drift: after every kind of change, a rebuild from the rows themselves
finds nothing different."""
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from crm.admin.trash import move_to_trash, purge_expired, restore
from crm.conversations.importing import import_path
from crm.conversations.services import NewMessage, log_chat
from crm.customers.services import merge_customers
from crm.extensions import db
from crm.kept import drift, refresh_due, settle
from crm.models import Conversation, Customer, DailyFigures, Message, Tag
from crm.needs.tagging import add_tag_by_hand, remove_tag_by_hand
from crm.today.queue import prospect_scores, shop_day
from crm.today.services import add_follow_up, mark_done, record_sale, set_stage

SAMPLES = Path(__file__).parent / "fixtures" / "samples"


def now():
    """The test's clock: conftest's autouse `clock` travels to TEST_NOW (OBROLAN_TEST_NOW) for every test."""
    return datetime.now(timezone.utc)


def kept_of(customer):
    db.session.expire_all()
    return db.session.get(Customer, customer.id)


@pytest.fixture
def shop(app, make_customer, chat, owner, staff):
    rina = make_customer("Rina", whatsapp="081211110001")
    dewi = make_customer("Dewi", instagram="dewi.shop")
    chat(rina, [("customer", "Harga gamis L brp kak?"), ("staff", "185rb kak"), ("customer", "mau order 2")],
         start=now() - timedelta(days=2), logged_by=staff)
    chat(dewi, [("customer", "ongkir ke Bandung?"), ("staff", "20rb"), ("customer", "makasih kak 🙏")],
         channel="instagram", start=now() - timedelta(hours=5), logged_by=owner)
    return {"rina": rina, "dewi": dewi}


def test_a_new_shop_and_a_shop_with_chats_have_nothing_to_fix(shop):
    assert drift() == []
    rina = kept_of(shop["rina"])
    conversation = db.session.execute(db.select(Conversation).where(Conversation.customer_id == rina.id)).scalar()
    assert rina.last_activity_at == conversation.last_message_at
    assert rina.waiting_since == conversation.waiting_since == conversation.last_message_at
    assert rina.first_contact_at == conversation.first_message_at and rina.first_conversation_id == conversation.id
    assert rina.score == prospect_scores([rina], shop_day())[rina.id].total > 0


def test_logging_deleting_and_restoring_messages(shop, owner):
    rina = shop["rina"]
    conversation = db.session.execute(db.select(Conversation).where(Conversation.customer_id == rina.id)).scalar()
    result = log_chat(rina, "whatsapp", [NewMessage(now() - timedelta(minutes=5), "staff", "siap kak, ditunggu")],
                      logged_by_id=owner.id, conversation=conversation)
    db.session.commit()
    assert drift() == [] and kept_of(rina).waiting_since is None
    message = db.session.get(Message, result.added[0].id)
    move_to_trash(message)
    db.session.commit()
    assert drift() == [] and kept_of(rina).waiting_since is not None
    restore(db.session.get(Message, message.id))
    db.session.commit()
    assert drift() == [] and kept_of(rina).waiting_since is None


def test_trash_restore_and_purge_of_conversations_and_customers(shop, clock):
    rina, dewi = shop["rina"], shop["dewi"]
    conversation = db.session.execute(db.select(Conversation).where(Conversation.customer_id == rina.id)).scalar()
    move_to_trash(conversation)
    db.session.commit()
    assert drift() == []
    assert kept_of(rina).last_activity_at == kept_of(rina).created_at and kept_of(rina).score == 0
    restore(db.session.get(Conversation, conversation.id))
    move_to_trash(db.session.get(Customer, dewi.id))
    db.session.commit()
    assert drift() == []
    assert db.session.execute(db.select(db.func.sum(DailyFigures.conversations))).scalar() == 1
    restore(db.session.get(Customer, dewi.id))
    db.session.commit()
    assert drift() == []
    move_to_trash(db.session.get(Customer, dewi.id))
    db.session.commit()
    clock.shift(timedelta(days=31))
    purge_expired()
    db.session.commit()
    assert drift() == []


def test_merging_moves_everything_kept(shop, make_customer, chat):
    rina, dewi = shop["rina"], shop["dewi"]
    merge_customers(db.session.get(Customer, rina.id), db.session.get(Customer, dewi.id))
    db.session.commit()
    assert drift() == []
    survivor = kept_of(rina)
    assert survivor.first_contact_at < now() - timedelta(days=1), "Rina's first chat, two days ago"


def test_imports_stage_tags_follow_ups_and_sales(shop, owner, make_customer):
    summary = import_path(SAMPLES / "whatsapp-android-id.txt", me=["Toko Batik Sari"], logged_by_id=owner.id)
    db.session.commit()
    assert summary.messages_imported > 0 and drift() == []

    rina = db.session.get(Customer, shop["rina"].id)
    set_stage(rina, "negotiating", 450_000)
    follow_up = add_follow_up(rina, due_at=now() + timedelta(hours=2), has_time=True)
    db.session.commit()
    assert drift() == []
    mark_done(follow_up)
    record_sale(rina, amount=370_000, sold_on=shop_day().today, channel="whatsapp")
    db.session.commit()
    assert drift() == [] and kept_of(rina).score == 0, "won: no longer a prospect"

    conversation = db.session.execute(db.select(Conversation).where(Conversation.customer_id == rina.id)).scalar()
    price = db.session.execute(db.select(Tag).where(Tag.name == "price")).scalar_one()
    reseller = db.session.execute(db.select(Tag).where(Tag.name == "reseller")).scalar_one()
    remove_tag_by_hand(conversation, price, owner.id)
    add_tag_by_hand(conversation, reseller, owner.id)
    db.session.commit()
    assert drift() == []


def test_a_score_changes_with_time_alone_and_is_refreshed_when_it_does(shop, clock, make_customer):
    rina = kept_of(shop["rina"])
    before, changes_at = rina.score, rina.score_changes_at
    assert changes_at is not None and changes_at > now()
    clock.move_to(changes_at + timedelta(seconds=1))
    assert prospect_scores([rina], shop_day())[rina.id].total < before == kept_of(rina).score
    assert refresh_due() >= 1
    db.session.commit()
    assert drift() == [] and kept_of(rina).score < before

    late = make_customer("Late")
    add_follow_up(late, due_at=now() + timedelta(hours=1), has_time=True)
    db.session.commit()
    assert kept_of(late).score == 0
    clock.shift(timedelta(hours=1, seconds=1))
    refresh_due()
    db.session.commit()
    assert kept_of(late).score == 10 and drift() == [], "the follow-up is overdue now"


def test_a_rolled_back_change_leaves_nothing_marked(shop, owner):
    rina = db.session.get(Customer, shop["rina"].id)
    rina.stage = "won"
    db.session.flush()
    db.session.rollback()
    settle()
    assert db.session.info.get("kept_customers") in (None, set())
    assert drift() == []


def test_changes_made_straight_on_the_rows_are_kept_too(shop):
    """Tests and scripts set columns by hand; the flush marks them all the same."""
    rina = db.session.get(Customer, shop["rina"].id)
    conversation = db.session.execute(db.select(Conversation).where(Conversation.customer_id == rina.id)).scalar()
    conversation.deleted_at = now()
    rina.stage = "interested"
    db.session.commit()
    assert drift() == []
    assert kept_of(rina).waiting_since is None


def test_a_message_asking_for_a_review_is_flagged_as_it_is_written(shop, owner):
    result = log_chat(shop["rina"], "whatsapp", [
        NewMessage(now() - timedelta(minutes=6), "customer", "review nya bagus2 kak"),
        NewMessage(now() - timedelta(minutes=5), "staff", "Boleh minta ulasannya kak 🙏"),
    ], logged_by_id=owner.id)
    db.session.commit()
    assert [m.asks_for_review for m in result.added] == [False, True], "ours only"
    assert drift() == []
    db.session.execute(db.update(Message).where(Message.id == result.added[1].id).values(asks_for_review=False))
    assert drift() == [f"messages asking for a review {result.added[1].id}: kept None, rebuilt True"]


def test_report_days_are_the_shops_days(app, make_customer, chat):
    rina = make_customer("Rina")
    # 23:30 on 31 October in Jakarta is 16:30 UTC: October's.
    chat(rina, [("customer", "halo")], start=datetime(2026, 10, 31, 16, 30, tzinfo=timezone.utc))
    days = db.session.execute(db.select(DailyFigures.day, DailyFigures.customer_messages)).all()
    assert days == [(date(2026, 10, 31), 1)]


def test_handles_and_deleted_tags_keep_the_list_facets_right(shop, owner_client):
    from crm.models import CustomerFacet

    dewi = shop["dewi"]
    owner_client.post(f"/customers/{dewi.id}/edit", data={
        "display_name": "Dewi", "stage": "none", "assigned_to_id": 0,
        "identities-0-channel": "tiktok", "identities-0-handle": "dewi.tiktok"})
    facets = set(db.session.execute(db.select(CustomerFacet.facet).where(CustomerFacet.customer_id == dewi.id))
                 .scalars())
    assert {"channel:instagram", "channel:tiktok", "tag:%d" % db.session.execute(
        db.select(Tag.id).where(Tag.name == "shipping")).scalar()} <= facets
    assert drift() == []
    shipping = db.session.execute(db.select(Tag.id).where(Tag.name == "shipping")).scalar_one()
    assert owner_client.post(f"/tags/{shipping}/delete").status_code in (302, 303)
    assert db.session.get(Tag, shipping) is None
    assert drift() == []


def test_customer_since_is_their_first_message_or_when_they_were_added(shop, owner, make_customer, chat, clock,
                                                                       staff_client):
    rina, dewi = shop["rina"], shop["dewi"]
    assert kept_of(rina).since_at == kept_of(rina).first_contact_at < kept_of(rina).created_at
    ayu = make_customer("Ayu")
    db.session.commit()
    assert kept_of(ayu).since_at == kept_of(ayu).created_at, "no chat yet: when she was added"
    clock.shift(timedelta(hours=3))
    chat(ayu, [("customer", "halo kak")])
    assert kept_of(ayu).since_at == kept_of(ayu).created_at, "her first chat came after she was added"

    summary = import_path(SAMPLES / "whatsapp-android-id.txt", me=["Toko Batik Sari"], logged_by_id=owner.id)
    db.session.commit()
    imported = db.session.get(Conversation, summary.conversation_ids[0]).customer
    first = db.session.execute(db.select(db.func.min(Conversation.first_message_at))
                               .where(Conversation.customer_id == imported.id)).scalar()
    assert summary.messages_imported and kept_of(imported).since_at == first < kept_of(imported).created_at
    page = staff_client.get(f"/customers/{imported.id}").get_data(as_text=True)
    assert f'<time datetime="{first.isoformat()}">' in page, "the customer page says the same"

    rina_since = kept_of(rina).since_at
    merge_customers(db.session.get(Customer, dewi.id), db.session.get(Customer, rina.id))
    db.session.commit()
    assert kept_of(dewi).since_at == rina_since, "the survivor is a customer since Rina's first chat"
    conversation = db.session.execute(db.select(Conversation).where(Conversation.customer_id == dewi.id)
                                      .order_by(Conversation.first_message_at).limit(1)).scalar_one()
    move_to_trash(conversation)
    db.session.commit()
    assert kept_of(dewi).since_at > conversation.first_message_at
    restore(db.session.get(Conversation, conversation.id))
    db.session.commit()
    assert kept_of(dewi).since_at == conversation.first_message_at and drift() == []
