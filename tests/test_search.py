"""Search: the query language, the index kept in step with every write, filters, and the results page."""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from crm.customers.services import add_identity, merge_customers
from crm.extensions import db
from crm.models import ChannelIdentity, Conversation, ConversationTag, Customer, Message, Tag
from crm.search.index import include_in_autogenerate, index_is_installed, rebuild_index
from crm.search.query import (
    CLOSE,
    OPEN,
    Filters,
    Term,
    parse_query,
    search,
    snippet,
)

JAKARTA = ZoneInfo("Asia/Jakarta")


def found(query, filters=None, **options):
    """(customer name, message body) of every matching message in the first window."""
    results = search(query, filters, **options)
    return {(t.customer_name, db.session.get(Message, h.message_id).body) for t in results.threads for h in t.hits}


def bodies(query, filters=None, **options):
    return {body for _, body in found(query, filters, **options)}


def customers(query, filters=None):
    return [match.customer.display_name for match in search(query, filters).customers]


def index_snapshot():
    if db.engine.dialect.name == "postgresql":
        tables = {"messages_search": "key, conversation_id, document::text",
                  "customers_search": "customer_id, document::text"}
    else:
        tables = dict.fromkeys(("messages_fts", "customers_fts", "identities_fts"), "rowid, *")
    return {table: sorted(db.session.execute(db.text(f"SELECT {columns} FROM {table}")).all())
            for table, columns in tables.items()}


@pytest.fixture
def shop(make_customer, chat, staff):
    """Two customers, chats on two channels, the way a shop looks after a week."""
    sari = make_customer("Sari Batik", notes="reseller Bandung, suka gamis", whatsapp="+6281234567890",
                         instagram="@sari.batik")
    budi = make_customer("Budi Santoso", whatsapp="0813 1111 2222")
    chat(sari, [("customer", "Kak, gamis hitam ready?"), ("staff", "Ready kak, ukuran M L XL"),
                ("customer", "harga gamisnya berapa?")], start=datetime(2026, 10, 1, 3, tzinfo=timezone.utc),
         logged_by=staff)
    chat(budi, [("customer", "Ada kemeja batik ukuran XL?"), ("staff", "Stok ready kak, 185rb")],
         channel="instagram", start=datetime(2026, 11, 2, 3, tzinfo=timezone.utc))
    return {"sari": sari, "budi": budi}


# The query language ---------------------------------------------------------------------------------------


def test_plain_words_must_all_match_and_each_finds_longer_words(app, shop):
    assert bodies("gami") == {"Kak, gamis hitam ready?", "harga gamisnya berapa?"}
    assert bodies("gamis hitam") == {"Kak, gamis hitam ready?"}
    assert bodies("GAMIS   Ready") == {"Kak, gamis hitam ready?"}


def test_short_words_match_only_themselves(app, shop):
    assert parse_query("xl ok").terms == (Term(("xl",)), Term(("ok",)))
    assert not Term(("xl",)).prefix and Term(("gam",)).prefix
    assert bodies("xl") == {"Ready kak, ukuran M L XL", "Ada kemeja batik ukuran XL?"}


def test_accents_and_case_are_ignored(app, make_customer, chat):
    chat(make_customer("Renée"), [("customer", "Kue CRÈME brûlée ada?")])
    assert bodies("creme brulee") == {"Kue CRÈME brûlée ada?"}
    assert customers("renee") == ["Renée"]


def test_an_exact_phrase_needs_its_words_in_order(app, shop):
    assert bodies('"stok ready"') == {"Stok ready kak, 185rb"}
    assert bodies('"ready stok"') == set()
    assert bodies('"gami"') == set()  # quoted: the whole word only


def test_minus_leaves_out_words_and_phrases(app, shop):
    assert bodies("ready -gamis") == {"Ready kak, ukuran M L XL", "Stok ready kak, 185rb"}
    assert bodies('ukuran -"kemeja batik"') == {"Ready kak, ukuran M L XL"}
    assert bodies("kak -gami -stok") == {"Ready kak, ukuran M L XL"}


@pytest.mark.parametrize("query, words", [
    ('"gamis hitam', {"gamis", "hitam"}),  # a quote nobody closed
    ("gamis *", {"gamis"}),
    ("*", set()),
    ("gamis OR hitam", {"gamis", "or", "hitam"}),
    ("NEAR(gamis hitam)", {"near", "gamis", "hitam"}),
    ("body:gamis", {"body", "gamis"}),
    ("gamis) AND (", {"gamis", "and"}),
    ("^gamis -", {"gamis"}),
    ('""', set()),
    ("-", set()),
    ('\\"; DROP TABLE messages; --', {"drop", "table", "messages"}),
])
def test_bad_syntax_is_read_as_plain_words(query, words):
    assert {token for term in parse_query(query).include for token in term.tokens} == words


@pytest.mark.parametrize("query", ['"gamis', "gamis *", "*", "gamis OR hitam", "NEAR(gamis", "body:gamis", "gamis)",
                                   '"', "-", "- -", "'", "AND", "\x00", "kak\ue010", "🙏", "a" * 400])
def test_bad_syntax_never_errors(app, shop, query):
    search(query, Filters(channel="whatsapp"))
    search(query)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=80))
def test_nothing_typed_can_break_a_search(app, shop, query):
    results = search(query)
    assert results.page == 1
    assert all(isinstance(hit.snippet, Markup) for thread in results.threads for hit in thread.hits[:3])


# Kept in step with every write -----------------------------------------------------------------------------


def test_a_message_is_found_after_insert_update_and_gone_after_delete(app, shop):
    message = db.session.execute(db.select(Message).where(Message.body == "Stok ready kak, 185rb")).scalar_one()
    message.body = "Stok habis kak"
    db.session.commit()
    assert bodies("185rb") == set() and bodies("habis") == {"Stok habis kak"}
    message.sent_at = datetime(2025, 1, 1, tzinfo=timezone.utc)  # the index key follows the time
    db.session.commit()
    assert bodies("habis") == {"Stok habis kak"}
    db.session.delete(message)
    db.session.commit()
    assert bodies("habis") == set()


def test_messages_in_the_trash_are_never_found_and_come_back_when_restored(app, shop):
    message = db.session.execute(db.select(Message).where(Message.body.like("Kak, gamis%"))).scalar_one()
    message.deleted_at = datetime.now(timezone.utc)
    db.session.commit()
    assert bodies("hitam") == set()
    message.deleted_at = None
    db.session.commit()
    assert bodies("hitam") == {"Kak, gamis hitam ready?"}


def test_deleted_conversations_and_customers_are_never_found(app, shop):
    budi = db.session.get(Customer, shop["budi"].id)
    budi.conversations[0].deleted_at = datetime.now(timezone.utc)
    db.session.commit()
    assert bodies("kemeja") == set()
    budi.conversations[0].deleted_at = None
    budi.deleted_at = datetime.now(timezone.utc)
    db.session.commit()
    assert bodies("kemeja") == set()
    assert customers("budi") == [] and customers("0813 1111") == []


def test_messages_written_by_a_raw_bulk_insert_are_found(app, shop):
    conversation = db.session.get(Customer, shop["budi"].id).conversations[0]
    db.session.execute(
        db.text("INSERT INTO messages (conversation_id, sent_at, side, author_name, body, attachments, created_at) "
                "VALUES (:conversation, :sent_at, 'customer', '', :body, '', :sent_at)"),
        [{"conversation": conversation.id, "sent_at": f"2026-11-0{day} 10:00:00.000000", "body": f"songket nomor {day}"}
         for day in range(3, 8)],
    )
    db.session.commit()
    assert bodies("songket") == {f"songket nomor {day}" for day in range(3, 8)}
    assert bodies("songket", Filters(channel="instagram")) == bodies("songket")


def test_customers_follow_edits_and_handles(app, shop):
    sari = db.session.get(Customer, shop["sari"].id)
    sari.display_name, sari.notes = "Sari Tenun", "suka songket"
    db.session.commit()
    assert customers("tenun") == ["Sari Tenun"]
    assert customers("batik") == ["Sari Tenun"]  # still her handle, sari.batik
    assert customers("songket") == ["Sari Tenun"] and customers("gamis") == []
    add_identity(sari, "tiktok", "@saritenun.official")
    db.session.commit()
    assert customers("official") == ["Sari Tenun"]
    tiktok = db.session.execute(db.select(ChannelIdentity).where(ChannelIdentity.channel == "tiktok")).scalar_one()
    db.session.delete(tiktok)
    db.session.commit()
    assert customers("official") == []


def test_a_merged_customer_never_appears_and_the_survivor_is_found_by_both(app, shop, chat, make_customer):
    twin = make_customer("Sari B.", notes="pelanggan lama", tiktok="@sarib")
    chat(twin, [("customer", "mau tenun ikat dong")], channel="tiktok")
    db.session.execute(db.update(Customer).where(Customer.id == twin.id).values(stage="won"))
    db.session.commit()
    merge_customers(db.session.get(Customer, shop["sari"].id), db.session.get(Customer, twin.id))
    db.session.commit()
    assert customers("sarib") == ["Sari Batik"]
    assert customers("pelanggan") == ["Sari Batik"]  # the notes moved with the merge
    assert "Sari B." not in customers("sari")
    assert found("tenun") == {("Sari Batik", "mau tenun ikat dong")}
    # The moved conversation now carries the survivor's stage.
    assert bodies("tenun", Filters(stage="none")) == {"mau tenun ikat dong"}
    assert bodies("tenun", Filters(stage="won")) == set()


def test_a_rebuild_gives_exactly_what_the_triggers_kept(app, shop, chat, make_customer, staff):
    tag = Tag(name="vip", title="VIP")
    db.session.add(tag)
    db.session.flush()
    conversation = db.session.get(Customer, shop["sari"].id).conversations[0]
    db.session.add(ConversationTag(conversation_id=conversation.id, tag_id=tag.id, source="manual"))
    db.session.get(Customer, shop["budi"].id).stage = "negotiating"
    conversation.channel = "telegram"
    db.session.get(Message, conversation.messages[0].id).deleted_at = datetime.now(timezone.utc)
    twin = make_customer("Budi S", whatsapp="0857 0000 1111")
    chat(twin, [("customer", "halo")])
    merge_customers(db.session.get(Customer, shop["budi"].id), db.session.get(Customer, twin.id))
    db.session.commit()
    kept = index_snapshot()
    assert rebuild_index()
    db.session.commit()
    assert index_snapshot() == kept
    assert index_is_installed()


def test_the_index_and_its_triggers_are_there_after_all_migrations(app):
    # A later batch migration that rebuilds a table would drop its triggers: this catches it.
    assert index_is_installed()
    assert not include_in_autogenerate("messages_fts_data", "table", None)
    assert not include_in_autogenerate("messages_search", "table", None)
    assert not include_in_autogenerate("identities_search_handle", "index", None)
    assert include_in_autogenerate("messages", "table", None)


# Phone numbers and handles ---------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["0812 3456", "812-3456", "+62812 3456", "6281234567890", "0812-3456-7890",
                                   "4567 890", "+62 812"])
def test_phone_fragments_find_the_customer(app, shop, query):
    assert customers(query)[:1] == ["Sari Batik"]


@pytest.mark.parametrize("query", ["@sari", "sari.batik", "@sari.batik", "sari.bat", "SARI.BATIK"])
def test_handles_find_the_customer(app, shop, query):
    assert "Sari Batik" in customers(query)


def test_customers_are_not_listed_under_filters_only_a_message_meets(app, shop):
    assert customers("sari") == ["Sari Batik"]
    assert search("sari", Filters(side="staff")).customers == []
    assert customers("sari", Filters(stage="won")) == []
    assert customers("sari", Filters(channel="instagram")) == ["Sari Batik"]


# Filters ---------------------------------------------------------------------------------------------------


def test_filter_by_channel_side_and_staff(app, shop, staff):
    assert bodies("ready", Filters(channel="instagram")) == {"Stok ready kak, 185rb"}
    assert bodies("ready", Filters(side="customer")) == {"Kak, gamis hitam ready?"}
    assert bodies("ready", Filters(side="staff")) == {"Ready kak, ukuran M L XL", "Stok ready kak, 185rb"}
    assert bodies("ready", Filters(staff_id=staff.id)) == {"Kak, gamis hitam ready?", "Ready kak, ukuran M L XL"}
    assert bodies("ready", Filters(staff_id=staff.id + 99)) == set()


def test_filter_by_stage_follows_the_customer(app, shop):
    assert bodies("ready", Filters(stage="won")) == set()
    db.session.get(Customer, shop["budi"].id).stage = "won"
    db.session.commit()
    assert bodies("ready", Filters(stage="won")) == {"Stok ready kak, 185rb"}


def test_filter_by_tag_counts_live_tags_only(app, shop):
    tag = Tag(name="vip", title="VIP")
    db.session.add(tag)
    db.session.commit()
    conversation = db.session.get(Customer, shop["sari"].id).conversations[0]
    assert bodies("ready", Filters(tag_id=tag.id)) == set()
    row = ConversationTag(conversation_id=conversation.id, tag_id=tag.id, source="manual")
    db.session.add(row)
    db.session.commit()
    assert bodies("ready", Filters(tag_id=tag.id)) == {"Kak, gamis hitam ready?", "Ready kak, ukuran M L XL"}
    row.removed_at = datetime.now(timezone.utc)
    db.session.commit()
    assert bodies("ready", Filters(tag_id=tag.id)) == set()
    row.removed_at = None
    db.session.commit()
    db.session.delete(row)
    db.session.commit()
    assert bodies("ready", Filters(tag_id=tag.id)) == set()


def test_filter_by_date_counts_days_in_the_shops_time_zone(app, make_customer, chat):
    rina = make_customer("Rina")
    # 23:30 on 31 October in Jakarta is 16:30 UTC; 00:30 on 1 November is 17:30 UTC.
    chat(rina, [("customer", "tenun oktober")], start=datetime(2026, 10, 31, 23, 30, tzinfo=JAKARTA))
    chat(rina, [("customer", "tenun november")], start=datetime(2026, 11, 1, 0, 30, tzinfo=JAKARTA), channel="x")
    october = Filters(date_from=date(2026, 10, 1), date_to=date(2026, 10, 31))
    assert bodies("tenun", october) == {"tenun oktober"}
    assert bodies("tenun", Filters(date_from=date(2026, 11, 1))) == {"tenun november"}
    assert bodies("tenun", Filters(date_to=date(2026, 10, 30))) == set()


def test_filters_alone_list_what_meets_them(app, shop):
    assert bodies("", Filters(channel="instagram")) == {"Ada kemeja batik ukuran XL?", "Stok ready kak, 185rb"}
    assert bodies("-kemeja", Filters(channel="instagram")) == {"Stok ready kak, 185rb"}
    assert not search("").searched and not search("-kemeja").searched


# Order, grouping, pagination, the window -------------------------------------------------------------------


def test_results_are_grouped_by_conversation_best_or_newest_first(app, shop, chat, make_customer):
    old = make_customer("Ayu")
    chat(old, [("customer", "gamis gamis gamis")], start=datetime(2025, 1, 1, tzinfo=timezone.utc))
    newest = search("gamis", order="newest")
    assert [t.customer_name for t in newest.threads] == ["Sari Batik", "Ayu"]
    assert [len(t.hits) for t in newest.threads] == [2, 1]
    assert [t.customer_name for t in search("gamis", order="best").threads] == ["Ayu", "Sari Batik"]
    # Within a conversation the best matching message comes first: the whole word beats a longer one.
    assert [db.session.get(Message, h.message_id).body for h in search("gamis").threads[1].hits] == [
        "Kak, gamis hitam ready?", "harga gamisnya berapa?"]


def test_pages_and_older_matches_stay_within_a_window(app, make_customer, chat):
    app.config.update(SEARCH_PER_PAGE=2, SEARCH_WINDOW=5)
    for n in range(7):
        chat(make_customer(f"Pelanggan {n}"), [("customer", f"batik nomor {n}")],
             start=datetime(2026, 1, 1 + n, tzinfo=timezone.utc))
    first = search("batik", order="newest")
    assert (first.thread_count, first.pages, first.message_count) == (5, 3, 5)
    assert [t.customer_name for t in first.threads] == ["Pelanggan 6", "Pelanggan 5"]
    last = search("batik", order="newest", page=3)
    assert [t.customer_name for t in last.threads] == ["Pelanggan 2"]
    assert search("batik", order="newest", page=99).page == 3
    older = search("batik", order="newest", before=first.older_than)
    assert [t.customer_name for t in older.threads] == ["Pelanggan 1", "Pelanggan 0"]
    assert older.older_than is None


# Snippets --------------------------------------------------------------------------------------------------


def test_a_snippet_is_escaped_and_marks_only_the_matched_words(app, make_customer, chat):
    chat(make_customer("Iseng"), [("customer", "<script>alert('gamis')</script> & <b>gamis</b>")])
    [thread] = search("gamis").threads
    html = str(thread.hits[0].snippet)
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&#39;<mark>gamis</mark>&#39;)&lt;/script&gt; &amp; &lt;b&gt;<mark>gamis</mark>" in html


def test_a_snippet_of_a_long_message_shows_the_match_with_ellipses():
    body = "awal " * 60 + "gamis hitam " + "akhir " * 60
    marked = body.replace("gamis", OPEN + "gamis" + CLOSE)
    html = str(snippet(marked))
    assert html.startswith("…") and html.endswith("…") and "<mark>gamis</mark> hitam" in html
    assert len(html) < 260


def test_a_message_holding_the_marker_characters_is_shown_plain():
    body = f"x{OPEN}y{CLOSE} <i>"
    assert str(snippet(body, tainted=True)) == "xy &lt;i&gt;"


# The page, the top bar, the commands ----------------------------------------------------------------------


def test_the_results_page_links_to_the_message_in_its_thread(staff_client, shop):
    page = staff_client.get("/search?q=gamis+hitam").get_data(as_text=True)
    message = db.session.execute(db.select(Message).where(Message.body == "Kak, gamis hitam ready?")).scalar_one()
    assert f'href="/conversations/{message.conversation_id}#message-{message.id}"' in page
    assert "<mark>gamis</mark> <mark>hitam</mark>" in page
    assert "Sari Batik" in page and "1 conversation" in page


def test_a_message_with_a_script_tag_renders_as_text(staff_client, make_customer, chat):
    chat(make_customer("Iseng"), [("customer", "<script>alert(1)</script> gamis")])
    page = staff_client.get("/search?q=alert").get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;<mark>alert</mark>(1)&lt;/script&gt;" in page


def test_filters_come_from_the_url_and_bad_values_filter_nothing(staff_client, shop, staff):
    page = staff_client.get("/search?q=ready&channel=instagram&side=staff&staff=&order=newest").get_data(as_text=True)
    assert "kak, 185rb" in page and "gamis" not in page
    response = staff_client.get("/search?q=ready&channel=carrier-pigeon&stage=x&tag=abc&date_from=31-31-2026")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "kak, 185rb" in page and "<mark>ready</mark>?" in page
    assert "Not a valid date" in page


def test_htmx_gets_the_results_part_and_the_top_bar_gets_suggestions(staff_client, shop):
    part = staff_client.get("/search?q=gamis", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in part and "<mark>gamis</mark>" in part
    suggest = staff_client.get("/search/suggest?q=gami").get_data(as_text=True)
    assert "Sari Batik" in suggest and "<mark>gamis</mark>" in suggest and "/search?q=gami" in suggest
    assert staff_client.get("/search/suggest?q=g").get_data(as_text=True).strip() == ""


def test_every_page_has_the_search_box_which_works_without_javascript(staff_client, shop):
    page = staff_client.get("/customers/").get_data(as_text=True)
    assert '<form class="topsearch" method="get" action="/search" role="search">' in page
    assert 'name="q"' in page and 'hx-get="/search/suggest"' in page
    empty = staff_client.get("/search").get_data(as_text=True)
    assert "All words must match" in empty


def test_search_needs_a_login(client, shop):
    for url in ("/search?q=gamis", "/search/suggest?q=gamis"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_like_fallback_finds_the_same_for_words_phrases_and_filters(app, shop, staff):
    app.config["SEARCH_BACKEND"] = "like"
    assert bodies("gamis hitam") == {"Kak, gamis hitam ready?"}
    assert bodies('"stok ready"') == {"Stok ready kak, 185rb"}
    assert bodies("ready -gamis", Filters(side="staff")) == {"Ready kak, ukuran M L XL", "Stok ready kak, 185rb"}
    assert bodies("ready", Filters(channel="instagram", staff_id=None)) == {"Stok ready kak, 185rb"}
    assert bodies("ready", Filters(staff_id=staff.id, date_to=date(2026, 10, 1))) == {
        "Kak, gamis hitam ready?", "Ready kak, ukuran M L XL"}
    assert customers("0812 3456") == ["Sari Batik"]


def test_reindex_and_demo_data_commands(app, runner):
    result = runner.invoke(args=["demo-data", "--customers", "30", "--messages", "400", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "Added 30 customers" in result.output
    password = result.output.strip().split()[-1]
    assert password != "demo-password-123" and len(password) >= 12, "no fixed password in a shop's database"
    assert app.test_client().login("owner@demo.obrolan.id", password).status_code == 302
    assert db.session.execute(db.select(db.func.count(Message.id))).scalar() >= 400
    assert db.session.execute(db.select(db.func.count()).select_from(Conversation)).scalar() > 10
    kept = index_snapshot()
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0 and "Search index rebuilt" in result.output
    assert index_snapshot() == kept
    assert search("kak").thread_count > 0


@pytest.mark.parametrize("language", ["en", "id"])
def test_the_results_show_times_as_everywhere_else(app, language):
    from crm.formatting import local_time
    from crm.search.views import short_time_formatter

    moments = [datetime(2026, 10, 31, 16, 30, tzinfo=timezone.utc), datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)]
    with app.test_request_context(headers={"Accept-Language": language}):
        assert [short_time_formatter()(m) for m in moments] == [local_time(m) for m in moments]


def test_every_channel_side_and_stage_has_a_facet_code():
    # A new channel or stage needs a code in crm.search.index.FACET_CODES (then `flask reindex`), or its filter
    # finds nothing.
    from crm.identities import CHANNELS
    from crm.models import SIDES, STAGES
    from crm.search.index import FACET_CODES

    assert set(FACET_CODES["channel"]) == set(CHANNELS)
    assert set(FACET_CODES["stage"]) == set(STAGES)
    assert set(FACET_CODES["side"]) == set(SIDES)
    for codes in FACET_CODES.values():
        assert len(set(codes.values())) == len(codes) and 0 not in codes.values()


@pytest.mark.postgres_only("the walk through the newest messages is PostgreSQL's (crm.search.postgres.WALK)")
# (walk, deeper): a window of 4 asks the statement for 6, and a deeper walk runs when 2 * found * deeper >=
# 3 * walk * (6 - found) (2 of 2 with deeper >= 6, 3 of 3 with deeper >= 5, ...), so these pairs take every way:
# the walk alone, the walk and the index, both walks, both walks and the index.
@pytest.mark.parametrize("walk, deeper", [(1, 1), (1, 6), (2, 2), (2, 7), (3, 9), (5, 3), (9, 20)])
def test_past_the_walk_of_the_newest_the_index_finds_the_same(app, shop, chat, make_customer, monkeypatch, walk,
                                                               deeper):
    from crm.admin.trash import move_to_trash
    from crm.search import postgres

    dewi = make_customer("Dewi")
    for day in range(1, 8):
        chat(dewi, [("customer", f"gamis ready hari {day}?"), ("staff", "ready kak"), ("customer", "ok kak")],
             start=datetime(2026, 11, day, 3, tzinfo=timezone.utc))
    move_to_trash(db.session.execute(db.select(Message).where(Message.body == "gamis ready hari 6?")).scalar_one())
    trashed = make_customer("Tono")
    chat(trashed, [("customer", "gamis ready?")], start=datetime(2026, 11, 9, 3, tzinfo=timezone.utc))
    move_to_trash(trashed)
    db.session.commit()
    app.config["SEARCH_WINDOW"] = 4

    def everything(query, filters=None):
        results, pages = search(query, filters, order="newest"), []
        while True:
            pages.append([(h.message_id, str(h.snippet)) for t in results.threads for h in t.hits])
            if results.older_than is None:
                return pages
            results = search(query, filters, order="newest", before=results.older_than)

    searches = [("gamis", None), ("ready", None), ('"ready kak"', None), ("kak -ok", None),
                ("ready", Filters(side="customer")), ("", Filters(channel="whatsapp"))]
    expected = [everything(query, filters) for query, filters in searches]
    monkeypatch.setattr(postgres, "WALK", walk)
    monkeypatch.setattr(postgres, "DEEPER", deeper)
    assert [everything(query, filters) for query, filters in searches] == expected
    assert sum(map(len, expected[0])) == 8  # every "gamis" but the trashed message and customer
