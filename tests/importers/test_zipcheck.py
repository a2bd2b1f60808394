"""Overlapping zips (CVE-2024-0450) are refused before anything is read out of them, on any Python: the
Python 3.11.7 this machine has reads them as if they were honest."""
import io
import struct
import zipfile
import zlib

import pytest

from crm.importers import ParsedChat, ParseError, parse_file

CHAT = "".join(f"17/06/26 10.{minute:02d} - Rina: Harga gamis L berapa kak? {minute}\n" for minute in range(60))


def _local_header(name: bytes, method: int, crc: int, packed: int, size: int) -> bytes:
    return struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, method, 0, 0x5CD1, crc, packed, size, len(name), 0) + name


def _central_entry(name: bytes, method: int, crc: int, packed: int, size: int, offset: int) -> bytes:
    return struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, method, 0, 0x5CD1, crc, packed, size,
                       len(name), 0, 0, 0, 0, 0, offset) + name


def _end(entries: list[bytes], start: int) -> bytes:
    directory = b"".join(entries)
    return directory + struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory),
                                   start, 0)


def quoted_overlap_zip() -> bytes:
    """Two members, the first of which holds the second's header and data inside its own deflate stream (a
    stored block that quotes the header, then the second member's compressed data): both read back with
    correct checksums, and the second's bytes count twice. Repeated, this is how a small zip holds gigabytes."""
    inner_name, outer_name = b"WhatsApp Chat with Rina 2.txt", b"WhatsApp Chat with Rina.txt"
    content = CHAT.encode()
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    inner_data = compressor.compress(content) + compressor.flush()
    inner_header = _local_header(inner_name, 8, zlib.crc32(content), len(inner_data), len(content))
    quoted = struct.pack("<BHH", 0, len(inner_header), len(inner_header) ^ 0xFFFF) + inner_header
    outer_content = inner_header + content
    outer_data = quoted + inner_data
    outer_header = _local_header(outer_name, 8, zlib.crc32(outer_content), len(outer_data), len(outer_content))
    inner_offset = len(outer_header) + 5
    body = outer_header + outer_data
    entries = [
        _central_entry(outer_name, 8, zlib.crc32(outer_content), len(outer_data), len(outer_content), 0),
        _central_entry(inner_name, 8, zlib.crc32(content), len(inner_data), len(content), inner_offset),
    ]
    return body + _end(entries, len(body))


def shared_data_zip(copies: int = 5) -> bytes:
    """One member listed `copies` times in the central directory, every listing pointing at the same bytes."""
    name, content = b"WhatsApp Chat with Rina.txt", CHAT.encode()
    body = _local_header(name, 0, zlib.crc32(content), len(content), len(content)) + content
    entries = [_central_entry(name, 0, zlib.crc32(content), len(content), len(content), 0)] * copies
    return body + _end(entries, len(body))


@pytest.mark.parametrize("build", [quoted_overlap_zip, shared_data_zip])
def test_the_check_finds_members_that_share_bytes(build):
    from crm.importers.zipcheck import reject_overlapping_members

    with zipfile.ZipFile(io.BytesIO(build())) as archive:
        with pytest.raises(zipfile.BadZipFile, match="overlapping"):
            reject_overlapping_members(archive)


@pytest.mark.parametrize("build", [quoted_overlap_zip, shared_data_zip])
def test_an_overlapping_zip_is_refused_and_nothing_is_read_from_it(build):
    with pytest.raises(ParseError, match="this zip cannot be read .overlapping entries"):
        list(parse_file(io.BytesIO(build()), name="WhatsApp Chat with Rina.zip"))


def test_an_honest_zip_passes(tmp_path):
    honest = io.BytesIO()
    with zipfile.ZipFile(honest, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("WhatsApp Chat with Rina.txt", CHAT)
        archive.writestr("IMG-20260617-WA0001.jpg", b"\xff\xd8" + bytes(5000))
        archive.writestr("kosong.txt", "")
    honest.seek(0)
    from crm.importers.zipcheck import reject_overlapping_members

    with zipfile.ZipFile(honest) as archive:
        reject_overlapping_members(archive)
    [chat] = parse_file(io.BytesIO(honest.getvalue()), name="WhatsApp Chat with Rina.zip")
    assert isinstance(chat, ParsedChat) and chat.message_count == 60
