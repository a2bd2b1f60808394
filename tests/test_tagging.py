"""Need tags: set from the customer's words with a reason, changed by hand, kept by hand, re-run by the owner."""
from datetime import datetime, timedelta, timezone

import pytest

from crm.conversations.services import NewMessage, log_chat
from crm.extensions import db
from crm.models import ConversationTag, Message, Tag
from crm.needs.matching import STARTER_TAGS
from crm.needs.tagging import (
    add_tag_by_hand,
    ensure_starter_tags,
    remove_tag_by_hand,
    retag_all,
    starter_tag_rows,
    tags_of,
)

GAMIS = "Kak, harga gamis ukuran L berapa? bisa COD ke Bandung?"


def tag(name: str) -> Tag:
    return db.session.execute(db.select(Tag).where(Tag.name == name)).scalar_one()


def active(conversation) -> dict[str, ConversationTag]:
    rows = db.session.execute(
        db.select(ConversationTag).where(ConversationTag.conversation_id == conversation.id,
                                         ConversationTag.removed_at.is_(None))
    ).scalars()
    return {row.tag.name: row for row in rows}


def test_a_new_shop_has_the_starter_tags(app):
    tags = db.session.execute(db.select(Tag).order_by(Tag.id)).scalars().all()
    assert [t.name for t in tags] == [t.name for t in STARTER_TAGS]
    price = tag("price")
    assert price.title == "Price" and price.kind == "need" and "brp" in price.keywords.split("\n")
    assert starter_tag_rows()[0]["keywords"] == price.keywords


def test_logging_the_gamis_question_tags_price_product_and_shipping_each_with_its_reason(make_customer, chat):
    rina = make_customer("Rina")
    conversation = chat(rina, [("customer", GAMIS), ("staff", "Ready kak, 185rb. COD bisa")])
    tags = active(conversation)
    assert set(tags) == {"price", "product", "shipping"}
    question = db.session.execute(db.select(Message).where(Message.body == GAMIS)).scalar_one()
    assert {name: (row.source, row.reason_message_id, row.reason_word, row.reason_keyword)
            for name, row in tags.items()} == {
        "price": ("auto", question.id, "harga", "harga"),
        "product": ("auto", question.id, "ukuran", "ukuran"),
        "shipping": ("auto", question.id, "COD", "cod"),
    }


def test_harganya_brp_is_a_price_question(make_customer, chat):
    conversation = chat(make_customer("Dewi"), [("customer", "Harganya brp?")])
    assert active(conversation)["price"].reason_word == "Harganya"


def test_only_the_customers_own_words_count(make_customer, chat):
    conversation = chat(make_customer("Dewi"), [("customer", "Halo kak"), ("staff", "Harga 185rb, ongkir 10rb")])
    assert active(conversation) == {}


def test_labels_are_never_set_by_the_rules(make_customer, chat):
    db.session.add(Tag(name="vip", title="VIP", kind="label", keywords="halo"))
    db.session.commit()
    conversation = chat(make_customer("Dewi"), [("customer", "halo kak")])
    assert active(conversation) == {}


def test_a_tag_removed_by_hand_stays_removed_after_retag(runner, make_customer, chat, staff):
    conversation = chat(make_customer("Rina"), [("customer", GAMIS)])
    remove_tag_by_hand(conversation, tag("price"), staff.id)
    db.session.commit()
    result = runner.invoke(args=["retag"])
    assert result.exit_code == 0 and "Re-tagged 1 conversations" in result.output
    db.session.expire_all()
    assert set(active(conversation)) == {"product", "shipping"}
    # More price talk in the same conversation does not bring it back either.
    log_chat(conversation.customer, "whatsapp", [NewMessage(datetime.now(timezone.utc), "customer", "brp kak?")],
             logged_by_id=None, conversation=conversation)
    db.session.commit()
    assert "price" not in active(conversation)


def test_a_tag_added_by_hand_stays_when_no_rule_finds_it(make_customer, chat, staff):
    conversation = chat(make_customer("Rina"), [("customer", "Halo kak")])
    add_tag_by_hand(conversation, tag("reseller"), staff.id)
    db.session.commit()
    retag_all()
    db.session.commit()
    row = active(conversation)["reseller"]
    assert row.source == "manual" and row.created_by_id == staff.id and row.reason_word is None


def test_a_removed_tag_can_be_added_back_by_hand(make_customer, chat, staff):
    conversation = chat(make_customer("Rina"), [("customer", GAMIS)])
    remove_tag_by_hand(conversation, tag("price"), staff.id)
    add_tag_by_hand(conversation, tag("price"), staff.id)
    db.session.commit()
    assert active(conversation)["price"].source == "manual"


def test_retag_follows_changed_rules(make_customer, chat):
    conversation = chat(make_customer("Rina"), [("customer", "mau tanya soal gamis motif parang")])
    assert set(active(conversation)) == {"product"}  # "motif"
    product, reseller = tag("product"), tag("reseller")
    product.keywords = "\n".join(k for k in product.keywords.split("\n") if k != "motif")
    reseller.keywords += "\nparang"
    db.session.commit()
    assert retag_all() == 1
    db.session.commit()
    assert {name: row.reason_word for name, row in active(conversation).items()} == {"reseller": "parang"}


def test_older_messages_logged_later_move_the_reason_to_the_first_match(make_customer, chat):
    now = datetime.now(timezone.utc)
    rina = make_customer("Rina")
    conversation = chat(rina, [("customer", "brp kak?")], start=now - timedelta(minutes=5))
    log_chat(rina, "whatsapp", [NewMessage(now - timedelta(minutes=30), "customer", "Harga gamis L?")],
             logged_by_id=None, conversation=conversation)
    db.session.commit()
    assert active(conversation)["price"].reason_word == "Harga"


def test_deleting_a_message_drops_the_tag_it_alone_gave(make_customer, chat):
    conversation = chat(make_customer("Rina"), [("customer", "brp kak?"), ("customer", "makasih")])
    message = db.session.execute(db.select(Message).where(Message.body == "brp kak?")).scalar_one()
    message.deleted_at = datetime.now(timezone.utc)
    retag_all([conversation.id])
    db.session.commit()
    assert active(conversation) == {}


def test_ensure_starter_tags_adds_back_only_missing_ones(app):
    db.session.delete(tag("complaint"))
    tag("price").title = "Harga dulu"
    db.session.commit()
    added = ensure_starter_tags()
    db.session.commit()
    assert [t.name for t in added] == ["complaint"]
    assert tag("price").title == "Harga dulu"


def test_tags_of_reads_many_conversations_in_one_go(make_customer, chat):
    first = chat(make_customer("Rina"), [("customer", GAMIS)])
    second = chat(make_customer("Dewi"), [("customer", "mau retur, barangnya rusak")])
    shown = tags_of([first.id, second.id], with_reasons=True)
    assert [s.tag.name for s in shown[second.id]] == ["complaint"]
    assert shown[first.id][0].message.body == GAMIS
    before, word, after = next(s for s in shown[first.id] if s.tag.name == "shipping").excerpt()
    assert (before, word, after) == ("Kak, harga gamis ukuran L berapa? bisa ", "COD", " ke Bandung?")


# --- through the pages ---------------------------------------------------------------------------------


def test_conversation_page_shows_each_tag_with_the_word_and_message(staff_client, make_customer, chat):
    conversation = chat(make_customer("Rina"), [("customer", "Harganya brp? <b>kak</b>")])
    page = staff_client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert "“Harganya” in" in page and "(rule: harga)" in page
    assert "<mark>Harganya</mark> brp? &lt;b&gt;kak&lt;/b&gt;" in page


def test_staff_add_and_remove_tags_on_a_conversation(staff_client, make_customer, chat, staff):
    conversation = chat(make_customer("Rina"), [("customer", GAMIS)])
    response = staff_client.post(f"/conversations/{conversation.id}/tags", data={"tag_id": tag("reseller").id})
    assert response.status_code == 302
    response = staff_client.post(f"/conversations/{conversation.id}/tags/{tag('price').id}/remove")
    assert response.status_code == 302
    assert set(active(conversation)) == {"product", "shipping", "reseller"}
    page = staff_client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert "added by Budi Staff" in page and "not added back by the rules: Price" in page


def test_adding_an_unknown_tag_answers_400(staff_client, make_customer, chat):
    conversation = chat(make_customer("Rina"), [("customer", "halo")])
    response = staff_client.post(f"/conversations/{conversation.id}/tags", data={"tag_id": "9999"})
    assert response.status_code == 400 and "Choose a tag to add" in response.get_data(as_text=True)


def test_staff_cannot_edit_tags(staff_client):
    assert staff_client.get("/tags").status_code == 403
    assert staff_client.post("/tags/retag").status_code == 403


def test_owner_edits_rules_and_retags_from_the_ui(owner_client, make_customer, chat):
    conversation = chat(make_customer("Rina"), [("customer", "gamis motif parang ada?")])
    reseller = tag("reseller")
    form = {"title": "Reseller", "colour": reseller.colour, "kind": "need",
            "keywords": reseller.keywords + "\nParang?, ,parang"}
    response = owner_client.post(f"/tags/{reseller.id}/edit", data=form)
    assert response.status_code == 302
    assert tag("reseller").keywords.split("\n")[-1] == "parang"
    assert "reseller" not in active(conversation)
    response = owner_client.post("/tags/retag", follow_redirects=True)
    assert "1 conversation re-tagged" in response.get_data(as_text=True)
    assert active(conversation)["reseller"].reason_word == "parang"


def test_owner_adds_a_tag_and_a_mistake_keeps_what_was_typed(owner_client, make_customer, chat):
    response = owner_client.post("/tags/new", data={"title": "", "colour": "#db2777", "kind": "need",
                                                    "keywords": "kado, hampers"})
    assert response.status_code == 400 and "kado, hampers" in response.get_data(as_text=True)
    response = owner_client.post("/tags/new", data={"title": "Gift wrap", "colour": "#db2777", "kind": "need",
                                                    "keywords": "kado, hampers\nGift"})
    assert response.status_code == 302
    gift = tag("gift-wrap")
    assert gift.keywords == "kado\nhampers\ngift"
    conversation = chat(make_customer("Rina"), [("customer", "bisa dibungkus kado kak?")])
    assert active(conversation)["gift-wrap"].reason_word == "kado"


def test_owner_deletes_a_tag_everywhere(owner_client, make_customer, chat):
    conversation = chat(make_customer("Rina"), [("customer", GAMIS)])
    assert owner_client.post(f"/tags/{tag('price').id}/delete").status_code == 302
    assert set(active(conversation)) == {"product", "shipping"}
    assert owner_client.post("/tags/restore").status_code == 302
    assert tag("price").keywords


@pytest.mark.parametrize("language, title", [("en", "Shipping"), ("id", "Pengiriman")])
def test_starter_tag_titles_follow_the_readers_language(client, staff, make_customer, chat, language, title):
    conversation = chat(make_customer("Rina"), [("customer", "ongkir ke Medan?")])
    client.login(staff.email)
    page = client.get(f"/conversations/{conversation.id}", headers={"Accept-Language": language})
    assert f'data-tag="shipping">{title}' in page.get_data(as_text=True)
