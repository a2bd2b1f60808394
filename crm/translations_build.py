"""Translation catalogues: the .po files in crm/translations are the source; the app compiles them itself.

Compiled .mo files go to instance/translations, so a fresh checkout (or a Windows PC without make) shows
Indonesian with no build step, and no binary file is committed.
"""
import os
import tempfile
from pathlib import Path

import click
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from flask import Flask
from flask.cli import AppGroup

SOURCE = Path(__file__).resolve().parent / "translations"
PROJECT = SOURCE.parent.parent
KEYWORDS = {"_": None, "_l": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2), "_n": (1, 2),
            "lazy_ngettext": (1, 2), "_ln": (1, 2)}
METHODS = [("crm/**.py", "python"), ("templates/**.html", "jinja2")]


def compile_catalogues(target: Path) -> None:
    """Write a .mo for every .po that is newer than its .mo (atomically: several processes may start at once)."""
    for po_path in SOURCE.glob("*/LC_MESSAGES/messages.po"):
        mo_path = target / po_path.relative_to(SOURCE).with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        fd, temporary = tempfile.mkstemp(dir=mo_path.parent, suffix=".mo")
        with os.fdopen(fd, "wb") as mo_file:
            write_mo(mo_file, catalog)
        os.replace(temporary, mo_path)


def extract_messages() -> Catalog:
    catalog = Catalog(project="Obrolan", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        PROJECT, method_map=METHODS, keywords=KEYWORDS, options_map={"templates/**.html": {}},
    ):
        if filename.startswith(("crm/", "templates/")):
            catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


translate = AppGroup("translate", help="Update the translation catalogues.")


@translate.command("update")
def update_command():
    """Add new messages to every language's .po file (translate them there, then restart the app)."""
    template = extract_messages()
    for po_path in SOURCE.glob("*/LC_MESSAGES/messages.po"):
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parts[-3])
        catalog.update(template, no_fuzzy_matching=True)
        with po_path.open("wb") as po_file:
            write_po(po_file, catalog, width=100, omit_header=False, ignore_obsolete=True)
        untranslated = sum(1 for message in catalog if message.id and not message.string)
        click.echo(f"{po_path.relative_to(PROJECT)}: {len(catalog)} messages, {untranslated} to translate")


def register(app: Flask) -> None:
    compiled = Path(app.instance_path) / "translations"
    compile_catalogues(compiled)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled)
    app.cli.add_command(translate)
