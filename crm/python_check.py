"""Is this Python fit to run Obrolan? `make run` and `make test` ask before they build .venv (standard library
only, so any python3 can run it: `python3 crm/python_check.py`).

- Older than Python 3.11: refused.
- A 3.11 older than NEWEST_311, the newest 3.11 security release this file knows of: a warning that names
  what it lacks, and whether Obrolan makes up for it. Of the fixes since 3.11.7 (the pyenv build on the office
  machines), the one Obrolan's own code paths reach is CVE-2024-0450 (zipfile read overlapping members: a
  small upload that unpacks to gigabytes); crm/importers/zipcheck.py refuses such zips on any Python. A
  distribution's 3.11 (Debian's 3.11.2-6+deb12u2 and later) carries that fix under an older version number,
  so the zipfile is tried rather than the number believed.
- `--pick CANDIDATE...` prints the fittest of several interpreters (the newest security release, else one
  whose zipfile has the fix, else any 3.11), for the Makefile's PYTHON.
"""
from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib

NEWEST_311 = (3, 11, 15)  # released 3 March 2026
OLDEST = (3, 11)


def zipfile_refuses_overlaps() -> bool:
    """Whether this Python's zipfile has the CVE-2024-0450 fix: one member listed twice over the same bytes."""
    name, data = b"a.txt", b"overlap"
    header = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 0, 0, 0, zlib.crc32(data), len(data), len(data),
                         len(name), 0) + name + data
    entry = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, zlib.crc32(data), len(data),
                        len(data), len(name), 0, 0, 0, 0, 0, 0) + name
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 2, 2, 2 * len(entry), len(header), 0)
    try:
        with zipfile.ZipFile(io.BytesIO(header + entry * 2 + end)) as archive:
            for info in archive.infolist():
                archive.read(info)
    except zipfile.BadZipFile:
        return True
    return False


def describe() -> dict:
    import importlib.util

    return {"version": list(sys.version_info[:3]), "zip_fix": zipfile_refuses_overlaps(),
            "executable": sys.executable, "can_make_venv": importlib.util.find_spec("ensurepip") is not None}


def _fitness(found: dict) -> int:
    """0 unfit, 1 lacks fixes, 2 a distribution build with the fixes, 3 at the newest 3.11 (or a later Python
    with the fix; this file does not follow their releases)."""
    version = tuple(found["version"])
    if version < OLDEST or not found.get("can_make_venv", True):
        return 0
    if (version[:2] == NEWEST_311[:2] and version >= NEWEST_311) or (version[:2] > NEWEST_311[:2] and found["zip_fix"]):
        return 3
    return 2 if found["zip_fix"] else 1


def pick(candidates: list[str]) -> str | None:
    best, best_fitness = None, 0
    for candidate in candidates:
        path = shutil.which(candidate)
        if not path:
            continue
        try:
            output = subprocess.run([path, __file__, "--describe"], capture_output=True, text=True, timeout=30,
                                    check=True).stdout
            fitness = _fitness(json.loads(output))
        except (OSError, ValueError, subprocess.SubprocessError):
            continue
        if fitness > best_fitness:
            best, best_fitness = path, fitness
    return best


def verdict(found: dict) -> tuple[bool, str]:
    """(fit to run, what to tell the person at the keyboard; empty when all is well)."""
    version = tuple(found["version"])
    shown = ".".join(map(str, version))
    newest = ".".join(map(str, NEWEST_311))
    if version < OLDEST:
        return False, (f"Obrolan needs Python 3.11 or newer; {found['executable']} is Python {shown}. Install Python "
                       f"3.11 ({newest} or newer) and run make with PYTHON=/path/to/python3.11.")
    if not found.get("can_make_venv", True):
        return False, (f"{found['executable']} cannot make a virtual environment (it has no ensurepip); on Debian "
                       "install python3.11-venv, or run make with PYTHON=/path/to/another/python3.11.")
    if _fitness(found) == 3:
        return True, ""
    if found["zip_fix"]:
        return True, (f"Note: Python {shown} is older than {newest}, the newest 3.11 security release this check "
                      "knows of, but it is a distribution build that carries the security fixes (its zipfile "
                      "refuses overlapping entries, CVE-2024-0450). Keep its package updated.")
    older = f" is older than {newest}, the newest 3.11 security release this check knows of, and" \
        if version[:2] == NEWEST_311[:2] else ""
    return True, (f"Warning: Python {shown} ({found['executable']}){older} lacks the fix for CVE-2024-0450 (zip files "
                  "with overlapping entries). Obrolan's import refuses such zips itself (crm/importers/zipcheck.py); "
                  f"for the other fixes, install Python {newest} or newer (or your distribution's python3.11) and "
                  "run make with PYTHON=/path/to/python3.11.")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--describe"]:
        print(json.dumps(describe()))
        return 0
    if argv[:1] == ["--pick"]:
        best = pick(argv[1:])
        if best is None:
            return 1
        print(best)
        return 0
    fit, message = verdict(describe())
    if message:
        print(message, file=sys.stderr)
    return 0 if fit else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
