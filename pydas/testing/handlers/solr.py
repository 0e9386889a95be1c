"""The ``solr`` module: ``search.advanced`` with a deliberately small query language.

Whitespace-separated terms, all of which must match (``AND`` between terms is
allowed and ignored). A term is ``field:value`` or a bare ``value``; values may
be double-quoted to contain spaces; ``*`` matches anything. Fields: ``name``,
``description``, ``text`` (name or description), and any metadata of the head
revision as ``element`` or ``element.qualifier``. A bare value means ``text``.
Matching is a case-insensitive substring test. ``OR``, ``NOT``, parentheses
and unbalanced quotes are syntax errors.
"""

import re
from typing import Any, Dict, List, Tuple

from pydas.testing.answers import ApiError
from pydas.testing.backend import Backend, Row
from pydas.testing.backend.values import as_int
from pydas.testing.dispatch import Context, module_method
from pydas.testing.handlers.common import module_require

__all__ = ["parse_query"]

_TERM = re.compile(r'\s*(?:([A-Za-z_][\w.]*):)?("(?:[^"]*)"|[^\s"()]+)')


def parse_query(query: str) -> List[Tuple[str, str]]:
    """Parse the emulator's simple Solr query into ``(field, value)`` terms.

    :param query: the query text.
    :returns: the terms, field ``text`` for bare values.
    :raises ApiError: -1 ``Syntax error in query`` for anything outside the language.
    """
    terms = []
    position = 0
    text = query.strip()
    if not text:
        raise ApiError(-1, "Syntax error in query")
    while position < len(text):
        match = _TERM.match(text, position)
        if match is None or match.end() == position:
            raise ApiError(-1, "Syntax error in query")
        field, value = match.group(1), match.group(2)
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
        if field is None and value in ("OR", "NOT", "||", "!"):
            raise ApiError(-1, "Syntax error in query")
        if field is None and value in ("AND", "&&"):
            continue
        terms.append(((field or "text").lower(), value.strip('"').lower()))
    return terms


def _matches(backend: Backend, item: Row, terms: List[Tuple[str, str]]) -> bool:
    metadata: Dict[str, List[str]] = {}
    head = backend.items.head(item["item_id"])
    if head is not None:
        for row in backend.items.metadata(head["itemrevision_id"]):
            element = row["element"].lower()
            value = (row["value"] or "").lower()
            metadata.setdefault(element, []).append(value)
            if row["qualifier"]:
                metadata.setdefault(f"{element}.{row['qualifier'].lower()}", []).append(value)
    name = (item["name"] or "").lower()
    description = (item["description"] or "").lower()
    for field, value in terms:
        if field == "name":
            candidates = [name]
        elif field == "description":
            candidates = [description]
        elif field == "text":
            candidates = [name, description]
        else:
            candidates = metadata.get(field, [])
        if not any(value == "*" or value in candidate for candidate in candidates):
            return False
    return True


@module_method("solr", "search.advanced", session="read")
def solr_search_advanced(ctx: Context) -> Any:
    """Search items with the emulator's simple query language (see the module docs)."""
    (query,) = module_require(ctx, "query")
    limit = as_int(ctx.get("limit", "25"))
    if limit <= 0:
        limit = 25
    terms = parse_query(query)
    backend = ctx.backend
    items = backend.items
    results: List[Dict[str, Any]] = []
    for item in items.readable(ctx.caller()):
        if len(results) >= limit:
            break
        if not _matches(backend, item, terms):
            continue
        entry: Dict[str, Any] = {
            "id": item["item_id"],
            "name": item["name"],
            "description": item["description"],
            "size": item["sizebytes"],
            "date_created": item["date_creation"],
            "date_updated": item["date_update"],
            "uuid": item["uuid"],
            "views": item["view"],
            "downloads": item["download"],
            "public": bool(item["public"]),
        }
        folder_id = items.first_folder_id(item["item_id"])
        if folder_id is not None:
            entry["folder_id"] = folder_id
        entry["revisions"] = [row["itemrevision_id"] for row in items.revisions(item["item_id"])]
        head = items.head(item["item_id"])
        entry["bitstreams"] = (
            [] if head is None
            else [row["bitstream_id"] for row in items.bitstreams(head["itemrevision_id"])]
        )
        results.append(entry)
    return results
