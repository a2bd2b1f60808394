"""The customer list: filters, orders, the total and pages, and what can be done to the rows picked.

Every order is a column kept on the customer (crm.kept) with an index over live customers; filters are
indexed conditions, so a page costs about the same with 500 or 50,000 customers:

- stage, assigned to (someone, or nobody): columns of the customer;
- channel: a number or handle on it, or a live conversation on it;
- need tag: a live conversation carrying it (a tag removed by hand does not count);
- waiting on us: an open wait (customers.waiting_since, the one definition Today uses);
- no contact for N days: no message either way (nor a new customer) for that long (last_activity_at);
- has an open follow-up; won in a period: a sale in it (the report's periods).

Bulk actions act on the rows picked on a page, each in the same transaction, and are audited: the customers'
own events (a change of stage or of who they are assigned to, a move to the trash) and one event for the whole
action. Deleting goes through the trash.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists

from ..admin import audit
from ..admin.trash import move_to_trash
from ..extensions import db
from ..models import Customer, CustomerFacet, FollowUp, Order, Tag, utcnow
from ..orders.services import sales_between
from .services import audited_fields, name_or_handle_matches, record_customer_edit

SORTS = {
    # key: (label, column, natural direction)
    "activity": (_l("Last activity"), Customer.last_activity_at, "desc"),
    "name": (_l("Name"), Customer.display_name, "asc"),
    "value": (_l("Expected value"), Customer.expected_value, "desc"),
    "score": (_l("Score"), Customer.score, "desc"),
    "since": (_l("Customer since"), Customer.since_at, "desc"),
}
QUIET_DAYS = (7, 14, 30, 60, 90, 180)
WON_PERIODS = ("this_month", "last_month", "last_30", "last_90")
MOST_PICKED = 100  # rows of one page at most


@dataclass(frozen=True)
class ListFilters:
    query: str = ""
    stage: str = ""
    channel: str = ""
    tag_id: int | None = None
    assigned_to_id: int | None = None  # 0: nobody
    waiting: bool = False
    quiet_days: int | None = None
    follow_up: bool = False
    won: str = ""  # a period of the report
    sort: str = "activity"
    descending: bool = True

    @property
    def count(self) -> int:
        """How many filters are on, for the Filters button (the search box is beside it, not behind it)."""
        return sum(map(bool, (self.stage, self.channel, self.tag_id, self.assigned_to_id is not None, self.waiting,
                              self.quiet_days, self.follow_up, self.won)))

    @property
    def active(self) -> bool:
        return bool(self.query or self.stage or self.channel or self.tag_id or self.assigned_to_id is not None
                    or self.waiting or self.quiet_days or self.follow_up or self.won)


def live_customer():
    """Written as the partial indexes on customers are (ix_customers_live_*), so the planner can use them."""
    return and_(Customer.deleted_at.is_(None), Customer.merged_into_id.is_(None))


def _conditions(filters: ListFilters, now: datetime, counting: bool = False) -> list:
    conditions = [live_customer()]
    if filters.query:
        conditions.append(name_or_handle_matches(filters.query))
    if filters.stage:
        conditions.append(Customer.stage == filters.stage)
    if filters.assigned_to_id is not None:
        conditions.append(Customer.assigned_to_id == filters.assigned_to_id if filters.assigned_to_id
                          else Customer.assigned_to_id.is_(None))
    if filters.channel:
        conditions.append(_has_facet(f"channel:{filters.channel}", counting))
    if filters.tag_id:
        conditions.append(_has_facet(f"tag:{filters.tag_id}", counting))
    if filters.waiting:
        conditions.append(Customer.waiting_since.is_not(None))
    if filters.quiet_days:
        conditions.append(Customer.last_activity_at < now - timedelta(days=filters.quiet_days))
    if filters.follow_up:
        conditions.append(Customer.id.in_(db.select(FollowUp.customer_id).where(FollowUp.done_at.is_(None))))
    if filters.won:
        first, last = won_days(filters.won, now)
        conditions.append(Customer.id.in_(sales_between(first, last, Order.customer_id)))
    return conditions


def _has_facet(facet: str, counting: bool):
    """Kept for live customers by crm.kept (customer_facets), by its primary key. A page walks the list's order
    and looks each row up, stopping when the page is full (a filter matching a fifth of 50,000 customers:
    20 ms -> under 1 ms); the total reads the facet's whole stretch at once, the cheaper way to count them all."""
    if counting:
        return Customer.id.in_(db.select(CustomerFacet.customer_id).where(CustomerFacet.facet == facet))
    return exists().where(CustomerFacet.facet == facet, CustomerFacet.customer_id == Customer.id)


def won_days(period: str, now: datetime) -> tuple[date, date]:
    from ..reports.figures import period_for

    chosen = period_for(period, now=now)
    return chosen.first_day, chosen.last_day


def customer_list(filters: ListFilters, now: datetime | None = None, counting: bool = False):
    """The statement of the list: live customers meeting the filters, in the chosen order (ties by id, so
    pages never overlap), their handles and who they are assigned to loaded with them."""
    from sqlalchemy.orm import selectinload

    now = now or utcnow()
    _label, column, _natural = SORTS.get(filters.sort, SORTS["activity"])
    if filters.descending:
        order = (column.desc().nulls_last(), Customer.id.desc())
    else:
        order = (column.asc().nulls_last(), Customer.id.asc())
    return (
        db.select(Customer).where(*_conditions(filters, now, counting)).order_by(*order)
        .options(selectinload(Customer.identities), selectinload(Customer.assigned_to))
    )


# --- bulk actions --------------------------------------------------------------------------------------


BULK_ACTIONS = ("assign", "stage", "tag", "follow_up", "trash")


@dataclass
class BulkResult:
    done: list[Customer]
    skipped: int = 0  # picked, but trashed or merged meanwhile, or nothing to do for them


def picked_customers(ids: list[int]) -> tuple[list[Customer], int]:
    """The picked customers still live, read in the transaction that changes them; and how many were not."""
    ids = sorted(set(ids))[:MOST_PICKED]
    customers = list(db.session.execute(
        db.select(Customer).where(Customer.id.in_(ids), live_customer()).order_by(Customer.id)).scalars())
    return customers, len(ids) - len(customers)


def bulk_assign(customers: list[Customer], user_id: int | None) -> BulkResult:
    done = []
    for customer in customers:
        if customer.assigned_to_id != user_id:
            before = audited_fields(customer)
            customer.assigned_to_id = user_id
            record_customer_edit(customer, before)
            done.append(customer)
    return BulkResult(done, len(customers) - len(done))


def bulk_stage(customers: list[Customer], stage: str, *, sold_on: date, created_by_id: int | None) -> BulkResult:
    """Set the stage; becoming won records a sale of unknown amount (its amount can be filled in on the
    customer's page), as choosing won anywhere does."""
    from ..today.services import default_sale_channel, record_sale, set_stage

    done = []
    for customer in customers:
        if customer.stage == stage:
            continue
        # Each audits itself (the stage change, or the sale with it).
        if stage == "won":
            record_sale(customer, amount=None, sold_on=sold_on, channel=default_sale_channel(customer),
                        created_by_id=created_by_id)
        else:
            set_stage(customer, stage, customer.expected_value)
        done.append(customer)
    return BulkResult(done, len(customers) - len(done))


def bulk_tag(customers: list[Customer], tag: Tag, user_id: int | None) -> BulkResult:
    """The tag goes on each customer's latest conversation (tags belong to conversations); a customer with
    none is skipped."""
    from ..needs.tagging import add_tag_by_hand
    from ..today.queue import latest_conversations

    latest = latest_conversations(c.id for c in customers)
    done = []
    for customer in customers:
        conversation = latest.get(customer.id)
        if conversation is not None:
            add_tag_by_hand(conversation, tag, user_id)
            done.append(customer)
    return BulkResult(done, len(customers) - len(done))


def bulk_follow_up(customers: list[Customer], due_at: datetime, has_time: bool, created_by_id: int | None
                   ) -> BulkResult:
    """A follow-up for each, for whoever they are assigned to (or whoever set it)."""
    from ..today.services import add_follow_up

    for customer in customers:
        add_follow_up(customer, due_at=due_at, has_time=has_time,
                      assigned_to_id=customer.assigned_to_id or created_by_id, created_by_id=created_by_id)
    return BulkResult(list(customers))


def bulk_trash(customers: list[Customer]) -> BulkResult:
    for customer in customers:
        move_to_trash(customer)
    return BulkResult(list(customers))


def record_bulk(action: str, result: BulkResult, details: dict) -> None:
    """One event for the whole action, naming every customer it changed."""
    names = [customer.display_name for customer in result.done]
    audit.record(f"bulk_{action}", "customer", ", ".join(names)[:300],
                 {**details, "customers": [{"id": c.id, "name": c.display_name} for c in result.done],
                  "skipped": result.skipped})

