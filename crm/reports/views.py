import csv
import io
from collections.abc import Iterable, Iterator

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from ..admin import audit
from ..auth import owner_required
from ..extensions import db
from ..formatting import CHANNEL_LABELS, shop_zone
from ..identities import CHANNELS
from ..models import ChannelCost, User, utcnow
from ..orders.figures import order_report, order_tables
from ..replies.services import ReplyFigures, staff_reply_figures
from . import display
from .figures import (
    ChannelReport,
    CostEntry,
    Period,
    ReportRow,
    channel_report,
    costs_of_month,
    months_with_costs,
    period_for,
    report_tables,
    row_values,
    save_month_costs,
)
from .forms import CostsForm, PeriodForm, parse_month

bp = Blueprint("reports", __name__, url_prefix="/reports")
display.register(bp)

# Excel on Windows reads a CSV as the ANSI code page unless it starts with a byte order mark.
BOM = "\ufeff"
# A cell starting with one of these is a formula to Excel ("=HYPERLINK(...)" as a staff name or tag title).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _chosen_period() -> tuple[PeriodForm, Period, bool]:
    """The period in the query string; this month when there is none or it makes no sense (said on the page)."""
    form = PeriodForm(formdata=request.args)
    valid = not request.args or form.validate()
    if valid and form.period.data == "custom":
        return form, period_for("custom", first=form.first.data, last=form.last.data), True
    if valid:
        return form, period_for(form.period.data), True
    return form, period_for("this_month"), False


def _chart_data(report: ChannelReport) -> dict:
    """What static/reports.js draws, as JSON in a data- attribute (the CSP allows no inline script)."""
    weekly = report.weekly
    return {
        "weekly": {
            "labels": [format_date(week, "d MMM") for week in weekly.weeks],
            "series": [{"channel": channel, "label": str(CHANNEL_LABELS[channel]), "counts": counts}
                       for channel, counts in weekly.by_channel.items()],
        },
        "revenue": {
            "channels": [row.key for row in report.channels],
            "labels": [row.label for row in report.channels],
            "values": [row.revenue for row in report.channels],
        },
    }


def _reply_figures(report: ChannelReport) -> dict[str, ReplyFigures]:
    """Replies sent through links and quick replies used, by staff row key (crm.replies); someone who only
    replied through links, in conversations others logged, gets a row of their own."""
    figures = {"" if user_id is None else str(user_id): value
               for user_id, value in staff_reply_figures(report.period.start, report.period.end).items()}
    have = {row.key for row in report.staff}
    users = {str(u.id): u.name for u in db.session.execute(db.select(User)).scalars()}
    report.staff.extend(ReportRow(key, users.get(key) or _("Not recorded (imported)"))
                        for key in figures if key not in have and key in users)
    report.staff.sort(key=lambda row: (row.key == "", str(row.label).casefold() if row.key else ""))
    return figures


@bp.get("/")
def index():
    form, period, valid = _chosen_period()
    report = channel_report(period)
    query = {key: value for key, value in request.args.items() if key in ("period", "first", "last")} if valid else {}
    return render_template(
        "reports/index.html", form=form, report=report, period=period, query=query,
        chart_data=_chart_data(report), zone=str(shop_zone()), orders=order_report(period),
        replies=_reply_figures(report),
    ), 200 if valid else 400


def _cell(value, decimal_comma: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        text = f"{value:.2f}".rstrip("0").rstrip(".")
        return text.replace(".", ",") if decimal_comma else text
    text = str(value)
    return "'" + text if isinstance(value, str) and text.startswith(FORMULA_START) else text


def _csv(columns: Iterable[str], rows: Iterable[list], delimiter: str) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(value, decimal_comma=delimiter == ";") for value in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


@bp.get("/<any(channels, tags, staff, costs, order_channels, order_tags, order_staff):table>.csv")
def download(table: str):
    form, period, valid = _chosen_period()
    if not valid:
        abort(400)
    if table.startswith("order_"):
        columns, rows = order_tables(order_report(period))[table]
    else:
        report = channel_report(period)
        columns, rows = report_tables(report)[table]
        if table == "staff":
            replies = _reply_figures(report)
            columns = (*columns, "replies_sent_via_links", "quick_replies_used")
            rows = _with_reply_columns(report.staff, replies)
    # Excel with Indonesian regional settings splits columns on ";" and reads "," as the decimal mark.
    delimiter = ";" if request.args.get("sep") == "semicolon" else ","
    response = Response(stream_with_context(_csv(columns, rows(), delimiter)), mimetype="text/csv; charset=utf-8")
    filename = f"obrolan-{table}-{period.first_day:%Y-%m-%d}-{period.last_day:%Y-%m-%d}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _with_reply_columns(staff: list[ReportRow], replies: dict[str, ReplyFigures]):
    def rows():
        for row in staff:
            figures = replies.get(row.key, ReplyFigures())
            yield [*row_values(row), figures.sent_via_links, figures.quick_replies]
    return rows


def _cost_fields(channel: str, cost: ChannelCost | None) -> dict:
    """A saved cost as the form shows it: nothing for a zero, 12 hours rather than 12.0."""
    if cost is None:
        return {"channel": channel}
    hours = int(cost.staff_hours) if cost.staff_hours == int(cost.staff_hours) else cost.staff_hours
    return {"channel": channel, "ads": cost.ads or None, "boosts": cost.boosts or None,
            "staff_hours": hours or None, "hourly_cost": cost.hourly_cost or None}


def _costs_as_recorded(month) -> dict[str, dict]:
    """A month's costs per channel as the audit trail keeps them, before and after an edit."""
    return {channel: {"ads": cost.ads, "boosts": cost.boosts, "staff_hours": cost.staff_hours,
                      "hourly_cost": cost.hourly_cost}
            for channel, cost in costs_of_month(month).items()}


@bp.route("/costs", methods=["GET", "POST"])
@owner_required
def costs():
    if request.method == "POST":
        form = CostsForm()
        month = parse_month(form.month.data)
        if form.validate():
            entries = [
                CostEntry(entry.channel.data, entry.ads.data or 0, entry.boosts.data or 0,
                          float(entry.staff_hours.data or 0), entry.hourly_cost.data or 0)
                for entry in (e.form for e in form.entries)
            ]
            before = _costs_as_recorded(month)
            save_month_costs(month, entries, user_id=current_user.id)
            after = _costs_as_recorded(month)
            if changed := {channel: [before.get(channel), after.get(channel)] for channel in CHANNELS
                           if before.get(channel) != after.get(channel)}:
                audit.record("costs", "costs", f"{month:%Y-%m}", {"month": f"{month:%Y-%m}", "changed": changed})
            db.session.commit()
            flash(_("Costs for %(month)s saved.", month=format_date(month, "MMMM yyyy")), "success")
            return redirect(url_for("reports.costs", month=f"{month:%Y-%m}"))
        status = 400
    else:
        month = parse_month(request.args.get("month")) or utcnow().astimezone(shop_zone()).date().replace(day=1)
        saved = costs_of_month(month)
        form = CostsForm(formdata=None, data={"month": f"{month:%Y-%m}", "entries": [
            _cost_fields(channel, saved.get(channel)) for channel in CHANNELS
        ]})
        status = 200
    return render_template("reports/costs.html", form=form, month=month, months=months_with_costs()), status
