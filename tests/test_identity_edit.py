"""Numbers and handles are edited where they are: change one (the old one goes), empty or tick "remove" to take it
away, fill the empty row of a channel kind to add one; a number another customer has is refused with a link."""
import re

from crm.admin.trash import move_to_trash
from crm.extensions import db
from crm.identities import CHANNELS
from crm.models import AuditEvent, ChannelIdentity, Customer


def _rows(page: str) -> list[tuple[str, str, str]]:
    """(channel, saved identity id or "", value) of each identity row on the form."""
    rows = []
    for index in sorted({int(n) for n in re.findall(r'name="identities-(\d+)-handle"', page)}):
        channel = re.search(rf'name="identities-{index}-channel" type="hidden" value="(\w+)"', page)[1]
        saved = re.search(rf'name="identities-{index}-identity_id" type="hidden" value="(\d*)"', page)[1]
        value = re.search(rf'name="identities-{index}-handle" [^>]*value="([^"]*)"', page)
        rows.append((channel, saved, value[1] if value else ""))
    return rows


def _form_from(page: str, **changes) -> dict:
    """What the browser posts back: every field as the page shows it, with `changes` ({"2-handle": ...}) applied."""
    data = {"display_name": re.search(r'name="display_name" [^>]*value="([^"]*)"', page)[1], "notes": "",
            "assigned_to_id": "0", "stage": "none", "expected_value": ""}
    for index, (channel, saved, value) in enumerate(_rows(page)):
        data |= {f"identities-{index}-channel": channel, f"identities-{index}-identity_id": saved,
                 f"identities-{index}-handle": value}
    return data | {f"identities-{key}": value for key, value in changes.items()}


def _handles(customer_id: int) -> set[tuple[str, str]]:
    return set(db.session.execute(
        db.select(ChannelIdentity.channel, ChannelIdentity.handle).where(ChannelIdentity.customer_id == customer_id)
    ).all())


def test_the_edit_page_shows_each_number_once_and_an_empty_row_per_channel_kind(owner_client, make_customer):
    hendra = make_customer("Pak Hendra", whatsapp="+62 857-1122-3344", instagram="@hendra.batik")
    page = owner_client.get(f"/customers/{hendra.id}/edit").get_data(as_text=True)
    rows = _rows(page)
    saved = [row for row in rows if row[1]]
    assert [(channel, value) for channel, _id, value in saved] == [
        ("whatsapp", "+62 857-1122-3344"), ("instagram", "@hendra.batik")]
    assert [channel for channel, saved_id, value in rows if not saved_id] == list(CHANNELS)
    assert page.count('value="+62 857-1122-3344"') == 1 and 'class="identities"' not in page, "no chip beside it"
    # A "remove" tick per saved one (the other checkbox is the sale's "Amount not known", for becoming won).
    ticks = re.findall(r'<input[^>]*type="checkbox"[^>]*>', page)
    assert len([tick for tick in ticks if re.search(r'name="identities-\d+-remove"', tick)]) == 2


def test_changing_a_number_replaces_it(owner_client, make_customer):
    hendra = make_customer("Pak Hendra", whatsapp="+62 857-1122-3344")
    [identity_id] = [i.id for i in hendra.identities]
    page = owner_client.get(f"/customers/{hendra.id}/edit").get_data(as_text=True)
    changed = _form_from(page, **{"0-handle": "0857 1122 3345"})
    response = owner_client.post(f"/customers/{hendra.id}/edit", data=changed)
    assert response.status_code == 302
    assert _handles(hendra.id) == {("whatsapp", "+6285711223345")}
    assert db.session.get(ChannelIdentity, identity_id).handle == "+6285711223345", "changed in place"
    event = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "edit")).scalar_one()
    assert event.details == {"changed": {"handles": [["+62 857-1122-3344"], ["+62 857-1122-3345"]]}}


def test_emptying_a_row_or_ticking_remove_takes_the_number_away(owner_client, make_customer):
    hendra = make_customer("Pak Hendra", whatsapp="+62 857-1122-3344", instagram="@hendra.batik")
    page = owner_client.get(f"/customers/{hendra.id}/edit").get_data(as_text=True)
    owner_client.post(f"/customers/{hendra.id}/edit", data=_form_from(page, **{"1-handle": ""}))
    assert _handles(hendra.id) == {("whatsapp", "+6285711223344")}
    page = owner_client.get(f"/customers/{hendra.id}/edit").get_data(as_text=True)
    owner_client.post(f"/customers/{hendra.id}/edit", data=_form_from(page, **{"0-remove": "y"}))
    assert _handles(hendra.id) == set()


def test_the_empty_row_of_a_kind_adds_one_a_second_whatsapp_too(owner_client, make_customer):
    hendra = make_customer("Pak Hendra", whatsapp="+62 857-1122-3344")
    page = owner_client.get(f"/customers/{hendra.id}/edit").get_data(as_text=True)
    rows = _rows(page)
    empty_whatsapp = next(i for i, (channel, saved, _v) in enumerate(rows) if channel == "whatsapp" and not saved)
    empty_instagram = next(i for i, (channel, saved, _v) in enumerate(rows) if channel == "instagram" and not saved)
    response = owner_client.post(f"/customers/{hendra.id}/edit", data=_form_from(page, **{
        f"{empty_whatsapp}-handle": "0812 9999 0000", f"{empty_instagram}-handle": "@Hendra.Batik"}))
    assert response.status_code == 302
    assert _handles(hendra.id) == {("whatsapp", "+6285711223344"), ("whatsapp", "+6281299990000"),
                                   ("instagram", "hendra.batik")}


def test_a_number_someone_else_has_is_refused_with_a_link_to_them(owner_client, make_customer):
    sari = make_customer("Sari", whatsapp="0812-3456-7890")
    hendra = make_customer("Pak Hendra", whatsapp="+62 857-1122-3344")
    page = owner_client.get(f"/customers/{hendra.id}/edit").get_data(as_text=True)
    data = _form_from(page, **{"0-handle": "+62 812 3456 7890"}) | {"display_name": "Hendra Wijaya"}
    response = owner_client.post(f"/customers/{hendra.id}/edit", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'+62 812-3456-7890 belongs to <a href="/customers/{sari.id}">Sari</a> already.' in page
    assert f'href="/customers/{hendra.id}/merge?other_id={sari.id}"' in page
    assert 'value="+62 812 3456 7890"' in page and 'value="Hendra Wijaya"' in page, "what was typed stays"
    assert _handles(hendra.id) == {("whatsapp", "+6285711223344")}
    assert db.session.get(Customer, hendra.id).display_name == "Pak Hendra", "nothing of the edit was saved"


def test_a_number_of_a_customer_in_the_trash_says_so(owner_client, make_customer):
    sari = make_customer("Sari", whatsapp="0812-3456-7890")
    move_to_trash(sari)
    db.session.commit()
    hendra = make_customer("Pak Hendra")
    page = owner_client.get(f"/customers/{hendra.id}/edit").get_data(as_text=True)
    response = owner_client.post(f"/customers/{hendra.id}/edit", data=_form_from(page, **{"0-handle": "081234567890"}))
    assert response.status_code == 400
    assert "belongs to Sari, who is in the trash; the owner can restore them." in response.get_data(as_text=True)


def test_two_numbers_swapped_between_rows_and_one_typed_twice(owner_client, make_customer):
    hendra = make_customer("Pak Hendra", whatsapp="081111111111", phone="082222222222")
    page = owner_client.get(f"/customers/{hendra.id}/edit").get_data(as_text=True)
    swapped = _form_from(page, **{"0-handle": "082222222222", "1-handle": "081111111111"})
    swapped["identities-1-channel"] = "whatsapp"  # the row keeps its kind whatever is posted
    assert owner_client.post(f"/customers/{hendra.id}/edit", data=swapped).status_code == 302
    assert _handles(hendra.id) == {("whatsapp", "+6282222222222"), ("phone", "+6281111111111")}
    page = owner_client.get(f"/customers/{hendra.id}/edit").get_data(as_text=True)
    rows = _rows(page)
    empty_whatsapp = next(i for i, (channel, saved, _v) in enumerate(rows) if channel == "whatsapp" and not saved)
    twice = _form_from(page, **{f"{empty_whatsapp}-handle": "+62 822-2222-2222"})
    assert owner_client.post(f"/customers/{hendra.id}/edit", data=twice).status_code == 302
    assert len(_handles(hendra.id)) == 2


def test_a_new_customer_starts_with_an_empty_row_per_channel_kind(owner_client):
    page = owner_client.get("/customers/new").get_data(as_text=True)
    assert [channel for channel, _saved, _value in _rows(page)] == list(CHANNELS)
    response = owner_client.post("/customers/new", data=_form_from(
        page, **{"0-handle": "0812-3456-7890", "1-handle": "@rina.shop"}) | {"display_name": "Rina"})
    assert response.status_code == 302
    rina = db.session.execute(db.select(Customer)).scalar_one()
    assert _handles(rina.id) == {("whatsapp", "+6281234567890"), ("instagram", "rina.shop")}
