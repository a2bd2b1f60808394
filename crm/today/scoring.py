"""The prospect score: how warm a customer is, 0..100, with the reasons that make it up.

Pure: signals in, score out; no database, no Flask. The whole formula is the tables below.

    points of a signal = its weight x the share its age keeps (DECAY), rounded toward zero
    total = the sum of the reasons' points, then clamped to 0..100

So the reasons always add up to the total, except when clamping cut it: reasons worth 110 show
a total of 100, a lone complaint (-10) shows 0. Signals worth 0 points give no reason.
Won and lost customers are not prospects: their score is 0 with the single reason "won" or "lost"
(worth 0 points), whatever else they did; "asked about price" on a won customer is the next sale,
and the shop moves the stage back to start counting it again.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Mapping

# Tags (names from crm.needs.matching.STARTER_TAGS) the customer asked about. Other tags score nothing.
INTENT_POINTS = {
    "order": 30,
    "price": 25,
    "reseller": 20,
    "product": 15,
    "shipping": 15,
}
COMPLAINT_POINTS = -10  # a complaint is not buying intent; it cools the score while it is fresh
STAGE_POINTS = {
    "none": 0,
    "new_lead": 5,
    "interested": 10,
    "negotiating": 20,
    "won": 0,  # short-circuits: not a prospect any more
    "lost": 0,
}
RECENT_POINTS = 10  # the customer's last message, decayed by its age
WAITING_POINTS = 15  # the customer wrote last and we have not replied, decayed by how long they wait
OVERDUE_POINTS = 10  # an open follow-up is past due; does not decay, a promise does not cool down

# Age in whole days (rounded down) -> percent of the points kept. Older than the last row: nothing.
DECAY = (
    (2, 100),  # today, yesterday, 2 days ago: all
    (7, 50),  # 3..7 days: half
    (30, 25),  # 8..30 days: a quarter
)

HOT_THRESHOLD = 60  # at or above: a hot prospect (e.g. asked price, interested, waiting on us today)
MAX_SCORE = 100

_STAGE_WORDS = {"new_lead": "new lead", "interested": "interested", "negotiating": "negotiating"}


@dataclass(frozen=True)
class Signals:
    now: datetime  # aware
    stage: str  # none|new_lead|interested|negotiating|won|lost
    intent_tags: Mapping[str, datetime]  # tag name -> when the customer last asked (aware)
    last_customer_message_at: datetime | None = None
    waiting_on_us_since: datetime | None = None  # set when the last message is the customer's
    overdue_follow_up_since: datetime | None = None  # due time of the oldest overdue open follow-up


@dataclass(frozen=True)
class Reason:
    points: int
    code: str  # intent | complaint | stage | recent | waiting | overdue | won | lost
    tag: str | None = None  # the tag for intent and complaint, the stage for stage
    age_days: int | None = None  # whole days since the signal; None for stage, won, lost

    def describe(self) -> str:
        """The English sentence, for logs and tests; the UI builds its own translated one from the code."""
        points = f"{self.points:+d}" if self.points else "0"
        ago = _ago(self.age_days)
        sentence = {
            "intent": f"asked about {self.tag} {ago}",
            "complaint": f"complained {ago}",
            "stage": f"stage is {_STAGE_WORDS.get(self.tag or '', self.tag)}",
            "recent": f"last message {ago}",
            "waiting": f"waiting for our reply {_for(self.age_days)}",
            "overdue": f"follow-up overdue {_for(self.age_days)}",
            "won": "won, no longer a prospect",
            "lost": "lost",
        }.get(self.code, self.code)
        return f"{points} {sentence}"


@dataclass(frozen=True)
class Score:
    total: int
    reasons: tuple[Reason, ...]

    @property
    def is_hot(self) -> bool:
        return self.total >= HOT_THRESHOLD


def prospect_score(signals: Signals) -> Score:
    """Score one customer; reasons sorted by points, highest first. Raises ValueError on an unknown
    stage or a naive datetime (a naive time would silently shift ages by the UTC offset)."""
    if signals.stage not in STAGE_POINTS:
        raise ValueError(f"unknown stage {signals.stage!r}")
    now = signals.now
    _require_aware("now", now)
    if signals.stage in ("won", "lost"):
        return Score(0, (Reason(0, signals.stage),))

    reasons: list[Reason] = []

    def add(weight: int, code: str, tag: str | None, since: datetime | None, decays: bool = True) -> None:
        if since is None:
            return
        _require_aware(code, since)
        age = _age_days(now, since)
        points = _decayed(weight, age) if decays else weight
        if points:
            reasons.append(Reason(points, code, tag, age))

    for tag, asked_at in signals.intent_tags.items():
        if tag in INTENT_POINTS:
            add(INTENT_POINTS[tag], "intent", tag, asked_at)
        elif tag == "complaint":
            add(COMPLAINT_POINTS, "complaint", tag, asked_at)
    if STAGE_POINTS[signals.stage]:
        reasons.append(Reason(STAGE_POINTS[signals.stage], "stage", signals.stage, None))
    add(RECENT_POINTS, "recent", None, signals.last_customer_message_at)
    add(WAITING_POINTS, "waiting", None, signals.waiting_on_us_since)
    add(OVERDUE_POINTS, "overdue", None, signals.overdue_follow_up_since, decays=False)

    order = ("intent", "stage", "waiting", "overdue", "recent", "complaint")
    reasons.sort(key=lambda r: (-r.points, order.index(r.code), r.tag or ""))
    total = sum(r.points for r in reasons)
    return Score(max(0, min(MAX_SCORE, total)), tuple(reasons))


def next_change(signals: Signals, falls_due: Iterable[datetime] = ()) -> datetime | None:
    """When the score of these signals changes by itself: the first moment a signal's age passes a step of
    DECAY, or an open follow-up becomes overdue (`falls_due`); None if it never does (won, lost, no signal)."""
    if signals.stage in ("won", "lost"):
        return None
    now = signals.now
    times = [*signals.intent_tags.values(), signals.last_customer_message_at, signals.waiting_on_us_since]
    moments = [then + timedelta(days=max_age + 1) for then in times if then is not None for max_age, _ in DECAY]
    moments.extend(falls_due)
    return min((moment for moment in moments if moment > now), default=None)


def _age_days(now: datetime, then: datetime) -> int:
    """Whole days, rounded down; a time in the future (clock skew between phones) counts as now."""
    return max(0, (now - then).days)


def _decayed(weight: int, age_days: int) -> int:
    for max_age, percent in DECAY:
        if age_days <= max_age:
            kept = abs(weight) * percent // 100
            return kept if weight >= 0 else -kept
    return 0


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


def _ago(age_days: int | None) -> str:
    if age_days is None:
        return ""
    if age_days == 0:
        return "today"
    if age_days == 1:
        return "1 day ago"
    return f"{age_days} days ago"


def _for(age_days: int | None) -> str:
    if not age_days:
        return "since today"
    return "for 1 day" if age_days == 1 else f"for {age_days} days"
