"""`make run` and `make test` check the Python first (crm/python_check.py): older than 3.11 is refused, a 3.11
older than the newest security release is named with what it lacks, and the fittest interpreter is picked."""
import io
import subprocess
import sys
import zipfile
from pathlib import Path

from crm import python_check

ROOT = Path(__file__).resolve().parents[1]


def _found(version, zip_fix, executable="/usr/bin/python3.11"):
    return {"version": list(version), "zip_fix": zip_fix, "executable": executable, "can_make_venv": True}


def test_a_python_older_than_3_11_is_refused_with_what_to_do():
    fit, message = python_check.verdict(_found((3, 10, 13), False, "/opt/python3.10"))
    assert not fit
    assert "needs Python 3.11 or newer" in message and "Python 3.10.13" in message and "PYTHON=" in message


def test_an_old_3_11_is_named_with_the_fix_it_lacks_and_what_obrolan_does_about_it():
    fit, message = python_check.verdict(_found((3, 11, 7), False))
    assert fit, "this machine's 3.11.7 must still build the venv: the import makes up for the zip fix"
    assert "older than 3.11.15" in message and "CVE-2024-0450" in message and "zipcheck.py" in message


def test_a_python_that_cannot_make_a_venv_is_refused_with_what_to_install():
    fit, message = python_check.verdict({**_found((3, 11, 15), True), "can_make_venv": False})
    assert not fit and "python3.11-venv" in message
    assert python_check._fitness({**_found((3, 11, 15), True), "can_make_venv": False}) == 0


def test_a_distribution_build_with_the_fixes_gets_a_note():
    fit, message = python_check.verdict(_found((3, 11, 2), True))
    assert fit and "distribution build" in message and "Keep its package updated" in message


def test_the_newest_3_11_passes_silently():
    assert python_check.verdict(_found(python_check.NEWEST_311, True)) == (True, "")
    assert python_check.verdict(_found((3, 13, 5), True)) == (True, "")
    assert "CVE-2024-0450" in python_check.verdict(_found((3, 12, 1), False))[1], "3.12.1 lacks it too"


def test_the_fittest_interpreter_is_picked():
    ranked = [_found((3, 10, 13), False), _found((3, 11, 7), False), _found((3, 11, 2), True),
              _found((3, 11, 15), True)]
    fitness = [python_check._fitness(found) for found in ranked]
    assert fitness == sorted(fitness) and len(set(fitness)) == 4
    assert python_check.pick([sys.executable, "no-such-python"]) == sys.executable


def test_the_zip_probe_tells_what_this_pythons_zipfile_does():
    """The probe must agree with zipfile itself on a zip that lists one member twice over the same bytes."""
    from importers.test_zipcheck import shared_data_zip

    try:
        with zipfile.ZipFile(io.BytesIO(shared_data_zip())) as archive:
            for info in archive.infolist():
                archive.read(info)
        refused = False
    except zipfile.BadZipFile:
        refused = True
    assert python_check.zipfile_refuses_overlaps() is refused


def test_make_checks_the_python_before_it_builds_the_venv():
    result = subprocess.run(["make", "--no-print-directory", "python-check", f"PYTHON={sys.executable}"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    makefile = (ROOT / "Makefile").read_text()
    assert "venv: python-check" in makefile and "dev-venv: python-check" in makefile
    assert "pip==" in makefile and "setuptools==" in makefile, "the venv's pip and setuptools are pinned"
