"""Odd input that used to end in a 500: a file name of 300 characters or with a NUL byte, dates at the ends of
the calendar. Each gets an answer, and the upload is still imported under a name that fits."""
import pytest

from crm.extensions import db
from crm.models import Message

CHAT = "19/05/2026, 10.00 - Rina: Kak, tas rotan masih ada?\n19/05/2026, 10.04 - Toko Sari: Masih ada kak\n"


@pytest.mark.parametrize("name", ["WhatsApp Chat with Rina " + "x" * 300 + ".txt", "Rina\x00.txt",
                                  "a" * 255 + ".txt", "../../" + "é" * 200 + ".txt", "\x00", "con.txt"])
def test_an_odd_upload_name_is_imported_all_the_same(owner_client, import_upload, name):
    response = import_upload(owner_client, CHAT, name, shop="Toko Sari")
    assert response.status_code == 200, response.status_code
    assert "Imported 2 messages" in response.get_data(as_text=True)
    assert db.session.execute(db.select(db.func.count(Message.id))).scalar() == 2


@pytest.mark.parametrize("query", [
    "q=kak&date_to=0001-01-01", "q=kak&date_from=0001-01-01", "q=kak&date_to=9999-12-31",
    "q=kak&date_from=9999-12-31&date_to=0001-01-01", "date_from=0001-01-01&order=newest",
])
def test_search_dates_at_the_ends_of_the_calendar(staff_client, make_customer, chat, query):
    chat(make_customer("Rina"), [("customer", "makasih kak")])
    response = staff_client.get(f"/search?{query}")
    assert response.status_code == 200
    assert "Pick a date between" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", [
    "/audit?from=0001-01-01", "/audit?to=9999-12-31",
    "/reports/?period=custom&first=0001-01-01&last=0001-01-02",
    "/reports/?period=custom&first=9999-12-30&last=9999-12-31",
])
def test_other_date_filters_at_the_ends_of_the_calendar(owner_client, path):
    assert owner_client.get(path).status_code in (200, 400)


def test_a_follow_up_on_a_date_at_the_end_of_the_calendar(staff_client, make_customer):
    rina = make_customer("Rina")
    response = staff_client.post("/follow-ups/new", data={
        "customer_id": rina.id, "when": "date", "due_date": "9999-12-31", "assigned_to_id": "0", "note": ""})
    assert response.status_code == 400
    assert "Pick a date between" in response.get_data(as_text=True)
