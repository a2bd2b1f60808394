"""Log chat's channel follows the chosen customer: the channel of their latest conversation, or their only one."""
import re
from datetime import datetime, timedelta, timezone

from crm.admin.trash import move_to_trash
from crm.customers.services import usual_channels
from crm.extensions import db


def _channel_select(response) -> str:
    """The channel <select>, written '<option value="x" selected>' whatever order WTForms puts the attributes in."""
    page = response.get_data(as_text=True)
    select = re.search(r'<select[^>]*name="channel".*?</select>', page, re.S)[0]
    return re.sub(r'<option selected value="(\w+)"', r'<option value="\1" selected', select)


def test_an_instagram_only_customer_gets_instagram_from_her_page(staff_client, make_customer):
    dewi = make_customer("Dewi", instagram="@dewi.hijab")
    page = staff_client.get(f"/conversations/log?customer_id={dewi.id}")
    assert 'value="instagram" selected' in _channel_select(page)


def test_the_latest_conversations_channel_wins(staff_client, make_customer, chat):
    rina = make_customer("Rina", whatsapp="081234567890", instagram="@rina.shop")
    now = datetime.now(timezone.utc)
    chat(rina, [("customer", "halo")], channel="whatsapp", start=now - timedelta(days=9))
    latest = chat(rina, [("customer", "kak, ready?")], channel="tiktok", start=now - timedelta(days=1))
    assert 'value="tiktok" selected' in _channel_select(staff_client.get(f"/conversations/log?customer_id={rina.id}"))
    move_to_trash(latest)
    db.session.commit()
    assert usual_channels([rina]) == {rina.id: "whatsapp"}, "a conversation in the trash does not count"


def test_several_kinds_and_no_chat_leave_the_channel_as_it_is(staff_client, make_customer):
    rina = make_customer("Rina", telegram="@rina", instagram="@rina.shop")
    nobody = make_customer("Nobody")
    assert usual_channels([rina, nobody]) == {}
    assert 'value="whatsapp" selected' in _channel_select(staff_client.get(f"/conversations/log?customer_id={rina.id}"))


def test_the_picker_results_carry_each_customers_channel(staff_client, make_customer, chat):
    dewi = make_customer("Dewi Lestari", instagram="@dewi.hijab")
    dina = make_customer("Dina", whatsapp="081234567891", email="dina@gmail.com")
    chat(dina, [("customer", "halo")], channel="email")
    page = staff_client.get("/customers/lookup?q=D").get_data(as_text=True)
    assert f'data-pick-customer="{dewi.id}" data-name="Dewi Lestari" data-channel="instagram"' in page
    assert f'data-pick-customer="{dina.id}" data-name="Dina" data-channel="email"' in page
