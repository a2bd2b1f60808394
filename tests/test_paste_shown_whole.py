"""After saving a paste the page shows everything saved: a paste spanning more than a day says it became
several conversations and links each one."""
import re

from crm.extensions import db
from crm.models import Conversation

SIDES = {"author-0": "Rina", "side-0": "customer", "author-1": "Toko Sari", "side-1": "staff"}


def _paste(days: list[tuple[str, int]]) -> str:
    lines = []
    for day, count in days:
        for n in range(count):
            who = "Rina" if n % 2 == 0 else "Toko Sari"
            lines.append(f"[09.{n:02d}, {day}] {who}: pesan {day} nomor {n}")
    return "\n".join(lines) + "\n"


def test_a_paste_over_two_days_links_both_conversations(owner_client):
    pasted = _paste([("09/05/2026", 2), ("12/05/2026", 10)])
    response = owner_client.post("/conversations/log", data={
        "channel": "whatsapp", "pasted": pasted, "new_customer_name": "Rina", **SIDES}, follow_redirects=True)
    page = response.get_data(as_text=True)
    first, second = db.session.execute(
        db.select(Conversation).order_by(Conversation.first_message_at)).scalars().all()
    assert len(first.messages) == 2 and len(second.messages) == 10
    assert "12 messages logged for Rina." in page
    assert "The paste was saved as 2 conversations" in page
    assert "More than 24 hours passed between some of its messages" in page
    box = re.search(r'<section class="card split-paste".*?</section>', page, re.S)[0]
    assert f'href="/conversations/{first.id}"' in box and "2 messages" in box
    assert "10 messages" in box and "shown below" in box
    assert page.count('class="message message-') == 10, "the part shown is the one the page is on"
    other = owner_client.get(f"/conversations/{first.id}").get_data(as_text=True)
    assert "split-paste" not in other, "only the page right after saving says it"


def test_a_paste_of_one_day_is_one_conversation_shown_whole(owner_client):
    response = owner_client.post("/conversations/log", data={
        "channel": "whatsapp", "pasted": _paste([("09/05/2026", 12)]), "new_customer_name": "Rina", **SIDES},
        follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "split-paste" not in page
    assert page.count('class="message message-') == 12


def test_split_links_of_another_customer_are_not_shown(owner_client, make_customer, chat):
    rina, sari = make_customer("Rina"), make_customer("Sari")
    mine, theirs = chat(rina, [("customer", "halo")]), chat(sari, [("customer", "halo")])
    page = owner_client.get(f"/conversations/{mine.id}?split={mine.id},{theirs.id}").get_data(as_text=True)
    assert "split-paste" not in page
