"""Refusing zips whose members overlap, before anything is read out of them.

An overlapping zip ("zip bomb", CVE-2024-0450) lets one small file stand for gigabytes: several members share
the same compressed bytes, or a member's data holds the next member's header. Python's zipfile refuses them
itself from 3.11.8 on (and in distributions that took the fix, like Debian's 3.11.2-6+deb12u2); older
Pythons read them. This check does the same on any Python: each member's data must end before the next
member's local header begins, and the last before the central directory.
"""
from __future__ import annotations

import struct
import zipfile

_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, (versions, flags, sizes, ...), name length, extra length
_LOCAL_SIGNATURE = b"PK\x03\x04"


def reject_overlapping_members(archive: zipfile.ZipFile) -> None:
    """Raise zipfile.BadZipFile if two members of the open archive share bytes."""
    members = sorted(archive.infolist(), key=lambda info: info.header_offset)
    if not members:
        return
    ends_before = [info.header_offset for info in members[1:]] + [getattr(archive, "start_dir", None)]
    file = archive.fp
    position = file.tell()
    try:
        previous_offset = None
        for info, limit in zip(members, ends_before, strict=True):
            if info.header_offset == previous_offset:
                raise zipfile.BadZipFile(f"overlapping entries: {info.filename!r} shares its data")
            previous_offset = info.header_offset
            file.seek(info.header_offset)
            header = file.read(_LOCAL_HEADER.size)
            if len(header) < _LOCAL_HEADER.size:
                raise zipfile.BadZipFile(f"truncated entry: {info.filename!r}")
            signature, name_length, extra_length = _LOCAL_HEADER.unpack(header)
            if signature != _LOCAL_SIGNATURE:
                raise zipfile.BadZipFile(f"bad entry header: {info.filename!r}")
            data_end = info.header_offset + _LOCAL_HEADER.size + name_length + extra_length + info.compress_size
            if limit is not None and data_end > limit:
                raise zipfile.BadZipFile(f"overlapping entries: {info.filename!r} runs into the next one")
    finally:
        file.seek(position)
