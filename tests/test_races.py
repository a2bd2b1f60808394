"""Two staff at the same moment: the checks that guard a merge, a delete or a saved chat hold inside the write
transaction. Real requests against a real server (waitress in threads, one SQLite file), sent together."""
import re
import threading

import pytest
from test_concurrency import Browser
from waitress.server import create_server

from crm.admin.trash import move_to_trash
from crm.customers.services import merge_customers
from crm.extensions import db
from crm.models import Conversation, Customer, FormSubmission, Message
from crm.sqlite import hold_customers

ROUNDS = 6
# Closing waitress while its loop waits in select() ends that thread with EBADF: the server is gone, as intended.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")


@pytest.fixture
def server(app, owner, staff):
    running = create_server(app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    running.url = f"http://127.0.0.1:{running.effective_port}"
    running.emails = (owner.email, staff.email)
    yield running
    running.close()
    thread.join(timeout=5)


def _together(*posts):
    """Send the posts at the same moment, one thread each; their (status, page) in order."""
    start = threading.Barrier(len(posts))
    answers = [None] * len(posts)

    def send(index, browser, path, data):
        start.wait()
        answers[index] = browser.post(path, data)

    threads = [threading.Thread(target=send, args=(i, *post)) for i, post in enumerate(posts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def _two_staff(server):
    first, second = (Browser(server).login(email) for email in server.emails)
    return first, second


def test_opposite_merges_at_the_same_moment_end_with_one_merge(server, make_customer, chat):
    ani, budi = _two_staff(server)
    for round_ in range(ROUNDS):
        a = make_customer(f"Rina {round_}", whatsapp=f"08123450{round_:04d}")
        b = make_customer(f"Rina IG {round_}", instagram=f"@rina.{round_}")
        chat(a, [("customer", f"halo {round_}")])
        ani.get(f"/customers/{b.id}/merge?other_id={a.id}")
        budi.get(f"/customers/{a.id}/merge?other_id={b.id}")
        answers = _together((ani, f"/customers/{b.id}/merge", {"other_id": a.id}),
                            (budi, f"/customers/{a.id}/merge", {"other_id": b.id}))
        assert [status for status, _page in answers] == [200, 200], answers
        db.session.expire_all()
        a, b = db.session.get(Customer, a.id), db.session.get(Customer, b.id)
        merged = [c for c in (a, b) if c.merged_into_id]
        assert len(merged) == 1, f"round {round_}: {a.merged_into_id=} {b.merged_into_id=}"
        survivor = b if merged[0] is a else a
        assert survivor.merged_into_id is None and merged[0].merged_into_id == survivor.id, "never a cycle"
        pages = " ".join(page for _status, page in answers)
        assert "was merged into" in pages and "meanwhile; nothing else was merged." in pages
        assert db.session.execute(db.select(Conversation.customer_id)
                                  .where(Conversation.customer_id.in_([a.id, b.id]))).scalars().all() == [survivor.id]


def _typed_chat(**fields):
    return {"channel": "whatsapp", "messages-0-side": "customer", "messages-0-body": "Kak, gamis L ready?",
            "messages-1-side": "staff", "messages-1-body": "Ready kak 😊", "save": "1", **fields}


def _key(page: str) -> str:
    return re.search(r'name="submission" type="hidden" value="([^"]+)"', page)[1]


def test_a_double_save_chat_saves_once_and_answers_both(server):
    ani, _budi = _two_staff(server)
    for round_ in range(ROUNDS):
        _status, page = ani.get("/conversations/log")
        form = _typed_chat(new_customer_name=f"Pelanggan Baru {round_}", submission=_key(page))
        answers = _together((ani, "/conversations/log", form), (ani, "/conversations/log", form))
        # Both answered (the pages' notes share one session cookie, so which page says what is not fixed).
        assert [status for status, _page in answers] == [200, 200], [status for status, _page in answers]
        db.session.expire_all()
        customers = db.session.execute(
            db.select(Customer).where(Customer.display_name == f"Pelanggan Baru {round_}")).scalars().all()
        assert len(customers) == 1
        assert len(customers[0].conversations[0].messages) == 2
    assert db.session.execute(db.select(db.func.count(FormSubmission.id))).scalar() == ROUNDS


def test_the_second_post_of_a_saved_form_says_where_the_first_went(staff_client, make_customer):
    rina = make_customer("Rina")
    form = _typed_chat(customer_id=rina.id, submission="once")
    first = staff_client.post("/conversations/log", data=form)
    again = staff_client.post("/conversations/log", data=form | {"messages-0-body": "changed after saving"})
    assert again.headers["Location"] == first.headers["Location"]
    page = staff_client.get(again.headers["Location"]).get_data(as_text=True)
    assert "This chat was saved already (the form was sent twice); nothing more was added." in page
    assert db.session.execute(db.select(db.func.count(Message.id))).scalar() == 2


def test_a_double_save_of_a_reply_on_the_thread_saves_once(server, make_customer, chat):
    ani, _budi = _two_staff(server)
    conversation = chat(make_customer("Rina"), [("customer", "Harga?")])
    _status, page = ani.get(f"/conversations/{conversation.id}")
    form = {"messages-0-side": "staff", "messages-0-body": "185rb kak", "save": "1", "submission": _key(page)}
    answers = _together((ani, f"/conversations/{conversation.id}/messages", form),
                        (ani, f"/conversations/{conversation.id}/messages", form))
    assert [status for status, _page in answers] == [200, 200]
    db.session.expire_all()
    assert len(db.session.get(Conversation, conversation.id).messages) == 2


def test_the_same_chat_saved_by_two_staff_at_once_is_there_once(server, make_customer):
    """Two forms (two keys), the same messages with the same times: the fingerprints, checked under the lock."""
    ani, budi = _two_staff(server)
    rina = make_customer("Rina")
    form = _typed_chat(customer_id=rina.id, **{"messages-0-sent_at": "2026-01-05T10:00",
                                               "messages-1-sent_at": "2026-01-05T10:02"})
    answers = _together((ani, "/conversations/log", form | {"submission": "ani-1"}),
                        (budi, "/conversations/log", form | {"submission": "budi-1"}))
    assert [status for status, _page in answers] == [200, 200]
    assert "These messages were logged before; nothing added." in " ".join(page for _s, page in answers)
    assert db.session.execute(db.select(db.func.count(Message.id))).scalar() == 2


# A colleague merged or trashed the customer while the chat was being typed ------------------------------------


def test_a_typed_chat_for_a_customer_merged_meanwhile_goes_to_the_survivor(staff_client, make_customer):
    rina, duplicate = make_customer("Rina Kusuma"), make_customer("Rina")
    merge_customers(rina, duplicate)
    db.session.commit()
    response = staff_client.post("/conversations/log", data=_typed_chat(customer_id=duplicate.id),
                                 follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Rina was merged into Rina Kusuma meanwhile: the chat is logged there." in page
    assert db.session.execute(db.select(Conversation.customer_id)).scalar_one() == rina.id


def test_a_typed_chat_for_a_customer_trashed_meanwhile_is_refused_and_kept(staff_client, make_customer):
    rina = make_customer("Rina")
    move_to_trash(rina)
    db.session.commit()
    response = staff_client.post("/conversations/log", data=_typed_chat(customer_id=rina.id))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Rina was moved to the trash meanwhile: choose another customer" in page
    assert "Kak, gamis L ready?" in page and "Ready kak 😊" in page
    assert db.session.execute(db.select(db.func.count(Message.id))).scalar() == 0


PASTED = "[10.00, 09/05/2026] Rina: Kak, tas rotan masih ada?\n[10.04, 09/05/2026] Toko Sari: Masih ada kak\n"
PASTE_SIDES = {"author-0": "Rina", "side-0": "customer", "author-1": "Toko Sari", "side-1": "staff"}


def test_a_paste_for_a_customer_merged_meanwhile_goes_to_the_survivor(staff_client, make_customer):
    rina, duplicate = make_customer("Rina Kusuma"), make_customer("Rina")
    merge_customers(rina, duplicate)
    db.session.commit()
    response = staff_client.post("/conversations/log", data={
        "customer_id": duplicate.id, "channel": "whatsapp", "pasted": PASTED, "save": "1", **PASTE_SIDES},
        follow_redirects=True)
    assert "merged into Rina Kusuma meanwhile" in response.get_data(as_text=True)
    assert db.session.execute(db.select(Conversation.customer_id)).scalar_one() == rina.id


def test_a_paste_for_a_customer_trashed_meanwhile_is_refused_and_kept(staff_client, make_customer):
    rina = make_customer("Rina")
    move_to_trash(rina)
    db.session.commit()
    response = staff_client.post("/conversations/log", data={
        "customer_id": rina.id, "channel": "whatsapp", "pasted": PASTED, "save": "1", **PASTE_SIDES})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Rina was moved to the trash meanwhile" in page and "tas rotan masih ada?" in page
    assert db.session.execute(db.select(db.func.count(Message.id))).scalar() == 0


def test_a_reply_to_a_conversation_trashed_meanwhile_comes_back_on_log_chat(staff_client, make_customer, chat):
    rina = make_customer("Rina")
    conversation = chat(rina, [("customer", "Harga?")])
    move_to_trash(conversation)
    db.session.commit()
    response = staff_client.post(f"/conversations/{conversation.id}/messages", data={
        "messages-0-side": "staff", "messages-0-body": "185rb kak", "save": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "This conversation was moved to the trash meanwhile." in page and "185rb kak" in page
    assert f'name="customer_id" type="hidden" value="{rina.id}"' in page
    saved = staff_client.post("/conversations/log", data=_typed_chat(
        customer_id=rina.id, **{"messages-0-body": "185rb kak", "messages-0-side": "staff", "messages-1-body": ""}))
    assert saved.status_code == 302
    assert db.session.execute(db.select(db.func.count(Conversation.id))
                              .where(Conversation.deleted_at.is_(None))).scalar() == 1


def test_a_saved_form_key_is_kept_a_week(staff_client, make_customer, clock):
    from datetime import timedelta

    rina = make_customer("Rina")
    assert staff_client.post("/conversations/log", data=_typed_chat(customer_id=rina.id, submission="k1")) \
        .status_code == 302
    clock.shift(timedelta(days=8))
    staff_client.post("/conversations/log", data=_typed_chat(customer_id=rina.id, submission="k2"))
    assert db.session.execute(db.select(FormSubmission.key)).scalars().all() == ["k2"]


@pytest.mark.sqlite_only("SQLite's database write lock; PostgreSQL holds the customers' rows and an advisory lock")
def test_hold_customers_takes_the_write_lock_at_once(app, database_path, make_customer):
    import sqlite3

    rina = make_customer("Rina")
    hold_customers(db.session, [rina.id])
    other = sqlite3.connect(database_path, timeout=0)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        db.session.commit()
        other.execute("BEGIN IMMEDIATE")
        other.rollback()
    finally:
        other.close()
