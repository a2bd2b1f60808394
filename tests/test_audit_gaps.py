"""The audit trail records sales, stage changes, follow-ups (set, done, snoozed), tag and rule edits, hand tagging
and cost edits: who did it, to what, and what changed; and the trail page reads them in words."""
from datetime import timedelta

from crm.extensions import db
from crm.models import AuditEvent, ChannelCost, Tag
from crm.today.queue import shop_day


def _events(action: str) -> list[AuditEvent]:
    return db.session.execute(
        db.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).scalars().all()


def test_a_sale_and_a_stage_change_are_recorded(staff_client, staff, make_customer):
    rina = make_customer("Rina")
    staff_client.post(f"/customers/{rina.id}/pipeline", data={
        "stage": "negotiating", "expected_value": "1,5 jt", "channel": "whatsapp"})
    [stage] = _events("stage")
    assert (stage.user_id, stage.target_type, stage.target_id) == (staff.id, "customer", rina.id)
    assert stage.details == {"changed": {"stage": ["none", "negotiating"], "expected_value": [None, 1_500_000]}}
    today = shop_day().today
    staff_client.post(f"/customers/{rina.id}/pipeline", data={
        "stage": "won", "expected_value": "1,5 jt", "amount": "1.250.000", "sold_on": today.isoformat(),
        "channel": "instagram"})
    [sale] = _events("sale")
    assert sale.user_id == staff.id and sale.target_id == rina.id and sale.summary == "Rina"
    assert sale.details == {"amount": 1_250_000, "sold_on": today.isoformat(), "channel": "instagram"}
    assert _events("stage")[-1].details == {"changed": {"stage": ["negotiating", "won"]}}
    staff_client.post(f"/customers/{rina.id}/pipeline", data={
        "stage": "won", "expected_value": "1,5 jt", "channel": "whatsapp"})
    assert len(_events("stage")) == 2, "saving without a change records nothing"


def test_follow_ups_set_done_and_snoozed_are_recorded(staff_client, staff, make_customer):
    rina = make_customer("Rina")
    staff_client.post("/follow-ups/new", data={"customer_id": rina.id, "when": "1d", "note": "kirim katalog",
                                               "assigned_to_id": str(staff.id)})
    [set_] = _events("follow_up_set")
    tomorrow = shop_day().today + timedelta(days=1)
    assert set_.target_id == rina.id and set_.user_id == staff.id
    assert set_.details == {"due_on": tomorrow.isoformat(), "note": "kirim katalog", "assigned_to": "Budi Staff",
                            "conversation_id": None}
    follow_up_id = db.session.execute(db.text("SELECT id FROM follow_ups")).scalar()
    staff_client.post(f"/follow-ups/{follow_up_id}/snooze", data={"when": "3d"})
    [snoozed] = _events("follow_up_snoozed")
    later = shop_day().today + timedelta(days=3)
    assert snoozed.details == {"changed": {"due_on": [tomorrow.isoformat(), later.isoformat()]},
                               "note": "kirim katalog"}
    staff_client.post(f"/follow-ups/{follow_up_id}/done", data={})
    staff_client.post(f"/follow-ups/{follow_up_id}/done", data={})
    [done] = _events("follow_up_done")
    assert done.details == {"due_on": later.isoformat(), "note": "kirim katalog"}


def test_tag_and_rule_edits_are_recorded(owner_client, owner, staff_client, make_customer, chat):
    owner_client.post("/tags/new", data={"title": "Hampers", "colour": "#db2777", "kind": "need",
                                         "keywords": "kado, hampers"})
    [added] = _events("tag_added")
    tag = db.session.execute(db.select(Tag).where(Tag.title == "Hampers")).scalar_one()
    assert (added.target_type, added.target_id, added.user_id) == ("tag", tag.id, owner.id)
    assert added.details == {"title": "Hampers", "colour": "#db2777", "kind": "need", "keywords": ["kado", "hampers"]}
    owner_client.post(f"/tags/{tag.id}/edit", data={"title": "Hampers", "colour": "#db2777", "kind": "need",
                                                    "keywords": "kado, hampers, parsel"})
    [edited] = _events("tag_edited")
    assert edited.details == {"changed": {"keywords": [["kado", "hampers"], ["kado", "hampers", "parsel"]]}}
    owner_client.post("/tags/retag", data={})
    assert _events("retag")[0].details == {"conversations": 0}

    conversation = chat(make_customer("Rina"), [("customer", "halo")])
    staff_client.post(f"/conversations/{conversation.id}/tags", data={"tag_id": tag.id})
    staff_client.post(f"/conversations/{conversation.id}/tags/{tag.id}/remove", data={})
    assert [e.details for e in _events("tagged")] == [{"tag": "Hampers"}]
    assert [(e.target_type, e.target_id) for e in _events("untagged")] == [("conversation", conversation.id)]

    owner_client.post(f"/tags/{tag.id}/delete", data={})
    [deleted] = _events("tag_deleted")
    assert deleted.summary == "Hampers" and deleted.details["keywords"] == ["kado", "hampers", "parsel"]


def test_cost_edits_are_recorded_per_channel_before_and_after(owner_client, owner):
    import re

    page = owner_client.get("/reports/costs?month=2026-06").get_data(as_text=True)
    data = {"month": "2026-06"}
    channels = re.findall(r'name="entries-(\d+)-channel" type="hidden" value="(\w+)"', page)
    for index, channel in channels:
        data[f"entries-{index}-channel"] = channel
    whatsapp = next(index for index, channel in channels if channel == "whatsapp")
    owner_client.post("/reports/costs", data=data | {f"entries-{whatsapp}-ads": "500rb"})
    owner_client.post("/reports/costs", data=data | {f"entries-{whatsapp}-ads": "600rb",
                                                     f"entries-{whatsapp}-staff_hours": "2,5"})
    owner_client.post("/reports/costs", data=data | {f"entries-{whatsapp}-ads": "600rb",
                                                     f"entries-{whatsapp}-staff_hours": "2,5"})
    first, second = _events("costs")
    assert first.user_id == owner.id and first.summary == "2026-06"
    assert first.details == {"month": "2026-06", "changed": {"whatsapp": [
        None, {"ads": 500_000, "boosts": 0, "staff_hours": 0.0, "hourly_cost": 0}]}}
    assert second.details["changed"]["whatsapp"][1]["staff_hours"] == 2.5
    assert db.session.execute(db.select(ChannelCost.ads)).scalar_one() == 600_000


def test_the_trail_page_reads_the_new_events_in_words(owner_client, staff_client, make_customer):
    rina = make_customer("Rina")
    staff_client.post(f"/customers/{rina.id}/pipeline", data={
        "stage": "won", "amount": "185rb", "sold_on": shop_day().today.isoformat(), "channel": "whatsapp"})
    staff_client.post("/follow-ups/new", data={"customer_id": rina.id, "when": "7d", "assigned_to_id": "0"})
    page = owner_client.get("/audit").get_data(as_text=True)
    assert "Recorded a sale" in page and "Set a follow-up" in page and "Changed the stage" in page
    assert "Rp 185,000" in page and "WhatsApp" in page and "No stage → Won" in page
