"""The shop's own settings, typed by the owner on a page (not in instance/config.py): its name as customers
know it, its bank accounts, which quick replies nudge. One row per key in shop_settings; a key never saved
reads as its default. Read once per request."""
from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db
from .models import ShopSetting

KEYS = ("shop_name", "bank_accounts", "nudge_overdue", "nudge_hot",
        # Today's order reminders (crm.orders.settings)
        "order_payment_nudge_days", "order_delivery_days", "order_review_days", "order_repeat_days",
        "order_repeat_days_by_product")
PRODUCT_NAME = "Obrolan"  # SHOP_NAME's default: the app's name, not the shop's


def all_settings() -> dict[str, str]:
    if "shop_settings" not in g:
        try:
            saved = dict(db.session.execute(db.select(ShopSetting.key, ShopSetting.value)).all())
        except SQLAlchemyError:  # the error page of a broken database still shows a name in its top bar
            db.session.rollback()
            return {key: "" for key in KEYS}
        g.shop_settings = {key: saved.get(key, "") for key in KEYS}
    return g.shop_settings


def setting(key: str) -> str:
    return all_settings()[key]


def save_settings(values: dict[str, str], user_id: int | None) -> dict[str, list[str]]:
    """Store the given keys; returns what changed as {key: [before, after]}, for the audit trail."""
    current = all_settings()
    changed = {}
    for key, value in values.items():
        if key not in KEYS:
            raise KeyError(key)
        value = value or ""
        if value == current[key]:
            continue
        row = db.session.get(ShopSetting, key)
        if row is None:
            row = ShopSetting(key=key)
            db.session.add(row)
        row.value, row.updated_by_id = value, user_id
        changed[key] = [current[key], value]
    db.session.flush()
    g.pop("shop_settings", None)
    return changed


def shop_name() -> str:
    """The shop's name: as the owner typed it, else the SHOP_NAME setting."""
    return setting("shop_name").strip() or current_app.config["SHOP_NAME"]


def shop_name_for_customers() -> str | None:
    """The name a reply signs with: None while the shop has not said it (SHOP_NAME is still the app's name)."""
    name = shop_name()
    return None if name == PRODUCT_NAME else name


def register(app: Flask) -> None:
    app.jinja_env.globals["shop_name"] = shop_name
