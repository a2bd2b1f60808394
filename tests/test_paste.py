"""Paste to log: preview, fix who is who, save once."""
from crm.extensions import db
from crm.models import Conversation, Customer, Message

COPIED = (
    "[10.00, 09/05/2026] Dewi Lestari: Permisi kak, tas rotan masih ada?\n"
    "[10.04, 09/05/2026] Kerajinan Bu Ani: Masih ada kak, tinggal 3 😊\n"
    "[10.05, 09/05/2026] Dewi Lestari: Harganya berapa? <script>alert(1)</script>\n"
    "Bisa kirim ke Surabaya?\n"
)


def _form(**fields):
    return {"channel": "whatsapp", "pasted": COPIED, "new_customer_name": "", "new_customer_handle": "", **fields}


def test_preview_shows_messages_sides_and_the_customer(owner_client):
    response = owner_client.post("/conversations/log/preview", data=_form(), headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert "3 messages" in page and "Dewi Lestari" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert "Which name in the chat is the shop?" in page
    fixed = owner_client.post("/conversations/log/preview", headers={"HX-Request": "true"}, data=_form(**{
        "author-0": "Dewi Lestari", "side-0": "customer", "author-1": "Kerajinan Bu Ani", "side-1": "staff"}))
    page = fixed.get_data(as_text=True)
    assert "new customer" in page and "<strong>Dewi Lestari</strong>" in page
    assert 'data-tag="price"' in page and 'data-tag="product"' in page, "Harganya berapa / masih ada"
    assert db.session.execute(db.select(Message)).first() is None, "a preview saves nothing"


def test_save_pasted_chat_then_paste_again_adds_nothing(owner_client, owner):
    sides = {"author-0": "Dewi Lestari", "side-0": "customer", "author-1": "Kerajinan Bu Ani", "side-1": "staff"}
    response = owner_client.post("/conversations/log", data=_form(**sides))
    assert response.status_code == 302
    conversation = db.session.execute(db.select(Conversation)).scalar_one()
    assert response.headers["Location"].endswith(f"/conversations/{conversation.id}")
    assert conversation.customer.display_name == "Dewi Lestari" and conversation.logged_by_id == owner.id
    bodies = [(m.side, m.body) for m in conversation.messages]
    assert bodies[1] == ("staff", "Masih ada kak, tinggal 3 😊")
    assert bodies[2][1].endswith("Bisa kirim ke Surabaya?")

    # The shop's name is remembered for WhatsApp: the next paste needs no choice.
    later = COPIED + "[10.09, 09/05/2026] Kerajinan Bu Ani: Bisa kak, ongkir 9rb\n"
    again = owner_client.post("/conversations/log", data=_form(pasted=later))
    assert again.status_code == 302
    assert db.session.execute(db.select(db.func.count(Message.id))).scalar() == 4
    assert db.session.execute(db.select(db.func.count(Customer.id))).scalar() == 1
    assert db.session.execute(db.select(db.func.count(Conversation.id))).scalar() == 1


def test_pasting_for_a_chosen_customer(owner_client, make_customer):
    rina = make_customer("Rina")
    paste = "Rina: kak ready?\nSaya: ready kak\n"
    response = owner_client.post("/conversations/log", data=_form(pasted=paste, customer_id=rina.id))
    assert response.status_code == 302
    conversation = db.session.execute(db.select(Conversation)).scalar_one()
    assert conversation.customer_id == rina.id
    assert [m.side for m in conversation.messages] == ["customer", "staff"]


def test_unreadable_paste_keeps_the_text_and_says_why(owner_client):
    response = owner_client.post("/conversations/log", data=_form(pasted="just a note <b>without</b> names"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "line 1" in page and "just a note &lt;b&gt;without&lt;/b&gt; names" in page


def test_saving_before_choosing_the_shop_side_saves_nothing(owner_client):
    response = owner_client.post("/conversations/log", data=_form())
    assert response.status_code == 400
    assert "Which name in the chat is the shop?" in response.get_data(as_text=True)
    assert db.session.execute(db.select(Message)).first() is None
