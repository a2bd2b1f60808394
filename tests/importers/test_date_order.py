"""Day-first or month-first, decided from the whole file: one date that only fits one way settles it."""
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from crm.importers import parse_text

START = datetime(2024, 1, 1)
# A chat: times going forward (never back), as every export writes them.
gaps = st.lists(st.integers(0, 60 * 24 * 20), min_size=1, max_size=30)
shapes = st.sampled_from([
    ("{d}/{m}/{y2} {H}.{M} - {who}: {text}", True),          # Indonesian Android
    ("[{d}/{m}/{y2} {H}.{M}.{S}] {who}: {text}", True),       # Indonesian iPhone
    ("{d}.{m}.{y4} klo {H}.{M}.{S} - {who}: {text}", True),   # Finnish
    ("{m}/{d}/{y2}, {h}:{M} {ampm} - {who}: {text}", False),  # US Android
    ("[{m}/{d}/{y2}, {h}:{M}:{S} {ampm}] {who}: {text}", False),
    ("{who}, [{d}.{m}.{y4} {H}:{M}]\n{text}\n", True),         # Telegram Desktop copy
    ("{who}, [{m}/{d}/{y4} {h}:{M} {ampm}]\n{text}\n", False),
])


def render(moment: datetime, shape: str, who: str, text: str, padded: bool) -> str:
    pad = "{:02d}" if padded else "{}"
    hour12 = moment.hour % 12 or 12
    return shape.format(d=pad.format(moment.day), m=pad.format(moment.month), y2=f"{moment.year % 100:02d}",
                        y4=moment.year, H=f"{moment.hour:02d}", M=f"{moment.minute:02d}", S="00", h=hour12,
                        ampm="AM" if moment.hour < 12 else "PM", who=who, text=text)


@settings(max_examples=200, deadline=None)
@given(gaps, shapes, st.booleans(), st.booleans(), st.integers(0, 29), st.data())
def test_one_unambiguous_date_anywhere_settles_the_order_for_the_whole_file(gaps, shape, padded, prefer, where,
                                                                            data):
    moments, moment = [], START
    for gap in gaps:
        moment += timedelta(minutes=gap)
        moments.append(moment)
    # Put one day above 12 somewhere (days 13-28 exist in every month), keeping the times in order.
    index = where % len(moments)
    day = data.draw(st.integers(13, 28))
    fixed = moments[index].replace(day=day)
    if (index and fixed < moments[index - 1]) or (index + 1 < len(moments) and fixed > moments[index + 1]):
        moments = [fixed]
    else:
        moments[index] = fixed
    pattern, day_first = shape
    lines = [render(m, pattern, ("Rina", "Toko")[i % 2], f"pesan {i}", padded) for i, m in enumerate(moments)]
    chat = parse_text("\n".join(lines) + "\n", prefer_day_first=prefer)
    assert [m.sent_at for m in chat.messages()] == moments
    assert chat.day_first is day_first and chat.date_order_basis == "values"
    assert chat.date_order_ambiguous is False


@settings(max_examples=100, deadline=None)
@given(st.permutations([(1, 2), (2, 3), (3, 4), (5, 6)]), st.booleans())
def test_a_file_of_dates_under_13_follows_the_preference_and_says_it_is_ambiguous(pairs, prefer):
    lines = [f"{a:02d}/{b:02d}/26 10.00 - Rina: hai" for a, b in sorted(pairs)]
    chat = parse_text("\n".join(lines))
    reread = parse_text("\n".join(lines), prefer_day_first=prefer)
    assert chat.day_first is True and chat.date_order_ambiguous is True
    assert reread.day_first is prefer and reread.date_order_basis == "default"
    forced = parse_text("\n".join(lines), day_first=not prefer)
    assert forced.day_first is (not prefer) and forced.date_order_basis == "forced"


def test_the_order_of_the_lines_settles_dates_that_fit_both_ways():
    # Day-first these go 1 Feb, 2 Jan, 3 Jan: backwards once; month-first 2 Jan, 1 Feb, 1 Mar: forward.
    chat = parse_text("01/02/26 10.00 - Rina: a\n02/01/26 10.00 - Rina: b\n03/01/26 10.00 - Rina: c\n")
    assert [m.sent_at.date().isoformat() for m in chat.messages()] == ["2026-01-02", "2026-02-01", "2026-03-01"]
    assert (chat.day_first, chat.date_order_basis, chat.date_order_ambiguous) == (False, "order", False)


def test_indonesian_notices_on_a_twelve_hour_clock_read_day_first():
    chat = parse_text("3/1/26, 9:05 PM - Pesan dan panggilan terenkripsi secara end-to-end.\n"
                      "3/1/26, 9:06 PM - Rina: halo\n3/2/26, 9:06 AM - Toko: <Media tidak disertakan>\n")
    assert [m.sent_at.date().isoformat() for m in chat.messages()] == ["2026-01-03", "2026-02-03"]
    assert (chat.day_first, chat.date_order_basis) == (True, "locale")
