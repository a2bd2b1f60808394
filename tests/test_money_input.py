"""Money typed the way Indonesian shops write it reads the same in every form that takes money, with one clear
error for anything else; amounts show with "Rp" in both languages, as the labels say."""
import re

import pytest

from crm.amounts import NotAnAmount, parse_hours, parse_rupiah
from crm.extensions import db
from crm.models import ChannelCost, Customer, Order
from crm.today.queue import shop_day

SAME_AMOUNT = ["1.250.000", "1,250,000", "Rp 1.250.000", "Rp1.250.000", "rp 1.250.000,-", "IDR 1,250,000",
               "1250000", "1 250 000", "1.250.000,00", "1250rb", "1.250 rb", "1250 ribu", "1250k", "1,25 jt",
               "1.25 juta", " Rp 1,25jt "]


@pytest.mark.parametrize("typed", SAME_AMOUNT)
def test_the_ways_of_writing_one_million_two_hundred_fifty_thousand(typed):
    assert parse_rupiah(typed) == 1_250_000


@pytest.mark.parametrize("typed, amount", [
    ("185rb", 185_000), ("185 rb", 185_000), ("185RB", 185_000), ("185k", 185_000), ("1,5 jt", 1_500_000),
    ("1.5 juta", 1_500_000), ("2jt", 2_000_000), ("1.250", 1_250), ("0", 0), ("Rp 150.000,-", 150_000),
    ("1,2 miliar", 1_200_000_000), ("", None), ("   ", None),
])
def test_short_forms_and_thousands(typed, amount):
    assert parse_rupiah(typed) == amount


@pytest.mark.parametrize("typed", ["abc", "1.5", "1,5", "-5000", "1..250", "12.34.567", "1.250.000,50", "5 kg",
                                   "1,5M", "Rp", "10000000000000", "1,250.000.000", "sNaN", "1e6", "½ jt"])
def test_what_is_not_an_amount_is_refused(typed):
    with pytest.raises(NotAnAmount):
        parse_rupiah(typed)


@pytest.mark.parametrize("typed, hours", [("12", 12), ("12,5", 12.5), ("12.5", 12.5), ("3 jam", 3), ("", None)])
def test_hours_with_a_decimal_comma_or_point(typed, hours):
    result = parse_hours(typed)
    assert (float(result) if result is not None else None) == hours


def _errors(page: str) -> list[str]:
    return re.findall(r'<p class="error">([^<]*)</p>', page)


def test_new_customer_expected_value_as_typed(owner_client):
    response = owner_client.post("/customers/new", data={
        "display_name": "Rina", "assigned_to_id": "0", "stage": "interested", "expected_value": "Rp 1.250.000"})
    assert response.status_code == 302
    rina = db.session.execute(db.select(Customer)).scalar_one()
    assert rina.expected_value == 1_250_000


def test_an_amount_that_is_not_one_gives_one_error_and_keeps_what_was_typed(owner_client):
    response = owner_client.post("/customers/new", data={
        "display_name": "Rina", "assigned_to_id": "0", "stage": "none", "expected_value": "sejuta lebih"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert _errors(page) == ["Type an amount in rupiah, like 1.250.000, 185rb or 1,5 jt."]
    assert 'value="sejuta lebih"' in page
    assert 'type="number"' not in page


def test_a_sale_and_the_expected_value_on_the_pipeline_form(staff_client, make_customer):
    rina = make_customer("Rina", whatsapp="081234567890")
    response = staff_client.post(f"/customers/{rina.id}/pipeline", data={
        "stage": "won", "expected_value": "1,5 jt", "amount": "185rb", "sold_on": shop_day().today.isoformat(),
        "channel": "whatsapp"})
    assert response.status_code == 302
    assert db.session.get(Customer, rina.id).expected_value == 1_500_000
    assert db.session.execute(db.select(Order.total)).scalar_one() == 185_000
    page = staff_client.get(f"/customers/{rina.id}").get_data(as_text=True)
    assert "Rp 185,000" in page and "IDR" not in page
    assert 'value="1,500,000"' in page  # the saved expected value, grouped as the reader writes it


def test_costs_as_typed_and_no_step_checks(owner_client):
    page = owner_client.get("/reports/costs?month=2026-06").get_data(as_text=True)
    assert 'type="number"' not in page and "step=" not in page
    whatsapp = re.search(r'name="entries-(\d+)-channel" type="hidden" value="whatsapp"', page)[1]
    data = {"month": "2026-06"}
    for index in range(9):
        data[f"entries-{index}-channel"] = re.search(
            rf'name="entries-{index}-channel" type="hidden" value="(\w+)"', page)[1]
    data |= {f"entries-{whatsapp}-ads": "1,5 jt", f"entries-{whatsapp}-boosts": "Rp 250.000",
             f"entries-{whatsapp}-staff_hours": "12,5", f"entries-{whatsapp}-hourly_cost": "20rb"}
    assert owner_client.post("/reports/costs", data=data).status_code == 302
    cost = db.session.execute(db.select(ChannelCost)).scalar_one()
    assert (cost.ads, cost.boosts, cost.staff_hours, cost.hourly_cost) == (1_500_000, 250_000, 12.5, 20_000)
    assert cost.total == 2_000_000
    refused = owner_client.post("/reports/costs", data=data | {f"entries-{whatsapp}-ads": "1.5",
                                                               f"entries-{whatsapp}-staff_hours": "banyak"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert _errors(page) == ["Type an amount in rupiah, like 1.250.000, 185rb or 1,5 jt.",
                             "Type the hours as a number, like 12 or 12,5."]
    assert 'value="1.5"' in page and 'value="banyak"' in page


def test_indonesian_pages_group_with_points(app, owner_client, owner, make_customer):
    from crm.models import User

    rina = make_customer("Rina")
    rina.expected_value = 1_250_000
    db.session.get(User, owner.id).locale = "id"
    db.session.commit()
    page = owner_client.get(f"/customers/{rina.id}/edit").get_data(as_text=True)
    assert 'value="1.250.000"' in page
    assert "Rp 1.250.000" in owner_client.get(f"/customers/{rina.id}").get_data(as_text=True)
