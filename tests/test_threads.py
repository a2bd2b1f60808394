"""Long threads and busy customers: a thread shows its newest messages with "earlier" pages, a customer's page
the newest conversations with their last messages; neither reads more as the history grows."""
import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import event

from crm.conversations.services import NewMessage, log_chat
from crm.extensions import db
from crm.models import Message


def now():
    return datetime.now(timezone.utc)


def long_chat(customer, count, start=None):
    start = start or now() - timedelta(hours=count)
    messages = [NewMessage(start + timedelta(minutes=i), "customer" if i % 2 else "staff", f"pesan nomor {i}")
                for i in range(count)]
    conversation = log_chat(customer, "whatsapp", messages, logged_by_id=None).conversation
    db.session.commit()
    return conversation


def bodies(page: str) -> list[str]:
    return re.findall(r'<div class="body"[^>]*>pesan nomor (\d+)</div>', page)


def test_a_thread_shows_the_newest_hundred_and_pages_back(staff_client, make_customer):
    conversation = long_chat(make_customer("Rina"), 250)
    first = staff_client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert bodies(first) == [str(i) for i in range(150, 250)]
    earlier = re.search(r'href="(/conversations/\d+\?before=\d+)">&uarr; Earlier messages', first).group(1)
    assert "Newer messages" not in first
    second = staff_client.get(earlier).get_data(as_text=True)
    assert bodies(second) == [str(i) for i in range(50, 150)] and "Newer messages" in second
    third = staff_client.get(re.search(r'href="(/conversations/\d+\?before=\d+)"', second).group(1)
                             .replace("&amp;", "&")).get_data(as_text=True)
    assert bodies(third) == [str(i) for i in range(0, 50)] and "Earlier messages" not in third
    newer = re.search(r'href="(/conversations/\d+\?from=\d+)">&darr; Newer messages', third).group(1)
    assert bodies(staff_client.get(newer).get_data(as_text=True))[0] == "49"


def test_a_link_to_a_message_shows_the_messages_from_it(staff_client, make_customer):
    conversation = long_chat(make_customer("Rina"), 150)
    tenth = db.session.execute(db.select(Message).where(Message.body == "pesan nomor 10")).scalar_one()
    page = staff_client.get(f"/conversations/{conversation.id}?from={tenth.id}").get_data(as_text=True)
    assert bodies(page)[0] == "10" and len(bodies(page)) == 100 and "Earlier messages" in page
    other = long_chat(make_customer("Dewi"), 3)
    assert bodies(staff_client.get(f"/conversations/{other.id}?from={tenth.id}").get_data(as_text=True)) \
        == ["0", "1", "2"], "a message of another conversation is ignored"


def test_the_customer_page_shows_the_last_messages_of_each_conversation(staff_client, make_customer):
    rina = make_customer("Rina")
    long_chat(rina, 40, start=now() - timedelta(days=5))
    long_chat(rina, 3, start=now() - timedelta(hours=1))
    page = staff_client.get(f"/customers/{rina.id}").get_data(as_text=True)
    assert bodies(page) == ["0", "1", "2", "34", "35", "36", "37", "38", "39"]
    assert page.count("Earlier messages: open the conversation") == 1


def count_statements(client, url) -> int:
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(statements)


def test_pages_read_the_same_however_long_the_history(staff_client, make_customer):
    short, long = make_customer("Short"), make_customer("Long")
    short_chat, long_chat_ = long_chat(short, 10), long_chat(long, 600)
    assert count_statements(staff_client, f"/conversations/{short_chat.id}") == \
        count_statements(staff_client, f"/conversations/{long_chat_.id}")
    assert count_statements(staff_client, f"/customers/{short.id}") == \
        count_statements(staff_client, f"/customers/{long.id}")
