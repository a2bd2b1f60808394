from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm.today.scoring import (
    COMPLAINT_POINTS,
    HOT_THRESHOLD,
    INTENT_POINTS,
    STAGE_POINTS,
    Reason,
    Score,
    Signals,
    prospect_score,
)

WIB = timezone(timedelta(hours=7))
NOW = datetime(2026, 5, 14, 10, 0, tzinfo=WIB)


def ago(**delta) -> datetime:
    return NOW - timedelta(**delta)


def signals(stage="none", tags=None, last=None, waiting=None, overdue=None) -> Signals:
    return Signals(now=NOW, stage=stage, intent_tags=tags or {}, last_customer_message_at=last,
                   waiting_on_us_since=waiting, overdue_follow_up_since=overdue)


def described(score: Score) -> list[str]:
    return [r.describe() for r in score.reasons]


def test_asked_price_two_days_ago_waiting_three_hours_interested():
    score = prospect_score(signals("interested", {"price": ago(days=2, hours=1)},
                                   last=ago(hours=3), waiting=ago(hours=3)))
    assert score.total == 60
    assert score.is_hot and HOT_THRESHOLD == 60
    assert described(score) == [
        "+25 asked about price 2 days ago",
        "+15 waiting for our reply since today",
        "+10 stage is interested",
        "+10 last message today",
    ]
    assert score.reasons[0] == Reason(25, "intent", "price", 2)


def test_ready_to_order_is_clamped_to_100():
    score = prospect_score(signals("negotiating", {"order": ago(hours=1), "price": ago(days=1)},
                                   last=ago(hours=1), waiting=ago(hours=1), overdue=ago(days=3)))
    assert sum(r.points for r in score.reasons) == 30 + 25 + 20 + 15 + 10 + 10
    assert score.total == 100
    assert "+10 follow-up overdue for 3 days" in described(score)


def test_new_lead_who_asked_about_a_product_last_week():
    score = prospect_score(signals("new_lead", {"product": ago(days=5)}, last=ago(days=5)))
    assert described(score) == ["+7 asked about product 5 days ago", "+5 stage is new lead",
                                "+5 last message 5 days ago"]
    assert score.total == 17
    assert not score.is_hot


def test_old_reseller_enquiry_with_an_overdue_follow_up():
    score = prospect_score(signals("none", {"reseller": ago(days=10), "shipping": ago(days=40)},
                                   last=ago(days=10), overdue=ago(days=4)))
    assert described(score) == ["+10 follow-up overdue for 4 days", "+5 asked about reseller 10 days ago",
                                "+2 last message 10 days ago"]
    assert score.total == 17


def test_complaint_lowers_the_score_and_never_below_zero():
    alone = prospect_score(signals(tags={"complaint": ago(days=1)}))
    assert alone.reasons == (Reason(COMPLAINT_POINTS, "complaint", "complaint", 1),)
    assert alone.reasons[0].describe() == "-10 complained 1 day ago"
    assert alone.total == 0
    mixed = prospect_score(signals("interested", {"price": ago(hours=2), "complaint": ago(hours=1)},
                                   last=ago(hours=1)))
    assert mixed.total == 25 + 10 + 10 - 10
    assert mixed.reasons[-1].code == "complaint"
    fading = prospect_score(signals(tags={"complaint": ago(days=10)}))
    assert fading.reasons[0].points == -2  # a quarter of -10, rounded toward zero


@pytest.mark.parametrize("age, points", [
    (timedelta(0), 25),
    (timedelta(days=2, hours=23, minutes=59), 25),
    (timedelta(days=3), 12),
    (timedelta(days=7, hours=23), 12),
    (timedelta(days=8), 6),
    (timedelta(days=30, hours=23), 6),
    (timedelta(days=31), 0),
    (timedelta(days=400), 0),
    (-timedelta(hours=5), 25),  # a phone clock ahead of ours: counts as now
])
def test_decay_boundaries(age, points):
    score = prospect_score(signals(tags={"price": NOW - age}))
    assert score.total == points
    assert score.reasons == ((Reason(points, "intent", "price", max(0, age.days)),) if points else ())


def test_waiting_and_recent_decay_but_overdue_does_not():
    assert prospect_score(signals(waiting=ago(days=5))).total == 7
    assert prospect_score(signals(waiting=ago(days=20))).total == 3
    assert prospect_score(signals(last=ago(days=20))).total == 2
    assert prospect_score(signals(overdue=ago(days=90))).total == 10


@pytest.mark.parametrize("stage", ["won", "lost"])
def test_won_and_lost_are_not_prospects(stage):
    score = prospect_score(signals(stage, {"order": ago(hours=1), "price": ago(hours=1)},
                                   last=ago(hours=1), waiting=ago(hours=1), overdue=ago(days=1)))
    assert score == Score(0, (Reason(0, stage),))
    assert score.reasons[0].describe() in ("0 won, no longer a prospect", "0 lost")


def test_no_signals_scores_zero_without_reasons():
    assert prospect_score(signals()) == Score(0, ())


def test_stage_alone():
    assert [prospect_score(signals(stage)).total for stage in ("none", "new_lead", "interested", "negotiating")] \
        == [0, 5, 10, 20]


def test_tags_that_are_not_intent_score_nothing():
    assert prospect_score(signals(tags={"vip": ago(hours=1), "hesitant": ago(hours=1)})) == Score(0, ())


def test_bad_input_is_refused_loudly():
    with pytest.raises(ValueError, match="stage"):
        prospect_score(signals("maybe"))
    with pytest.raises(ValueError, match="aware"):
        prospect_score(Signals(now=datetime(2026, 5, 14), stage="none", intent_tags={}))
    with pytest.raises(ValueError, match="aware"):
        prospect_score(signals(tags={"price": datetime(2026, 5, 13)}))


def test_other_time_zones_are_compared_as_instants():
    utc_two_days_ago = (NOW - timedelta(days=2, hours=1)).astimezone(timezone.utc)
    assert prospect_score(signals(tags={"price": utc_two_days_ago})).total == 25


optional_time = st.none() | st.timedeltas(min_value=timedelta(days=-2), max_value=timedelta(days=100)).map(
    lambda d: NOW - d)


@settings(max_examples=300, deadline=None)
@given(
    stage=st.sampled_from(sorted(STAGE_POINTS)),
    tags=st.dictionaries(st.sampled_from([*INTENT_POINTS, "complaint", "vip"]),
                         st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60)).map(lambda d: NOW - d)),
    last=optional_time, waiting=optional_time, overdue=optional_time,
)
def test_total_is_the_clamped_sum_of_sorted_reasons(stage, tags, last, waiting, overdue):
    score = prospect_score(signals(stage, tags, last, waiting, overdue))
    points = [r.points for r in score.reasons]
    assert score.total == max(0, min(100, sum(points)))
    assert points == sorted(points, reverse=True)
    if stage in ("won", "lost"):
        assert score.reasons == (Reason(0, stage),)
    else:
        assert all(points)
        assert len({(r.code, r.tag) for r in score.reasons}) == len(score.reasons)
