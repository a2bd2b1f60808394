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


def _preview(client, **fields):
    response = client.post("/conversations/log/preview", data=_form(**fields), headers={"HX-Request": "true"})
    return " ".join(__import__("re").sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def test_the_preview_says_which_date_order_it_used_and_can_switch(owner_client):
    us_phone = ("3/1/26, 9:05 PM - Budi Santoso: Hi, is the batik shirt still available?\n"
                "3/2/26, 9:06 AM - Admin Sari: Yes, size M and L\n")
    page = _preview(owner_client, pasted=us_phone)
    assert "Dates read month first (12/31): March 1, 2026 – March 2, 2026" in page
    assert "Read the other way, it would be January 3, 2026 – February 3, 2026" in page
    switched = _preview(owner_client, pasted=us_phone, date_order="day")
    assert "Dates read day first (31/12): January 3, 2026 – February 3, 2026 (as chosen)" in switched
    sides = {"author-0": "Budi Santoso", "side-0": "customer", "author-1": "Admin Sari", "side-1": "staff"}
    saved = owner_client.post("/conversations/log", data=_form(pasted=us_phone, date_order="day", **sides))
    assert saved.status_code == 302
    days = sorted(m.sent_at.date().isoformat() for m in db.session.execute(db.select(Message)).scalars())
    assert days == ["2026-01-03", "2026-02-03"]


def test_the_preview_lists_unreadable_lines_and_future_dates(owner_client, test_now):
    later = (test_now + __import__("datetime").timedelta(days=2)).strftime("%d/%m/%y")
    pasted = ("02/03/26 09.30 - Rina: Harganya berapa kak?\n"
              "31/02/26 09.31 - Rina: tanggal ini tidak ada\n"
              "02/03/26 09.34 - Toko Batik Sari: Satu 185rb\n"
              f"{later} 10.00 - Rina: dari masa depan\n")
    page = _preview(owner_client, pasted=pasted)
    assert "1 line could not be read and was left out" in page and "line 2:" in page
    assert "1 message is dated in the future" in page and "Line 4." in page
    sides = {"author-0": "Rina", "side-0": "customer", "author-1": "Toko Batik Sari", "side-1": "staff"}
    saved = owner_client.post("/conversations/log", data=_form(pasted=pasted, **sides), follow_redirects=True)
    assert "1 message is dated in the future" in saved.get_data(as_text=True)
    assert {m.body for m in db.session.execute(db.select(Message)).scalars()} == {
        "Harganya berapa kak?", "Satu 185rb", "dari masa depan"}


def test_a_pasted_group_chat_is_refused_with_its_size(owner_client):
    group = ("02/03/26 09.30 - Rina: siapa yang ikut PO?\n02/03/26 09.31 - Budi: saya\n"
             "02/03/26 09.32 - Sari: saya juga\n02/03/26 09.33 - Toko Batik Sari: dicatat ya\n")
    page = _preview(owner_client, pasted=group)
    assert "this is a group chat with 4 people (Rina, Budi, Sari, Toko Batik Sari)" in page
    response = owner_client.post("/conversations/log", data=_form(pasted=group))
    assert response.status_code == 400 and db.session.execute(db.select(Message)).first() is None
