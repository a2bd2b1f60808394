from datetime import datetime, timedelta, timezone

from crm.conversations.services import refingerprint
from crm.customers.services import find_customers, merge_customers
from crm.extensions import db
from crm.models import ChannelIdentity, Conversation, Customer, FollowUp, Message


def _new_customer_form(**fields):
    form = {
        "display_name": "Rina Marlina", "notes": "", "assigned_to_id": "0", "stage": "none", "expected_value": "",
        "identities-0-channel": "whatsapp", "identities-0-handle": "0812-3456-7890",
        "identities-1-channel": "instagram", "identities-1-handle": "@Rina.Shop",
    }
    form.update(fields)
    return form


def test_add_a_customer_with_whatsapp_and_instagram(owner_client):
    response = owner_client.post("/customers/new", data=_new_customer_form())
    assert response.status_code == 302
    customer = db.session.execute(db.select(Customer)).scalar_one()
    assert customer.display_name == "Rina Marlina"
    assert {(i.channel, i.handle) for i in customer.identities} == {
        ("whatsapp", "+6281234567890"), ("instagram", "rina.shop")}
    page = owner_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "+62 812-3456-7890" in page and "@rina.shop" in page


def test_a_bad_handle_keeps_everything_typed_and_saves_nothing(owner_client):
    response = owner_client.post("/customers/new", data=_new_customer_form(
        display_name="Rina ☺ <b>", notes="suka warna biru", **{"identities-0-handle": "08x"}))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Not valid" in page
    assert 'value="Rina ☺ &lt;b&gt;"' in page and "suka warna biru" in page and 'value="@Rina.Shop"' in page
    assert db.session.execute(db.select(Customer)).first() is None


def test_one_identity_belongs_to_one_customer(owner_client, make_customer):
    make_customer("Rina", whatsapp="+62 812 3456 7890")
    response = owner_client.post("/customers/new", data=_new_customer_form(display_name="Someone else"))
    assert response.status_code == 400
    rina = db.session.execute(db.select(Customer)).scalar_one()
    assert f'belongs to <a href="/customers/{rina.id}">Rina</a> already' in response.get_data(as_text=True)
    assert db.session.execute(db.select(db.func.count(Customer.id))).scalar() == 1


def test_edit_adds_and_removes_handles(owner_client, make_customer):
    rina = make_customer("Rina", whatsapp="081234567890")
    form = _new_customer_form(display_name="Rina M.", stage="interested", expected_value="350000",
                              **{"identities-0-channel": "tiktok", "identities-0-handle": "@rinam",
                                 "identities-1-handle": ""})
    assert owner_client.post(f"/customers/{rina.id}/edit", data=form).status_code == 302
    rina = db.session.get(Customer, rina.id)
    assert rina.display_name == "Rina M." and rina.stage == "interested" and rina.expected_value == 350000
    assert {i.channel for i in rina.identities} == {"whatsapp", "tiktok"}
    whatsapp_id = next(i.id for i in rina.identities if i.channel == "whatsapp")
    removing = _new_customer_form(display_name="Rina M.", **{
        "identities-0-identity_id": str(whatsapp_id), "identities-0-channel": "whatsapp",
        "identities-0-handle": "+62 812-3456-7890", "identities-0-remove": "y", "identities-1-handle": ""})
    assert owner_client.post(f"/customers/{rina.id}/edit", data=removing).status_code == 302
    assert db.session.execute(db.select(ChannelIdentity).where(ChannelIdentity.id == whatsapp_id)).first() is None


def test_find_a_customer_by_part_of_the_phone_number_however_typed(owner_client, make_customer):
    make_customer("Rina", whatsapp="081234567890")
    make_customer("Budi", whatsapp="081377778888", instagram="budi.batik")
    for typed in ["0812 3456", "812-3456", "+62812 3456", "3456 7890", "rin", "RINA"]:
        assert [c.display_name for c in find_customers(typed)] == ["Rina"], typed
        assert "Rina" in owner_client.get("/customers/", query_string={"q": typed}).get_data(as_text=True)
    assert [c.display_name for c in find_customers("@budi")] == ["Budi"]
    assert [c.display_name for c in find_customers("batik")] == ["Budi"]
    assert find_customers("100%") == [] and find_customers("_") == []


def test_the_list_shows_newest_activity_first_and_pages(app, owner_client, make_customer, chat):
    app.config["PER_PAGE"] = 2
    old, _quiet, busy = make_customer("Old"), make_customer("Quiet"), make_customer("Busy")
    chat(busy, [("customer", "halo")], start=datetime.now(timezone.utc) + timedelta(minutes=5))
    chat(old, [("customer", "lama")], start=datetime(2025, 1, 1, tzinfo=timezone.utc))
    first = owner_client.get("/customers/").get_data(as_text=True)
    assert first.index("Busy") < first.index("Quiet") and "Old<" not in first
    assert "3 customers" in first and '<a href="/customers/?page=2">2</a>' in first
    assert "Old" in owner_client.get("/customers/?page=2").get_data(as_text=True)


def test_customer_page_shows_every_channel_newest_first(owner_client, make_customer, chat):
    rina = make_customer("Rina")
    chat(rina, [("customer", "dari instagram")], channel="instagram", start=datetime(2026, 1, 5, tzinfo=timezone.utc))
    chat(rina, [("customer", "dari whatsapp"), ("staff", "siap kak")], start=datetime(2026, 3, 1, tzinfo=timezone.utc))
    page = owner_client.get(f"/customers/{rina.id}").get_data(as_text=True)
    assert page.index("dari whatsapp") < page.index("dari instagram")
    assert page.index("dari whatsapp") < page.index("siap kak"), "a thread reads oldest first"


def test_chat_content_is_escaped(owner_client, make_customer, chat):
    rina = make_customer("<img src=x onerror=alert(1)>")
    chat(rina, [("customer", "<script>alert('x')</script>")])
    page = owner_client.get(f"/customers/{rina.id}").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "<img src=x" not in page


def test_merge_moves_identities_conversations_and_follow_ups(owner_client, make_customer, chat, owner):
    rina = make_customer("Rina", whatsapp="081234567890", notes="VIP")
    duplicate = make_customer("Rina IG", instagram="rina.shop", notes="suka biru")
    chat(rina, [("customer", "halo dari WA")])
    chat(duplicate, [("customer", "halo dari IG")], channel="instagram")
    db.session.add(FollowUp(customer_id=duplicate.id, due_at=datetime.now(timezone.utc), note="kirim katalog"))
    db.session.commit()

    confirm = owner_client.get(f"/customers/{rina.id}/merge", query_string={"other_id": duplicate.id})
    assert "Rina IG will be merged into Rina" in confirm.get_data(as_text=True)
    response = owner_client.post(f"/customers/{rina.id}/merge", data={"other_id": duplicate.id})
    assert response.status_code == 302

    rina, duplicate = db.session.get(Customer, rina.id), db.session.get(Customer, duplicate.id)
    assert {i.channel for i in rina.identities} == {"whatsapp", "instagram"}
    assert sorted(c.channel for c in rina.conversations) == ["instagram", "whatsapp"]
    assert db.session.execute(db.select(FollowUp.customer_id)).scalar_one() == rina.id
    assert "VIP" in rina.notes and "suka biru" in rina.notes
    assert duplicate.merged_into_id == rina.id, "the merged record stays as a pointer"
    assert owner_client.get(f"/customers/{duplicate.id}").headers["Location"].endswith(f"/customers/{rina.id}")
    assert db.session.execute(db.select(db.func.count(Message.id))).scalar() == 2
    page = owner_client.get("/customers/").get_data(as_text=True)
    assert ">Rina IG</a>" not in page and ">Rina</a>" in page


def test_after_a_merge_relogging_the_same_chat_adds_nothing(make_customer, chat):
    rina = make_customer("Rina")
    duplicate = make_customer("Rina 2")
    start = datetime(2026, 5, 1, 3, 0, tzinfo=timezone.utc)
    chat(duplicate, [("customer", "harga?"), ("staff", "185rb")], start=start)
    merge_customers(rina, duplicate)
    refingerprint(rina)
    db.session.commit()
    conversation = chat(rina, [("customer", "harga?"), ("staff", "185rb")], start=start)
    assert len(conversation.messages) == 2


def test_a_customer_cannot_be_merged_into_itself(owner_client, make_customer):
    rina = make_customer("Rina")
    response = owner_client.post(f"/customers/{rina.id}/merge", data={"other_id": rina.id})
    assert response.status_code == 200 and "Choose another customer" in response.get_data(as_text=True)
    assert db.session.get(Customer, rina.id).merged_into_id is None


def test_conversation_count_of_merge_survivor(make_customer, chat):
    a, b = make_customer("A"), make_customer("B")
    chat(a, [("customer", "x")])
    chat(b, [("customer", "y")])
    merge_customers(a, b)
    db.session.commit()
    assert db.session.execute(
        db.select(db.func.count(Conversation.id)).where(Conversation.customer_id == a.id)).scalar() == 2
