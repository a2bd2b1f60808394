"""Settings the owner changes on a page (not in instance/config.py): one row per key in shop_settings, JSON values.

`get_setting` reads through a per-request cache; `set_setting` adds and flushes, the view commits (and audits).
"""
from __future__ import annotations

from flask import g, has_request_context

from .extensions import db
from .models import ShopSetting


def _cache() -> dict:
    if not has_request_context():
        return {}
    if "shop_settings" not in g:
        g.shop_settings = {row.key: row.value for row in db.session.execute(db.select(ShopSetting)).scalars()}
    return g.shop_settings


def get_setting(key: str, default=None):
    cache = _cache()
    if cache:
        return cache.get(key, default)
    row = db.session.get(ShopSetting, key)
    return default if row is None else row.value


def set_setting(key: str, value, *, user_id: int | None = None) -> None:
    row = db.session.get(ShopSetting, key)
    if row is None:
        row = ShopSetting(key=key)
        db.session.add(row)
    row.value, row.updated_by_id = value, user_id
    db.session.flush()
    if has_request_context() and "shop_settings" in g:
        g.shop_settings[key] = value
