"""Every word a user reads goes through the translation catalogue."""
import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
JINJA = re.compile(r"{#.*?#}|{%.*?%}|{{.*?}}", re.S)
TAG = re.compile(r"<[^>]*>", re.S)
LITERAL_ATTRIBUTE = re.compile(r'\s(?:placeholder|title|aria-label|alt|data-confirm)="([^"{]*[A-Za-z][^"{]*)"')
# Text that is the same in every language: brand names and symbols.
UNTRANSLATED = {"Obrolan", "WhatsApp", "Instagram", "Telegram", "TikTok", "LINE", "X", "JSON", "CSV"}


def _visible_text(template: str) -> list[str]:
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", template, flags=re.S)
    text = JINJA.sub(" ", text)
    text = TAG.sub(" ", text)
    text = re.sub(r"&[a-z]+;|&#\d+;", " ", text)
    words = re.findall(r"[^\W\d_][\w'’.-]*", text)
    return [word for word in words if word not in UNTRANSLATED]


def test_templates_have_no_untranslated_text():
    offenders = {}
    for path in sorted(TEMPLATES.rglob("*.html")):
        source = path.read_text()
        words = _visible_text(source) + LITERAL_ATTRIBUTE.findall(JINJA.sub(" ", source))
        if words:
            offenders[str(path.relative_to(TEMPLATES))] = words[:8]
    assert not offenders, f"text not marked for translation: {offenders}"


def test_the_scanner_catches_plain_text():
    assert _visible_text("<p>Hello {{ _('world') }}</p>") == ["Hello"]
    assert LITERAL_ATTRIBUTE.findall('<input placeholder="Search">') == ["Search"]
    assert _visible_text("<p>{{ _('Hello') }} · {{ name }}</p>") == []


def test_language_follows_the_browser_until_the_user_chooses(app, owner_client, owner):
    from crm.extensions import db
    from crm.models import User

    page = owner_client.get("/customers/", headers={"Accept-Language": "id-ID,id;q=0.9,en;q=0.5"})
    assert '<html lang="id">' in page.get_data(as_text=True)
    assert owner_client.post("/account/language", data={"language": "en", "next": "/customers/"}).status_code == 302
    assert db.session.get(User, owner.id).locale == "en"
    page = owner_client.get("/customers/", headers={"Accept-Language": "id-ID"})
    assert '<html lang="en">' in page.get_data(as_text=True)
    owner_client.post("/account/language", data={"language": "fr"})
    assert db.session.get(User, owner.id).locale == "en", "unknown languages are ignored"


def test_text_outside_a_request_uses_the_default_language(app):
    from flask_babel import gettext

    assert gettext("Customers") == "Customers"


# What a %-placeholder looks like in a message: %(name)s, %(count)d, %(minutes)02d.
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]")


def _catalogue_problems(template, catalog) -> list[str]:
    """Each extracted message that the catalogue lacks, leaves empty, marks fuzzy or gives other placeholders."""
    problems = []
    for message in template:
        if not message.id:
            continue
        translated = catalog.get(message.id, context=message.context)
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        label = sources[0]
        if translated is None:
            problems.append(f"missing: {label!r}")
            continue
        strings = translated.string if isinstance(translated.string, tuple) else (translated.string,)
        if isinstance(message.id, tuple) != isinstance(translated.id, tuple):
            problems.append(f"plural in one, not the other: {label!r}")
        elif isinstance(message.id, tuple) and len(strings) != catalog.num_plurals:
            problems.append(f"{len(strings)} plural forms, the header says {catalog.num_plurals}: {label!r}")
        if translated.fuzzy:
            problems.append(f"fuzzy: {label!r}")
        if not all(strings):
            problems.append(f"not translated: {label!r}")
            continue
        expected = set().union(*(PLACEHOLDER.findall(source) for source in sources))
        for string in strings:
            if set(PLACEHOLDER.findall(string)) != expected:
                problems.append(f"placeholders differ: {label!r} -> {string!r}")
    return problems


def _indonesian_catalogue():
    from babel.messages.pofile import read_po

    from crm.translations_build import SOURCE

    with (SOURCE / "id" / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        return read_po(po_file, locale="id")


def test_every_message_has_an_indonesian_translation():
    """Fails when someone adds text without translating it: run `flask translate update` and translate the .po."""
    from crm.translations_build import extract_messages

    catalog = _indonesian_catalogue()
    assert (catalog.num_plurals, catalog.plural_expr) == (1, "0"), "Indonesian has one plural form"
    assert not catalog.fuzzy, "the catalogue header is marked fuzzy"
    template = extract_messages()
    assert len(template) > 500, "extraction found the app's messages"
    problems = _catalogue_problems(template, catalog)
    assert not problems, "\n".join(problems)


def test_the_catalogue_check_catches_missing_fuzzy_and_broken_entries():
    from io import BytesIO

    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po

    template = Catalog()
    for message in ("Saved.", "Hello %(name)s", "Fuzzy", "Empty", ("%(num)d day", "%(num)d days"), "Missing"):
        template.add(message)
    catalog = read_po(BytesIO('''msgid ""
msgstr ""
"Plural-Forms: nplurals=1; plural=0;\\n"

msgid "Saved."
msgstr "Tersimpan."

msgid "Hello %(name)s"
msgstr "Halo %(nama)s"

#, fuzzy
msgid "Fuzzy"
msgstr "Kabur"

msgid "Empty"
msgstr ""

msgid "%(num)d day"
msgid_plural "%(num)d days"
msgstr[0] "%(num)d hari"
'''.encode()), locale="id")
    assert _catalogue_problems(template, catalog) == [
        "placeholders differ: 'Hello %(name)s' -> 'Halo %(nama)s'", "fuzzy: 'Fuzzy'", "not translated: 'Empty'",
        "missing: 'Missing'",
    ]


def test_rupiah_reads_the_indonesian_way_in_indonesian(app):
    from flask_babel import force_locale

    from crm.formatting import rupiah

    with app.test_request_context():
        with force_locale("id"):
            assert rupiah(1_250_000) == "Rp 1.250.000"
        with force_locale("en"):
            assert rupiah(1_250_000) == "Rp 1,250,000"
        assert rupiah(None) == ""


def test_a_users_language_sets_the_words_and_the_money_on_their_pages(app, owner_client, owner, make_customer):
    from crm.extensions import db
    from crm.models import User
    from crm.today.queue import shop_day
    from crm.today.services import record_sale

    record_sale(make_customer("Rina", whatsapp="081211112001"), amount=1_250_000, sold_on=shop_day().today,
                channel="whatsapp", created_by_id=owner.id)
    db.session.get(User, owner.id).locale = "id"
    db.session.commit()
    page = owner_client.get("/").get_data(as_text=True)
    assert '<html lang="id">' in page
    assert ">Pelanggan</a>" in page and ">Catat chat</a>" in page and "Menunggu balasan kita" in page
    assert "Rp 1.250.000" in page
    owner_client.post("/account/language", data={"language": "en", "next": "/"})
    page = owner_client.get("/").get_data(as_text=True)
    assert ">Customers</a>" in page and "Rp 1,250,000" in page


def test_times_show_in_the_shops_zone_with_indonesian_month_and_day_names(app):
    from datetime import date, datetime, timezone

    from flask_babel import force_locale, format_date

    from crm.formatting import local_time

    when = datetime(2026, 11, 23, 2, 15, tzinfo=timezone.utc)  # 09:15 in Jakarta, a Monday
    assert app.config["SHOP_TIMEZONE"] == "Asia/Jakarta"
    with app.test_request_context():
        with force_locale("id"):
            assert local_time(when) == "23 Nov 2026 09.15"  # one way on every page: the day, then the time
            full = local_time(when, "full")
            assert "Senin" in full and "November" in full and "09.15" in full, full
            assert format_date(date(2026, 8, 17), "medium") == "17 Agu 2026"
            assert format_date(date(2026, 5, 1), "d MMMM y") == "1 Mei 2026"
        with force_locale("en"):
            assert local_time(when) == "Nov 23, 2026, 9:15\u202fAM"
            assert "Monday" in local_time(when, "full")


def test_error_pages_and_input_problems_speak_the_users_language(app, owner_client, owner):
    from flask_babel import force_locale

    from crm.extensions import db
    from crm.identities import InvalidHandle, normalise_handle
    from crm.importers import ParseError, parse_text
    from crm.models import User

    with app.test_request_context():
        with force_locale("id"):
            try:
                normalise_handle("whatsapp", "bukan nomor")
            except InvalidHandle as error:
                assert str(error) == "bukan nomor telepon"
            try:
                parse_text("halo semua", source="teks")
            except ParseError as error:
                assert str(error).startswith("teks baris 1: ini tidak terlihat seperti hasil ekspor chat"), str(error)
    db.session.get(User, owner.id).locale = "id"
    db.session.commit()
    page = owner_client.get("/no-such-page").get_data(as_text=True)
    assert "404 · Tidak ditemukan" in page and "Not Found" not in page


def test_search_filters_show_starter_tags_in_the_readers_language(app, owner_client, owner):
    from crm.extensions import db
    from crm.models import User

    page = owner_client.get("/search?q=harga").get_data(as_text=True)
    assert ">Price</option>" in page and ">Harga</option>" not in page
    db.session.get(User, owner.id).locale = "id"
    db.session.commit()
    page = owner_client.get("/search?q=harga").get_data(as_text=True)
    assert ">Harga</option>" in page and ">Pengiriman</option>" in page and ">Price</option>" not in page


def test_form_errors_are_in_indonesian_too(app, owner_client, owner):
    from crm.extensions import db
    from crm.models import User

    db.session.get(User, owner.id).locale = "id"
    db.session.commit()
    response = owner_client.post("/customers/new", data={"display_name": "", "expected_value": "abc"})
    page = response.get_data(as_text=True)
    assert "Wajib diisi." in page and "This field is required." not in page
