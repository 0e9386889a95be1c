"""The JSON envelope of ``/api/json`` answers and the values that flow into it.

Every answer of a dispatched call is ``{"code", "data", "message", "stat"}``
with HTTP 200. Before encoding, the real server turns every scalar leaf of
``data`` into a string (``True`` -> ``"1"``, ``False``/``None`` -> ``""``,
numbers -> their decimal text) and, because it runs a Latin-1 to UTF-8
conversion over each leaf, returns non-ASCII text double-encoded. Both are
reproduced here; the double encoding can be switched off per server.
"""

import json
from typing import Any, Optional

from pydas.testing.answers import ApiError

__all__ = ["stringify", "envelope_bytes", "JSON_CONTENT_TYPE"]

#: The content type the real server declares for its JSON answers.
JSON_CONTENT_TYPE = "text/html; charset=UTF-8"


def _float_text(value: float) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        return str(value).upper()
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def stringify(value: Any, double_encode: bool = True) -> Any:
    """Convert a result the way the server serialises it.

    :param value: a tree of dicts, lists and scalars.
    :param double_encode: re-encode text as if its UTF-8 bytes were Latin-1.
    :returns: the same tree with every scalar turned into a string; empty dicts
        become empty lists (PHP has only one kind of empty array).
    """
    kind = type(value)
    if kind is str:  # the common leaves first: this runs for every value of every answer
        if double_encode and not value.isascii():
            return value.encode("utf-8", "surrogateescape").decode("latin-1")
        return value
    if kind is int:
        return str(value)
    if kind is dict:
        if not value:
            return []
        return {str(key): stringify(item, double_encode) for key, item in value.items()}
    if kind is list or kind is tuple:
        return [stringify(item, double_encode) for item in value]
    if value is None or value is False:
        return ""
    if value is True:
        return "1"
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict):
        return stringify(dict(value), double_encode)
    if isinstance(value, (list, tuple)):
        return [stringify(item, double_encode) for item in value]
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return stringify(str(value), double_encode)


def envelope_bytes(
    data: Any = None, error: Optional[ApiError] = None, double_encode: bool = True
) -> bytes:
    """Encode a success or failure envelope exactly as the server writes it.

    :param data: the result of a successful call (ignored when ``error`` is given).
    :param error: the failure to report.
    :param double_encode: see :func:`stringify`.
    :returns: the ASCII body: ``/`` escaped as ``\\/``, ``<``/``>`` as ``\\u003C``/``\\u003E``.
    """
    if error is not None:
        body = {"code": str(error.code), "data": "", "message": error.message, "stat": "fail"}
        body = stringify(body, double_encode)
    else:
        body = {"code": "0", "data": stringify(data, double_encode), "message": "", "stat": "ok"}
    text = json.dumps(body, ensure_ascii=True, separators=(",", ":"))
    text = text.replace("/", "\\/").replace("<", "\\u003C").replace(">", "\\u003E")
    return text.encode("ascii")
