"""How order statuses, payment methods and couriers read on a page, in the reader's language."""
from flask_babel import lazy_gettext as _l

from .tracking import COURIERS

STATUS_LABELS = {
    "awaiting_payment": _l("Awaiting payment"),
    "paid": _l("Paid"),
    "packed": _l("Packed"),
    "shipped": _l("Shipped"),
    "delivered": _l("Delivered"),
    "returned": _l("Returned"),
    "cancelled": _l("Cancelled"),
}
# The same steps on a timeline: the first one is when the order was placed.
STEP_LABELS = {**STATUS_LABELS, "awaiting_payment": _l("Ordered")}
PAYMENT_LABELS = {
    "bank_transfer": _l("Bank transfer"),
    "ewallet": _l("E-wallet"),
    "cod": _l("Cash on delivery (COD)"),
    "marketplace": _l("Marketplace"),
}
COURIER_LABELS = {**COURIERS, "other": _l("Other courier")}
SUGGESTION_LABELS = {
    "new_order": _l("New order"),
    "paid": _l("Paid"),
    "shipped": _l("Shipped"),
    "delivered": _l("Delivered"),
}
ACCEPT_LABELS = {
    "paid": _l("Yes, mark it paid"),
    "shipped": _l("Yes, mark it shipped"),
    "delivered": _l("Yes, mark it delivered"),
}
