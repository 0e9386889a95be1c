"""Keeping secrets out of texts: messages, excerpts and log records.

Passwords, API keys, tokens and upload tokens must never show in an exception,
a repr or a log line. :func:`scrub` masks them in any text; :class:`SecretFilter`
does it for the log records of :mod:`urllib3` and :mod:`requests`, which log
full URLs (``token=`` of downloads, ``authToken=`` of the download redirect,
``uploadtoken=`` of uploads) at DEBUG level. :func:`install_log_filter` puts
the filter on their loggers; every transport calls it when it is created.
"""

import logging
import re
from typing import Any, Dict, Iterable, Mapping, Tuple
from urllib.parse import quote, quote_plus

__all__ = [
    "SECRET_KEYS",
    "SecretFilter",
    "excerpt",
    "install_log_filter",
    "scrub",
    "scrub_parameters",
    "secrets_of",
]

#: Parameter names whose values are secrets and never logged or shown.
SECRET_KEYS = frozenset({"token", "apikey", "password", "authToken", "api_key", "uploadtoken"})

_NAMES = "|".join(sorted(SECRET_KEYS, key=len, reverse=True))
# token=..., apikey=..., authToken=..., uploadtoken=... in URLs and form bodies
_IN_QUERY = re.compile(rf"(?i)(?<![A-Za-z0-9_])({_NAMES})=([^&\s'\"<>]*)")
# "token": "..." in JSON, 'token': '...' in Python reprs
_IN_JSON = re.compile(rf'(?i)"({_NAMES})"(\s*:\s*)"((?:[^"\\]|\\.)*)"')
_IN_REPR = re.compile(rf"(?i)'({_NAMES})'(\s*:\s*)'([^']*)'")
# a password in a URL: scheme://user:password@host
_IN_USERINFO = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^/\s@]+@")
# the server quotes a refused upload token: "Invalid upload token 1/2/abc..."
_UPLOAD_TOKEN = re.compile(r"(?i)(upload ?token:? )(\d+/\d+/\S+)")

_EXCERPT_LENGTH = 200

#: Loggers of the libraries pydas drives; they log request URLs at DEBUG level.
LIBRARY_LOGGERS = (
    "urllib3",
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.poolmanager",
    "urllib3.response",
    "urllib3.util.retry",
    "requests",
    "pydas",
)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove secret values from a text meant for a log line or an exception.

    :param text: the text to clean.
    :param secrets: literal values to mask wherever they appear.
    :returns: the text with every given secret (also in its URL-encoded
        forms), ``token=...``-style query values, ``"token": "..."`` members,
        passwords in URLs and quoted upload tokens replaced by ``***``.
    """
    for secret in secrets:
        for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
            if form:
                text = text.replace(form, "***")
    text = _IN_QUERY.sub(lambda match: f"{match.group(1)}=***", text)
    text = _IN_JSON.sub(lambda match: f'"{match.group(1)}"{match.group(2)}"***"', text)
    text = _IN_REPR.sub(lambda match: f"'{match.group(1)}'{match.group(2)}'***'", text)
    text = _IN_USERINFO.sub(lambda match: f"{match.group(1)}***@", text)
    return _UPLOAD_TOKEN.sub(lambda match: f"{match.group(1)}***", text)


def scrub_parameters(parameters: Mapping[str, Any]) -> Dict[str, Any]:
    """Return a copy of ``parameters`` with the values of secret keys masked."""
    return {key: ("***" if key in SECRET_KEYS else value) for key, value in parameters.items()}


def secrets_of(parameters: Mapping[str, Any]) -> Tuple[str, ...]:
    """The values of the secret parameters of a request, to mask in its errors."""
    return tuple(str(value) for key, value in parameters.items() if key in SECRET_KEYS and value)


def excerpt(body: bytes, secrets: Iterable[str] = ()) -> str:
    """A short, single-line, secret-free excerpt of an answer body."""
    # Scrub before cutting, so that no part of a secret survives at the cut.
    text = scrub(body[:65536].decode("utf-8", errors="replace"), secrets)
    text = " ".join(text.split())
    if len(text) > _EXCERPT_LENGTH:
        text = text[:_EXCERPT_LENGTH] + "..."
    return text or "(empty body)"


class SecretFilter(logging.Filter):
    """A logging filter that masks secrets in the records passing through.

    The message is formatted with its arguments and scrubbed; when that
    changed anything, the record carries the clean text instead (and no
    arguments). A traceback attached to the record is scrubbed as well.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's business
            return True
        clean = scrub(message)
        if clean != message:
            record.msg = clean
            record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
        return True


_FILTER = SecretFilter()


def install_log_filter() -> None:
    """Put :class:`SecretFilter` on the loggers of urllib3, requests and pydas.

    Idempotent. A logger filter sees only the records logged to that very
    logger, so the filter goes on each module logger of these libraries
    (those listed in :data:`LIBRARY_LOGGERS`, and any other existing logger
    under ``urllib3.`` or ``requests.``).
    """
    names = set(LIBRARY_LOGGERS)
    names.update(
        name
        for name in list(logging.root.manager.loggerDict)
        if name.startswith(("urllib3.", "requests."))
    )
    for name in names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
