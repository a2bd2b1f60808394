"""The home page: overdue, due today, waiting on us, hot prospects; filters; today's numbers; quick actions."""
import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import event

from crm.extensions import db
from crm.models import Conversation, Customer, FollowUp, Message, Tag
from crm.today.queue import (
    QueueFilters,
    follow_up_queue,
    is_overdue,
    overdue_at,
    prospect_scores,
    shop_day,
)
from crm.today.services import add_follow_up, record_sale

WIB = ZoneInfo("Asia/Jakarta")


def now() -> datetime:
    return datetime.now(timezone.utc)


def section(page: str, name: str) -> str:
    """The HTML of one section of the queue page."""
    match = re.search(rf'<section class="queue-section queue-{name}".*?</section>', page, re.S)
    assert match, name
    return match.group(0)


def names_in(page: str, name: str) -> list[str]:
    return re.findall(r'<a class="name" href="/customers/\d+">([^<]+)</a>', section(page, name))


def due_on(day: date, at: time | None = None) -> dict:
    return {"due_at": datetime.combine(day, at or time(0), tzinfo=WIB), "has_time": at is not None}


def test_home_is_the_queue(staff_client):
    response = staff_client.get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Follow up today" in page
    assert [h for h in re.findall(r'<h2 id="\w+-title">([^<]+)<', page)] == [
        "Overdue ", "Due today ", "Waiting on us ", "Hot prospects without a follow-up "]


def test_a_customer_who_wrote_last_two_hours_ago_is_waiting_on_us(staff_client, make_customer, chat):
    rina = make_customer("Rina")
    chat(rina, [("staff", "Halo kak, ada yang bisa dibantu?"), ("customer", "Gamis L ready?")],
         start=now() - timedelta(hours=2, minutes=1))
    answered = make_customer("Dewi")
    chat(answered, [("customer", "Gamis L ready?"), ("staff", "Ready kak")], start=now() - timedelta(hours=3))
    page = staff_client.get("/").get_data(as_text=True)
    waiting = section(page, "waiting")
    assert names_in(page, "waiting") == ["Rina"]
    assert "Waiting on us for 2 hours" in waiting and "Gamis L ready?" in waiting


def test_waiting_time_starts_at_the_first_unanswered_message(make_customer, chat):
    start = now() - timedelta(hours=5)
    conversation = chat(make_customer("Rina"), [("customer", "halo"), ("staff", "halo kak"), ("customer", "ready?"),
                                                ("customer", "kak?")], start=start, step=timedelta(hours=1))
    assert db.session.get(Conversation, conversation.id).waiting_since == start + timedelta(hours=2)


def test_longest_wait_first_and_old_silence_left_out(app, make_customer, chat):
    for name, hours in (("Baru", 1), ("Lama", 30), ("Sedang", 5), ("Basi", 24 * 20)):
        chat(make_customer(name), [("customer", "halo kak")], start=now() - timedelta(hours=hours))
    queue = follow_up_queue()
    assert [row.customer.display_name for row in queue.sections["waiting"].rows] == ["Lama", "Sedang", "Baru"]


def test_overdue_today_done_and_snooze(staff_client, make_customer):
    day = shop_day()
    rina, dewi, sari, later = (make_customer(n) for n in ("Rina", "Dewi", "Sari", "Later"))
    yesterday = add_follow_up(rina, note="tanya transfer", **due_on(day.today - timedelta(days=1)))
    add_follow_up(dewi, note="kirim katalog", **due_on(day.today))
    add_follow_up(later, **due_on(day.today + timedelta(days=2)))
    add_follow_up(sari, **due_on(day.today - timedelta(days=30)))
    sari_follow_up = db.session.execute(db.select(FollowUp).where(FollowUp.customer_id == sari.id)).scalar_one()
    db.session.commit()

    page = staff_client.get("/").get_data(as_text=True)
    assert names_in(page, "overdue") == ["Sari", "Rina"], "oldest first"
    assert "Due yesterday: <span class=\"note\" hx-disable>tanya transfer</span>" in section(page, "overdue")
    assert names_in(page, "today") == ["Dewi"]
    assert "Later" not in page

    response = staff_client.post(f"/follow-ups/{yesterday.id}/done", data={"next": "/?staff=&channel="})
    assert response.status_code == 302 and response.headers["Location"] == "/?staff=&channel="
    response = staff_client.post(f"/follow-ups/{sari_follow_up.id}/snooze", data={"when": "1d", "next": "/"})
    assert response.status_code == 302
    page = staff_client.get("/").get_data(as_text=True)
    assert names_in(page, "overdue") == []
    assert names_in(page, "today") == ["Dewi"], "snoozed to tomorrow: off today's list"
    snoozed = db.session.get(FollowUp, sari_follow_up.id)
    assert snoozed.due_at == datetime.combine(day.today + timedelta(days=1), time(0), tzinfo=WIB)


def test_a_timed_follow_up_is_overdue_from_its_time(app, make_customer):
    rina = make_customer("Rina")
    add_follow_up(rina, due_at=now() - timedelta(minutes=1), has_time=True)
    dewi = make_customer("Dewi")
    add_follow_up(dewi, due_at=now() + timedelta(minutes=1), has_time=True)
    db.session.commit()
    sections = follow_up_queue().sections
    later_today = datetime.combine(shop_day().today, time(23, 59), tzinfo=WIB) > now() + timedelta(minutes=1)
    assert [r.customer.display_name for r in sections["overdue"].rows] == ["Rina"]
    assert [r.customer.display_name for r in sections["today"].rows] == (["Dewi"] if later_today else [])


def test_hot_prospects_without_a_follow_up(staff_client, make_customer, chat, staff):
    rina = make_customer("Rina")
    rina.stage = "negotiating"
    chat(rina, [("customer", "Harga gamis L brp? mau order 2, transfer BCA ya"), ("staff", "185rb kak")],
         start=now() - timedelta(hours=4))
    cold = make_customer("Dewi")
    chat(cold, [("customer", "halo"), ("staff", "halo kak")], start=now() - timedelta(hours=4))
    db.session.commit()
    page = staff_client.get("/").get_data(as_text=True)
    assert names_in(page, "hot") == ["Rina"]
    assert 'class="score score-hot"' in section(page, "hot")
    staff_client.post("/follow-ups/new", data={"customer_id": rina.id, "assigned_to_id": staff.id, "when": "1d"})
    page = staff_client.get("/").get_data(as_text=True)
    assert names_in(page, "hot") == [], "a follow-up is planned now"


def test_a_hot_prospect_cools_down_by_itself(staff_client, make_customer, chat, clock):
    rina = make_customer("Rina")
    rina.stage = "negotiating"
    chat(rina, [("customer", "Harga gamis L brp? mau order 2, transfer BCA ya"), ("staff", "185rb kak")],
         start=now() - timedelta(hours=4))
    db.session.commit()
    assert names_in(staff_client.get("/").get_data(as_text=True), "hot") == ["Rina"]
    clock.shift(timedelta(days=8))  # every signal keeps a quarter now: below the threshold
    page = staff_client.get("/").get_data(as_text=True)
    assert names_in(page, "hot") == []
    assert db.session.get(Customer, rina.id).score < 60


def test_deleted_and_merged_customers_never_appear(app, make_customer, chat):
    day = shop_day()
    gone, merged, kept = make_customer("Gone"), make_customer("Merged"), make_customer("Kept")
    for customer in (gone, merged, kept):
        chat(customer, [("customer", "harga brp? mau order")], start=now() - timedelta(hours=1))
        add_follow_up(customer, **due_on(day.today - timedelta(days=1)))
    deleted_chat = chat(kept, [("customer", "ongkir?")], channel="instagram", start=now() - timedelta(hours=2))
    deleted_chat.deleted_at = now()
    gone.deleted_at = now()
    merged.merged_into_id = kept.id
    db.session.commit()
    queue = follow_up_queue()
    for name in ("overdue", "waiting"):
        assert [r.customer.display_name for r in queue.sections[name].rows] == ["Kept"], name
        assert queue.sections[name].total == 1
    assert all(r.conversation.deleted_at is None for r in queue.sections["overdue"].rows)
    assert queue.numbers["waiting"] == 1 and queue.numbers["due"] == 1


def test_filters_mine_channel_and_tag(staff_client, make_customer, chat, staff, owner):
    day = shop_day()
    mine, theirs = make_customer("Mine"), make_customer("Theirs")
    mine.assigned_to_id, theirs.assigned_to_id = staff.id, owner.id
    chat(mine, [("customer", "ongkir ke Medan?")], channel="instagram", start=now() - timedelta(hours=1))
    chat(theirs, [("customer", "harga brp?")], channel="whatsapp", start=now() - timedelta(hours=1))
    add_follow_up(mine, assigned_to_id=staff.id, **due_on(day.today))
    add_follow_up(theirs, assigned_to_id=owner.id, **due_on(day.today))
    db.session.commit()

    page = staff_client.get("/").get_data(as_text=True)
    assert names_in(page, "today") == ["Mine", "Theirs"] and names_in(page, "waiting") == ["Mine", "Theirs"]
    page = staff_client.get("/?staff=me").get_data(as_text=True)
    assert names_in(page, "today") == ["Mine"] and names_in(page, "waiting") == ["Mine"]
    page = staff_client.get(f"/?staff={owner.id}").get_data(as_text=True)
    assert names_in(page, "today") == ["Theirs"]
    page = staff_client.get("/?channel=whatsapp").get_data(as_text=True)
    assert names_in(page, "today") == ["Theirs"] and names_in(page, "waiting") == ["Theirs"]
    page = staff_client.get("/?tag=shipping").get_data(as_text=True)
    assert names_in(page, "today") == ["Mine"] and names_in(page, "waiting") == ["Mine"]
    assert '<option value="shipping" selected>' in page


def test_rows_show_channel_need_tags_excerpt_score_and_actions(staff_client, make_customer, chat):
    rina = make_customer("Rina")
    chat(rina, [("customer", "Kak, harga gamis ukuran L berapa? bisa COD ke Bandung? <script>x</script>")],
         start=now() - timedelta(minutes=30))
    row = section(staff_client.get("/").get_data(as_text=True), "waiting")
    for part in ('class="channel channel-whatsapp"', 'data-tag="price"', 'data-tag="product"', 'data-tag="shipping"',
                 "bisa COD ke Bandung? &lt;script&gt;", 'class="score score-hot"', ">Open</a>", "Log reply",
                 'name="when" value="1d"'):
        assert part in row, part
    assert "<script>x" not in row


def test_log_a_reply_from_the_queue_and_they_leave_waiting_on_us(staff_client, make_customer, chat, staff):
    rina = make_customer("Rina")
    conversation = chat(rina, [("customer", "Gamis L ready?")], start=now() - timedelta(hours=2))
    response = staff_client.post(f"/queue/conversations/{conversation.id}/reply", data={"body": "  ", "next": "/"})
    assert response.status_code == 400
    response = staff_client.post(f"/queue/conversations/{conversation.id}/reply",
                                 data={"body": "Ready kak, 185rb", "next": "/#waiting"})
    assert response.status_code == 302 and response.headers["Location"] == "/#waiting"
    last = db.session.execute(db.select(Message).order_by(Message.id.desc())).scalars().first()
    assert (last.side, last.body, last.author_name, last.conversation_id) == (
        "staff", "Ready kak, 185rb", staff.name, conversation.id)
    assert names_in(staff_client.get("/").get_data(as_text=True), "waiting") == []


def test_todays_numbers(staff_client, make_customer, chat, staff):
    day = shop_day()
    rina, dewi = make_customer("Rina"), make_customer("Dewi")
    chat(rina, [("customer", "halo")], start=now() - timedelta(hours=1))
    add_follow_up(rina, **due_on(day.today))
    add_follow_up(dewi, **due_on(day.today - timedelta(days=3)))
    add_follow_up(dewi, **due_on(day.today + timedelta(days=3)))
    record_sale(dewi, amount=250_000, sold_on=day.today, channel="whatsapp")
    record_sale(dewi, amount=100_000, sold_on=day.month_start - timedelta(days=1), channel="whatsapp")
    db.session.commit()
    numbers = follow_up_queue().numbers
    assert numbers == {"due": 2, "waiting": 1, "new_prospects": 2, "won": 1, "won_amount": 250_000}
    strip = staff_client.get("/").get_data(as_text=True)
    assert "<strong>2</strong> follow-ups due" in strip and "Rp 250,000" in strip


def test_sections_are_bounded_and_show_all_pages(app, staff_client, make_customer):
    app.config["QUEUE_SECTION_LIMIT"] = 3
    app.config["PER_PAGE"] = 4
    day = shop_day()
    for i in range(6):
        add_follow_up(make_customer(f"Pelanggan {i}"), **due_on(day.today - timedelta(days=i + 1)))
    db.session.commit()
    page = staff_client.get("/").get_data(as_text=True)
    assert len(names_in(page, "overdue")) == 3 and "Show all 6" in page
    assert "/queue/overdue" in page
    first = staff_client.get("/queue/overdue").get_data(as_text=True)
    second = staff_client.get("/queue/overdue?page=2").get_data(as_text=True)
    assert len(names_in(first, "overdue")) == 4 and len(names_in(second, "overdue")) == 2
    assert staff_client.get("/queue/hot").status_code == 200
    assert staff_client.get("/queue/nonsense").status_code == 404


def test_scores_for_many_customers_cost_the_same_queries_as_for_one(app, make_customer, chat):
    customers = []
    for i in range(12):
        customer = make_customer(f"C{i}")
        chat(customer, [("customer", "harga brp? ongkir?"), ("staff", "185rb")], start=now() - timedelta(hours=i + 1))
        customers.append(customer)
    # As the queue has them: loaded by one query, not one by one.
    customers = db.session.execute(db.select(Customer).where(Customer.id.in_([c.id for c in customers]))
                                   ).scalars().all()
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        prospect_scores(customers[:1], shop_day())
        one = len(statements)
        statements.clear()
        scores = prospect_scores(customers, shop_day())
        many = len(statements)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert many == one <= 6
    assert all(score.total == 25 + 15 + 10 for score in scores.values())


def test_queue_page_query_count_does_not_grow_with_rows(app, staff_client, make_customer, chat):
    def queries_for_home() -> int:
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert staff_client.get("/").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    day = shop_day()

    def add_customers(count, offset):
        for i in range(count):
            customer = make_customer(f"N{offset + i}")
            chat(customer, [("customer", "harga brp? mau order")], start=now() - timedelta(hours=1, minutes=i))
            add_follow_up(customer, **due_on(day.today - timedelta(days=1)))
        db.session.commit()

    app.config["QUEUE_SECTION_LIMIT"] = 3  # both times more rows than a section shows: its total is counted
    add_customers(4, 0)
    few = queries_for_home()
    add_customers(10, 100)
    assert queries_for_home() == few


def test_tag_ids_in_filters_only_by_name(staff_client):
    assert staff_client.get("/?tag=does-not-exist&channel=pigeon&staff=abc").status_code == 200


def test_waiting_filter_sees_tags_removed_by_hand_as_gone(app, make_customer, chat, staff):
    from crm.needs.tagging import remove_tag_by_hand

    conversation = chat(make_customer("Rina"), [("customer", "ongkir?")], start=now() - timedelta(hours=1))
    shipping = db.session.execute(db.select(Tag).where(Tag.name == "shipping")).scalar_one()
    remove_tag_by_hand(conversation, shipping, staff.id)
    db.session.commit()
    assert follow_up_queue(QueueFilters(tag_id=shipping.id)).sections["waiting"].rows == []


def test_overdue_in_sql_and_in_python_agree(app, make_customer):
    day = shop_day()
    rina = make_customer("Rina")
    cases = [(day.start - timedelta(days=1), False), (day.start, False), (day.now - timedelta(minutes=1), True),
             (day.now + timedelta(minutes=1), True), (day.start, True), (day.end, False)]
    for due_at, has_time in cases:
        add_follow_up(rina, due_at=due_at, has_time=has_time)
    db.session.commit()
    in_sql = set(db.session.execute(db.select(FollowUp.id).where(is_overdue(day))).scalars())
    follow_ups = db.session.execute(db.select(FollowUp).order_by(FollowUp.id)).scalars().all()
    assert {f.id for f in follow_ups if overdue_at(f.due_at, f.has_time, day)} == in_sql
    assert [f.id in in_sql for f in follow_ups] == [True, False, True, False, True, False]
