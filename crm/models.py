"""Every table of Obrolan. Times are stored as UTC and come back timezone-aware."""
from __future__ import annotations

from datetime import date, datetime, timezone

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db
from .identities import CHANNELS, display_handle

ROLES = ("owner", "staff")
SIDES = ("customer", "staff")
STAGES = ("none", "new_lead", "interested", "negotiating", "won", "lost")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """SQLite has no time zones: store naive UTC, hand back aware UTC, refuse naive input."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware one (UTC or the shop's zone)")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(f"role IN {_in(ROLES)}", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(10), default="staff")
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped on password change or deactivation so every old session and remember-me cookie stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    locale: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    # The login this request belongs to (crm.auth.sessions); set at login and when a request loads the user.
    login_token = None

    def get_id(self) -> str:
        # In the session cookie and the remember-me cookie: the session version ends every login at once
        # (password change, deactivation, "log out everywhere"); the token ends one (logout).
        return f"{self.id}:{self.session_version}:{self.login_token or ''}"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class LoginSession(db.Model):
    """One login on one browser (crm.auth.sessions): logging out deletes it, so a copy of its cookie is useless."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the token in the cookie: a copy of the database gives no working cookie.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


def _live_customer_index(name: str, *columns, where: str = "") -> Index:
    """An index over live customers only (the lists never show the others): queries name the same condition."""
    live = text("deleted_at IS NULL AND merged_into_id IS NULL" + where)
    return Index(name, *columns, sqlite_where=live, postgresql_where=live)


class Customer(db.Model):
    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint(f"stage IN {_in(STAGES)}", name="stage"),
        # Every order and filter of the customer list, and Today's hot prospects (crm.customers.listing).
        _live_customer_index("ix_customers_live_activity", "last_activity_at", "id"),
        _live_customer_index("ix_customers_live_score", "score", "id"),
        _live_customer_index("ix_customers_live_name", "display_name", "id"),
        _live_customer_index("ix_customers_live_expected_value", "expected_value", "id"),
        _live_customer_index("ix_customers_live_created", "created_at", "id"),
        _live_customer_index("ix_customers_live_since", "since_at", "id"),
        _live_customer_index("ix_customers_live_stage", "stage", "last_activity_at"),
        _live_customer_index("ix_customers_live_assigned", "assigned_to_id", "last_activity_at"),
        # The waiting only: over all, the planner would take it for "waiting_since IS NULL" (hot prospects).
        _live_customer_index("ix_customers_live_waiting", "waiting_since", where=" AND waiting_since IS NOT NULL"),
        _live_customer_index("ix_customers_live_first_contact", "first_contact_at"),
        # Only the few in the trash (the trash page, the purge): over every customer, the planner would take
        # it for "deleted_at IS NULL" and walk all customers instead of the index that narrows them down.
        Index("ix_customers_deleted_at", "deleted_at", sqlite_where=text("deleted_at IS NOT NULL"),
              postgresql_where=text("deleted_at IS NOT NULL")),
        # With the one above, the few customers who no longer count, read without touching the table:
        # orders and the report leave them out that way (crm.orders.services.of_live_customer).
        Index("ix_customers_merged_into_id", "merged_into_id", sqlite_where=text("merged_into_id IS NOT NULL"),
              postgresql_where=text("merged_into_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(Text, default="")  # where orders go; saved from a format order
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    stage: Mapped[str] = mapped_column(String(20), default="none")
    expected_value: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)  # new prospects this week
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Set when merged away: the row stays so links and history still resolve to the surviving customer.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Made by an import that has not finished: hidden like the trash (deleted_at is set too) until the import
    # publishes it; the trash leaves these rows out (see ImportJob).
    import_job_id: Mapped[int | None] = mapped_column(ForeignKey("import_jobs.id"), index=True)

    # Kept from their conversations, messages, tags and follow-ups by crm.kept (one place, at every
    # commit); never written anywhere else. Lists order and filter by them without reading any conversation.
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # else created_at
    first_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first message of their first chat
    # "Customer since": their first message, or when they were added if that was earlier.
    since_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_conversation_id: Mapped[int | None] = mapped_column(Integer)  # that chat (its channel, who logged it)
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)  # their oldest open wait
    score: Mapped[int] = mapped_column(Integer, default=0)  # the prospect score, as of now
    # When the score next changes by itself (a signal ages past a step, a follow-up falls due); refreshed then.
    score_changes_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id])
    identities: Mapped[list[ChannelIdentity]] = relationship(
        back_populates="customer", order_by="ChannelIdentity.id", cascade="all, delete-orphan"
    )
    conversations: Mapped[list[Conversation]] = relationship(back_populates="customer")


class CustomerFacet(db.Model):
    """What the customer list filters a live customer by when a customer can have many of it, kept by crm.kept:
    "channel:instagram" (a handle on it, or a live conversation on it), "tag:3" (a live conversation carrying
    it). The key starts with the facet, so counting a facet's customers reads one stretch of one index."""

    __tablename__ = "customer_facets"

    facet: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True,
                                             index=True)


class ChannelIdentity(db.Model):
    __tablename__ = "channel_identities"
    __table_args__ = (
        UniqueConstraint("channel", "handle", name="uq_channel_identities_channel_handle"),
        CheckConstraint(f"channel IN {_in(CHANNELS)}", name="channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    handle: Mapped[str] = mapped_column(String(200), index=True)

    customer: Mapped[Customer] = relationship(back_populates="identities")

    @property
    def display(self) -> str:
        return display_handle(self.channel, self.handle)


NO_REPLY = ("thanks", "marked", "needed")


class Conversation(db.Model):
    __tablename__ = "conversations"
    __table_args__ = (
        CheckConstraint(f"channel IN {_in(CHANNELS)}", name="channel"),
        Index("ix_conversations_customer_last", "customer_id", "last_message_at"),
        # Only the few in the trash: over every conversation, the planner would take it for "deleted_at IS
        # NULL" and walk them all.
        Index("ix_conversations_deleted_at", "deleted_at", sqlite_where=text("deleted_at IS NOT NULL"),
              postgresql_where=text("deleted_at IS NOT NULL")),
        # "Waiting on us" (waiting_since set), longest wait first: see crm.today.queue. Covering, so counting
        # thousands of waiting conversations never reads the table.
        Index("ix_conversations_waiting", "waiting_since", "customer_id", "deleted_at"),
        # Chats that ended with the customer's thanks, cleared by themselves: listed under Today's waiting.
        Index("ix_conversations_no_reply", "no_reply", "last_message_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))
    logged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    first_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_side: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # As on Customer: written by an import still running, hidden until it publishes.
    import_job_id: Mapped[int | None] = mapped_column(ForeignKey("import_jobs.id"), index=True)
    # Kept with the times above by crm.kept, from the live messages:
    # the first customer message we have not answered, unless no reply is needed (crm.today.waits).
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why no reply is needed: "thanks" (it ended with the customer's thanks, found by itself), "marked"
    # (someone said so); "needed" is someone saying a reply is needed after all. Set by hand, it holds until
    # the conversation's last message changes (no_reply_through).
    no_reply: Mapped[str | None] = mapped_column(String(10))
    no_reply_through: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer: Mapped[Customer] = relationship(back_populates="conversations")
    logged_by: Mapped[User | None] = relationship()
    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", order_by="[Message.sent_at, Message.id]", cascade="all, delete-orphan"
    )


def _asks_for_review(context) -> bool:
    from .orders.reading import asks_for_review

    row = context.get_current_parameters()
    return asks_for_review(row.get("side", ""), row.get("body") or "")


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint(f"side IN {_in(SIDES)}", name="side"),
        Index("ix_messages_conversation_sent", "conversation_id", "sent_at"),
        # Only the few rows in the trash: the trash page and the 30-day purge read them without a scan.
        Index("ix_messages_deleted_at", "deleted_at", sqlite_where=text("deleted_at IS NOT NULL")),
        # The few that ask for a review, by chat and time: Today's "ask for a review" looks for one per order.
        Index("ix_messages_asks_for_review", "conversation_id", "sent_at", sqlite_where=text("asks_for_review = 1"),
              postgresql_where=text("asks_for_review = true")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    side: Mapped[str] = mapped_column(String(10))
    author_name: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    attachments: Mapped[str] = mapped_column(Text, default="")
    # Same channel, customer, time, side and text give the same fingerprint: a chat pasted twice adds nothing.
    fingerprint: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Read from the text as the row is inserted, by any writer that goes through SQLAlchemy (a message's text never
    # changes); crm.kept.rebuild_all reads it again for rows written around it (the generated shop).
    asks_for_review: Mapped[bool] = mapped_column(Boolean, default=_asks_for_review, server_default=false())

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class OurName(db.Model):
    """A name the shop itself uses in chats on a channel ('Toko Sari', 'Admin'), so its messages are ours."""

    __tablename__ = "our_names"
    __table_args__ = (UniqueConstraint("channel", "name_key", name="uq_our_names_channel_name_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200))


class ImportedName(db.Model):
    """A name a customer's chats were imported or pasted under on a channel ('Rina', 'Bu Rina Batik'): the same
    name in a later import leads back to them, also after a rename or a merge (followed to the survivor)."""

    __tablename__ = "imported_names"
    __table_args__ = (
        UniqueConstraint("channel", "name_key", "customer_id", name="uq_imported_names_channel_name_key_customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    name_key: Mapped[str] = mapped_column(String(200))


IMPORT_STATUSES = ("queued", "running", "confirm", "done", "failed", "interrupted", "discarded")


class ImportJob(db.Model):
    """One import of an upload or a path, run in the background (or by `import-chat`).

    It writes in short batches, each its own transaction, so staff keep logging chats meanwhile; what it writes
    stays hidden (customers and conversations with import_job_id and deleted_at set; messages for conversations
    that already exist wait in a hidden conversation of their own) until `publish` shows it all in one short
    transaction. A job whose process died is found by its worker and heartbeat, and its hidden rows deleted.
    """

    __tablename__ = "import_jobs"
    __table_args__ = (
        CheckConstraint(f"status IN {_in(IMPORT_STATUSES)}", name="status"),
        Index("ix_import_jobs_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    source_name: Mapped[str] = mapped_column(String(255))   # the file's name as the user knows it
    path: Mapped[str] = mapped_column(Text)                   # what is read: the kept upload, or the CLI's path
    upload: Mapped[bool] = mapped_column(default=True)        # the file at `path` is ours to delete afterwards
    dry_run: Mapped[bool] = mapped_column(default=False)
    options: Mapped[dict] = mapped_column(JSON, default=dict)  # format, channel, me, day_first, customer_name
    locale: Mapped[str | None] = mapped_column(String(10))   # the uploader's language, for the messages it reads
    status: Mapped[str] = mapped_column(String(20), default="queued")
    worker: Mapped[str | None] = mapped_column(String(200))    # host:pid of the process running it
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lines_read: Mapped[int] = mapped_column(Integer, default=0)
    messages_total: Mapped[int] = mapped_column(Integer, default=0)  # messages in the chats read so far
    messages_done: Mapped[int] = mapped_column(Integer, default=0)   # of those, saved or found already there
    messages_saved: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[dict | None] = mapped_column(JSON)
    # Needed by `publish`: hidden conversations holding messages for existing ones, names to remember.
    pending: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)

    created_by: Mapped[User | None] = relationship()

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed", "interrupted", "discarded")


class Tag(db.Model):
    __tablename__ = "tags"
    __table_args__ = (CheckConstraint("kind IN ('need', 'label')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(80))
    colour: Mapped[str] = mapped_column(String(7), default="#64748b")
    kind: Mapped[str] = mapped_column(String(10), default="need")
    keywords: Mapped[str] = mapped_column(Text, default="")


class ConversationTag(db.Model):
    __tablename__ = "conversation_tags"
    __table_args__ = (CheckConstraint("source IN ('auto', 'manual')", name="source"),)

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True)
    source: Mapped[str] = mapped_column(String(10))
    # A tag removed by hand stays as a row with removed_at set, so re-tagging never brings it back.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    reason_word: Mapped[str | None] = mapped_column(String(120))
    reason_keyword: Mapped[str | None] = mapped_column(String(120))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tag: Mapped[Tag] = relationship()
    reason_message: Mapped[Message | None] = relationship()


class FollowUp(db.Model):
    __tablename__ = "follow_ups"
    __table_args__ = (Index("ix_follow_ups_open_due", "done_at", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    has_time: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(String(500), default="")
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer: Mapped[Customer] = relationship()
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id])


ORDER_STATUSES = ("awaiting_payment", "paid", "packed", "shipped", "delivered", "returned", "cancelled")
PAYMENT_METHODS = ("bank_transfer", "ewallet", "cod", "marketplace")


class Order(db.Model):
    """What a customer bought in a chat: items, money, how they pay, and where it is now (crm.orders).

    Its steps (OrderStep) hold the date of each status it reached; `status` is the latest, kept by
    crm.orders.services.set_status, the only place that writes either. "Won" and revenue count paid orders."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(f"channel IN {_in(CHANNELS)}", name="channel"),
        CheckConstraint(f"status IN {_in(ORDER_STATUSES)}", name="status"),
        CheckConstraint(f"payment_method IS NULL OR payment_method IN {_in(PAYMENT_METHODS)}", name="payment_method"),
        CheckConstraint("shipping_cost >= 0 AND discount >= 0 AND (total IS NULL OR total >= 0)", name="amounts"),
        # Today's order sections: open orders by status.
        Index("ix_orders_status_customer", "status", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"),
                                                        index=True)
    channel: Mapped[str] = mapped_column(String(20))  # where the order came from, for the channel report
    status: Mapped[str] = mapped_column(String(20), default="awaiting_payment")
    payment_method: Mapped[str | None] = mapped_column(String(20))  # None: not recorded (orders from sales)
    shipping_cost: Mapped[int] = mapped_column(Integer, default=0)
    discount: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)  # what the customer pays; None: the amount is not known
    courier: Mapped[str] = mapped_column(String(20), default="")
    tracking_number: Mapped[str] = mapped_column(String(40), default="")
    recipient_name: Mapped[str] = mapped_column(String(200), default="")
    recipient_phone: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    # The "format order" message it was made from: that suggestion is not offered again, and two staff accepting
    # it at the same moment make one order (unique; NULLs are distinct).
    source_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"),
                                                          unique=True)
    review_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    repeat_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship()
    conversation: Mapped[Conversation | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", order_by="OrderItem.position", cascade="all, delete-orphan")
    steps: Mapped[list[OrderStep]] = relationship(
        back_populates="order", order_by="[OrderStep.at, OrderStep.id]", cascade="all, delete-orphan")

    def step(self, status: str) -> OrderStep | None:
        return next((step for step in self.steps if step.status == status), None)

    @property
    def ordered_at(self) -> datetime:
        first = self.step("awaiting_payment")
        return first.at if first else self.created_at


class OrderItem(db.Model):
    __tablename__ = "order_items"
    __table_args__ = (CheckConstraint("quantity >= 1 AND (unit_price IS NULL OR unit_price >= 0)", name="item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(200))
    variant: Mapped[str] = mapped_column(String(200), default="")  # size, colour: "L / Sogan"
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit_price: Mapped[int | None] = mapped_column(Integer)

    order: Mapped[Order] = relationship(back_populates="items")

    @property
    def line_total(self) -> int | None:
        return None if self.unit_price is None else self.unit_price * self.quantity


class OrderStep(db.Model):
    """The moment an order reached a status: the order's timeline, and the dates Today and the report count."""

    __tablename__ = "order_steps"
    __table_args__ = (
        UniqueConstraint("order_id", "status", name="uq_order_steps_order_status"),
        CheckConstraint(f"status IN {_in(ORDER_STATUSES)}", name="status"),
        # Paid revenue of a period, Today's "shipped N days ago": by status, then date.
        Index("ix_order_steps_status_at", "status", "at", "order_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The chat message it was taken from ("sudah transfer kak", "resi JNE ..."), when it was.
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"), index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order] = relationship(back_populates="steps")
    message: Mapped[Message | None] = relationship()
    recorded_by: Mapped[User | None] = relationship()


class DismissedSuggestion(db.Model):
    """A suggestion from the chat ("paid", "shipped" ...) someone said no to: it is not offered again."""

    __tablename__ = "dismissed_suggestions"

    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    dismissed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    dismissed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChannelCost(db.Model):
    """What a channel cost the shop in one month, entered by the owner: the report's cost per won customer
    and return on spend (crm.reports.figures)."""

    __tablename__ = "channel_costs"
    __table_args__ = (
        UniqueConstraint("channel", "month", name="uq_channel_costs_channel_month"),
        CheckConstraint(f"channel IN {_in(CHANNELS)}", name="channel"),
        CheckConstraint("ads >= 0 AND boosts >= 0 AND staff_hours >= 0 AND hourly_cost >= 0", name="not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    month: Mapped[date] = mapped_column(Date)  # always the 1st of the month
    ads: Mapped[int] = mapped_column(Integer, default=0)
    boosts: Mapped[int] = mapped_column(Integer, default=0)
    staff_hours: Mapped[float] = mapped_column(default=0)
    hourly_cost: Mapped[int] = mapped_column(Integer, default=0)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def total(self) -> int:
        return self.ads + self.boosts + round(self.staff_hours * self.hourly_cost)


class FormSubmission(db.Model):
    """The one-time key a chat form carries: the same form posted twice (a double click on "Save chat", a page
    sent again) is saved once; the second post is told where the first went."""

    __tablename__ = "form_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class AuditEvent(db.Model):
    """One line of the audit trail (crm.admin.audit): only ever added, never changed or deleted."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # The name as it was then: the trail reads the same after a rename, and CLI events have none.
    user_name: Mapped[str] = mapped_column(String(120), default="")
    action: Mapped[str] = mapped_column(String(40), index=True)
    target_type: Mapped[str] = mapped_column(String(40), default="")
    target_id: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(String(300), default="")
    details: Mapped[dict | None] = mapped_column(JSON)


# The channel report's daily figures (crm.reports.daily), kept in step with the conversations they come from.
# A first response's wait is counted in one of these steps (upper bounds, minutes); the report's median is
# read from them, so it is exact where the waits fall on a step and within one step otherwise.
WAIT_STEPS = (
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 70, 80, 90, 105, 120, 150, 180, 210,
    240, 300, 360, 420, 480, 540, 600, 720, 900, 1080, 1260, 1440, 1800, 2160, 2880, 3600, 4320, 5760, 7200, 10080,
    14400, 20160, 30240, 43200,
)
WAIT_COLUMNS = tuple(f"w{index:02d}" for index in range(len(WAIT_STEPS) + 1))  # the last: longer than 30 days


class ConversationFigures(db.Model):
    """What one live conversation adds to one day of the report, and under which keys it was added, so a
    change to the conversation takes exactly that back out of the daily rows before adding the new figures."""

    __tablename__ = "conversation_figures"

    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"),
                                                 primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)  # the shop's day
    channel: Mapped[str] = mapped_column(String(20))
    staff_id: Mapped[int] = mapped_column(Integer)  # who logged it; 0 when not recorded
    tag_ids: Mapped[str] = mapped_column(String(200), default="")  # its live need tags, "3 5"
    started: Mapped[int] = mapped_column(Integer, default=0)
    customer_messages: Mapped[int] = mapped_column(Integer, default=0)
    unanswered: Mapped[int] = mapped_column(Integer, default=0)
    waits: Mapped[str] = mapped_column(Text, default="")  # seconds of each answered first response, "1800 60"


class _DailyFigures:
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    conversations: Mapped[int] = mapped_column(Integer, default=0)
    customer_messages: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    unanswered: Mapped[int] = mapped_column(Integer, default=0)
    wait_seconds: Mapped[int] = mapped_column(BigInteger, default=0)


for _name in WAIT_COLUMNS:
    setattr(_DailyFigures, _name, mapped_column(Integer, default=0, nullable=False))


class DailyFigures(_DailyFigures, db.Model):
    """One shop day of one channel and one staff member (0: not recorded): the sums of conversation_figures."""

    __tablename__ = "daily_figures"
    __table_args__ = (PrimaryKeyConstraint("day", "channel", "staff_id"),)  # a period is a stretch of days

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    staff_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class DailyTagFigures(_DailyFigures, db.Model):
    """One shop day of one need tag: the sums of the conversation_figures carrying it."""

    __tablename__ = "daily_tag_figures"
    __table_args__ = (PrimaryKeyConstraint("day", "tag_id"),)

    tag_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class ShopSetting(db.Model):
    """One setting of the shop the owner types on a page (its name in replies, its bank accounts...): one row per
    key, read through crm.shop_settings, which knows each key's default."""

    __tablename__ = "shop_settings"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class QuickReply(db.Model):
    """A ready answer staff pick by typing its shortcut ("/rek"): shop-wide (the owner's) or one person's own.
    Its text may hold variables ({nama}, {rekening}...) and fill-in prompts ({?ukuran}): crm.replies.filling."""

    __tablename__ = "quick_replies"
    __table_args__ = (
        # A shortcut means one reply: among the shop-wide ones, and among each person's own.
        Index("uq_quick_replies_shop_shortcut", "shortcut", unique=True,
              sqlite_where=text("personal_of_id IS NULL AND deleted_at IS NULL"),
              postgresql_where=text("personal_of_id IS NULL AND deleted_at IS NULL")),
        Index("uq_quick_replies_personal_shortcut", "personal_of_id", "shortcut", unique=True,
              sqlite_where=text("deleted_at IS NULL"), postgresql_where=text("deleted_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shortcut: Mapped[str] = mapped_column(String(30))  # without the "/", lower case: "rek"
    title: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    # None: shop-wide, managed by the owner; else the one person who sees and manages it.
    personal_of_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The starter reply it began as ("id:rek"), so a starter deleted by the owner can be added back.
    starter: Mapped[str | None] = mapped_column(String(40))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    personal_of: Mapped[User | None] = relationship(foreign_keys=[personal_of_id])

    @property
    def is_personal(self) -> bool:
        return self.personal_of_id is not None


class ReplyLink(db.Model):
    """A click-to-chat link opened from Obrolan (wa.me, ig.me/m...): with a text, the text was logged as our
    message (message_id) and is "sent via link" in the thread; without one, the thread only says the chat was
    opened. Undone when the sender said it was not sent after all: the message is gone, the row stays."""

    __tablename__ = "reply_links"
    __table_args__ = (
        CheckConstraint(f"channel IN {_in(CHANNELS)}", name="channel"),
        Index("ix_reply_links_user_opened", "user_id", "opened_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"),
                                                        index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    handle: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")  # what was sent, kept after an undo for the audit trail
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer: Mapped[Customer] = relationship()
    conversation: Mapped[Conversation | None] = relationship()
    user: Mapped[User | None] = relationship()


class QuickReplyUse(db.Model):
    """One quick reply put into a reply that was saved or sent: its usage count and last use, and the report's
    quick replies per staff member."""

    __tablename__ = "quick_reply_uses"
    __table_args__ = (Index("ix_quick_reply_uses_reply_used", "quick_reply_id", "used_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quick_reply_id: Mapped[int] = mapped_column(ForeignKey("quick_replies.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    # Set when it went out through a link: undoing that link takes the use back too.
    reply_link_id: Mapped[int | None] = mapped_column(ForeignKey("reply_links.id", ondelete="CASCADE"), index=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
