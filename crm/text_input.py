"""Text that no database may see, taken out where it comes in: NUL characters and lone surrogates.

PostgreSQL refuses a NUL in any text value (and SQLite's text functions stop at one); neither driver can
encode a lone surrogate, which JSON's "\\ud83d" escapes and undecodable file names produce. No chat or form
means either, so they are cleaned at every edge, and nothing behind the edges has to think about them:

- requests: query strings, form fields (pastes included), upload file names and JSON bodies (TextRequest);
- imports: every text an importer hands over, from an upload or `import-chat` (crm.importers ParsedChat);
- the command line: every text option and argument of every command (clean_command_line).
"""
from __future__ import annotations

import re
from typing import Any

import click
from flask import Request
from werkzeug.datastructures import FileStorage, ImmutableMultiDict, MultiDict

_REFUSED = re.compile("[\x00\ud800-\udfff]")


def clean_text(value: str) -> str:
    """Without NUL characters; a lone surrogate becomes U+FFFD, as a decoder would show a broken character."""
    if not _REFUSED.search(value):
        return value
    return _REFUSED.sub(lambda match: "" if match.group() == "\x00" else "\ufffd", value)


def clean_data(value: Any) -> Any:
    """clean_text() through the strings, lists and dicts of parsed JSON."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean_data(item) for item in value]
    if isinstance(value, dict):
        return {clean_data(key): clean_data(item) for key, item in value.items()}
    return value


def _clean_value(value):
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, FileStorage) and value.filename:
        value.filename = clean_text(value.filename)
    return value


class CleanMultiDict(ImmutableMultiDict):
    """What Werkzeug parses query strings, forms and uploads into, cleaned as they are parsed."""

    def __init__(self, mapping=None):
        super().__init__([(clean_text(key), _clean_value(value)) for key, value in _pairs(mapping)])


def _pairs(mapping):
    if mapping is None:
        return
    if isinstance(mapping, MultiDict):
        yield from mapping.items(multi=True)
    elif isinstance(mapping, dict):
        for key, value in mapping.items():
            yield from ((key, item) for item in value) if isinstance(value, (list, tuple)) else [(key, value)]
    else:
        yield from mapping


class TextRequest(Request):
    parameter_storage_class = CleanMultiDict

    def get_json(self, *args, **kwargs):
        return clean_data(super().get_json(*args, **kwargs))


class CleanText(click.ParamType):
    name = "text"

    def convert(self, value, param, ctx):
        return clean_text(value) if isinstance(value, str) else value


def clean_command_line(commands) -> None:
    """Every plain text option and argument of these commands (and their subcommands) is cleaned."""
    for command in commands:
        for param in command.params:
            if param.type is click.STRING:
                param.type = CleanText()
        if isinstance(command, click.Group):
            clean_command_line(command.commands.values())
