"""Plain text pasted by hand: each message starts with "Name:" ("Me:", "Saya:"), other lines continue it.

There are no times. A name is at most 40 characters and six words, holds a letter (or is a phone
number), and "https://..." is not a name. Because "Nama: Rina" in a pasted order form looks just like
a speaker, a name only starts a message when it recurs in the paste, or is a known name (the shop's,
the customer's, "Me", "Saya"); the paste's first line starts the first message. Order-form keys
(Nama, Alamat, No HP, Kecamatan, ...) never do. A paste in which no name recurs is refused.
"""
from __future__ import annotations

import re
from contextlib import AbstractContextManager
from typing import Callable, Iterable, Iterator

from flask_babel import gettext

from ._common import (
    Budget,
    ParsedChat,
    ParsedMessage,
    ParseError,
    ParseOptions,
    chat_from_reader,
    cut_body,
    cut_note,
    looks_like_phone,
    phone_handles,
    read_lines,
    strip_marks,
)

OpenLines = Callable[[], AbstractContextManager[Iterable[str]]]

_SPEAKER = re.compile(r"\s*([^\s:][^:]{0,39}?)\s*:(?!//)\s?(.*)", re.DOTALL)
_DATE_LIKE = re.compile(r"\[?[0-9]{1,4}\s?[./-]\s?[0-9]{1,2}\s?[./-]")
# Keys of the order forms customers fill in and paste back: never a speaker.
_FORM_KEYS = frozenset(" ".join(key.split()) for line in """
nama|alamat|alamat lengkap|no hp|no. hp|nomor hp|no hp/wa|no. hp/wa|no wa|no. wa|nomor wa|no telp|no. telp
nomor telepon|telepon|telp|hp|wa|whatsapp|kecamatan|kelurahan|desa|kota|kabupaten|kota/kabupaten|provinsi
kode pos|kodepos|pesanan|jumlah|ukuran|size|warna|ekspedisi|kurir|pembayaran|metode pembayaran|catatan
keterangan|harga|total|ongkir|berat|qty|quantity|name|full name|address|phone|phone number|email|city
province|zip|postcode|postal code|color|colour|order|note|notes|payment|courier|shipping|price|variant|varian
model|produk|product|item|no. rek|no rek|rekening|bank|atas nama|a/n
""".strip().split("\n") for key in line.split("|"))
# The shop's side as people write it in a paste.
SELF_NAMES = frozenset({"me", "saya", "aku", "kami", "admin", "you", "anda"})


def _key(name: str) -> str:
    return " ".join(name.casefold().split())


def is_order_form_key(name: str) -> bool:
    return _key(name).rstrip(".") in _FORM_KEYS or _key(name) in _FORM_KEYS


def speaker(line: str) -> tuple[str, str] | None:
    """(name, text) when the line is shaped like the start of a message."""
    found = _SPEAKER.fullmatch(line)
    if found is None:
        return None
    name, text = found.groups()
    if len(name.split()) > 6 or not (any(ch.isalpha() for ch in name) or looks_like_phone(name)):
        return None
    if _DATE_LIKE.match(name) or is_order_form_key(name):
        return None
    return name, text


def _speakers(lines: Iterable[str], known: set[str], max_chars: int) -> tuple[set[str], int | None, int]:
    """The names that start messages, the first non-empty line, and how many lines they start."""
    counts: dict[str, int] = {}
    first_line = first_name = None
    for number, (raw, _) in enumerate(read_lines(lines, max_chars), 1):
        line = strip_marks(raw.rstrip("\r\n"))
        if not line.strip():
            continue
        found = speaker(line)
        if first_line is None:
            first_line = number
            first_name = found[0] if found else None
        if found:
            counts[found[0]] = counts.get(found[0], 0) + 1
    accepted = {name for name, count in counts.items() if count >= 2 or _key(name) in known}
    starts = sum(counts[name] for name in accepted)
    if first_name is not None and first_name not in accepted and starts >= 1:
        accepted.add(first_name)
        starts += counts[first_name]
    return accepted, first_line, starts


def _records(lines: Iterable[str], source: str, speakers: set[str],
             options: ParseOptions) -> Iterator[ParsedMessage | None]:
    limits = options.limits
    current: tuple[int, str] | None = None
    body: list[str] = []
    blanks: list[str] = []
    size = 0
    cut = False
    for number, (raw, line_cut) in enumerate(read_lines(lines, limits.max_line_chars), 1):
        line = strip_marks(raw.rstrip("\r\n"))
        if not line.strip():
            blanks.append("")
            continue
        found = speaker(line)
        if found is None or found[0] not in speakers:
            if current is None:
                raise ParseError(gettext("expected 'Name: text' at the start"), line=number, source=source)
            if size <= limits.max_message_chars:
                body.extend(blanks)
                body.append(line)
                size += len(line) + len(blanks) + 1
            else:
                cut = True
            cut = cut or line_cut
        else:
            if current is not None:
                yield _message(*current, body, limits.max_message_chars, cut)
            current = (number, found[0])
            body, size, cut = [found[1]], len(found[1]), line_cut
        blanks = []
    if current is not None:
        yield _message(*current, body, limits.max_message_chars, cut)


def _message(number: int, author: str, lines: list[str], max_chars: int, cut: bool) -> ParsedMessage:
    body, truncated = cut_body("\n".join(lines).strip(), max_chars)
    if cut and not truncated:
        body, truncated = f"{body}\n{cut_note(max_chars)}", True
    return ParsedMessage(sent_at=None, author=author, body=body, line=number, truncated=truncated)


def parse(open_lines: OpenLines, *, source: str, options: ParseOptions | None = None,
          budget: Budget | None = None) -> ParsedChat:
    options = options or ParseOptions()
    known = SELF_NAMES | {_key(name) for name in options.known_names}
    with open_lines() as lines:
        speakers, first_line, starts = _speakers(lines, known, options.limits.max_line_chars)
    if first_line is None:
        raise ParseError(gettext("there is no chat in this text, it is empty"), source=source)
    if starts < 2:
        raise ParseError(gettext(
            "no name recurs at the start of the lines, so this is not read as a chat: paste it as \"Name: text\" "
            "lines, with each person's name (or \"Saya\" for the shop) before what they wrote"),
            line=first_line, source=source)

    def read() -> Iterator[ParsedMessage | None]:
        with open_lines() as lines:
            yield from _records(lines, source, speakers, options)

    chat = chat_from_reader(read, format="plain", source=source, title=None, budget=budget)
    if chat.message_count == 0:
        raise ParseError(gettext("there is no chat in this text, it is empty"), source=source)
    chat.handles = phone_handles(chat.authors)
    return chat


def looks_like(lines: Iterable[str]) -> bool:
    for raw in lines:
        line = strip_marks(raw.rstrip("\r\n"))
        if line.strip():
            return speaker(line) is not None
    return False
