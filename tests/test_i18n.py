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
