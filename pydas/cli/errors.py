"""Exit codes of the ``pydas`` command, and failures explained in its own terms.

A failure is told in one or two lines: what failed, and what to do about it
with the command's options (never with the library's Python advice). The
codes are part of the command's interface (documented in ``docs/cli.rst``).
"""

import errno
from typing import List, Optional, Tuple

from pydas import exceptions
from pydas._secret_store import SecretStoreError
from pydas.api import TransferSummary
from pydas.credentials import ConfigurationError, CredentialsError

__all__ = [
    "OK",
    "FAILED",
    "USAGE",
    "AUTHENTICATION",
    "NOT_FOUND",
    "PERMISSION",
    "CONFLICT",
    "NETWORK",
    "SERVER",
    "INTERRUPTED",
    "CommandError",
    "Context",
    "explain",
]

OK = 0
#: A transfer that could not be completed intact, a demo that did not verify, anything else.
FAILED = 1
#: Bad arguments or settings (argparse uses 2 as well).
USAGE = 2
#: No credentials, or the server refused them.
AUTHENTICATION = 3
#: A server path, folder id or local file that does not exist.
NOT_FOUND = 4
#: No permission on the server or on a local file.
PERMISSION = 5
#: Something is in the way: an existing folder, a local path that is not a file.
CONFLICT = 6
#: The server cannot be reached: connection refused, host unknown, timeout, TLS.
NETWORK = 7
#: The server failed, or is not a Midas server.
SERVER = 8
#: Interrupted (Ctrl-C); what finished is kept and a re-run continues.
INTERRUPTED = 130


class CommandError(Exception):
    """A failure the command describes itself.

    :param code: the exit code
    :param message: what failed
    :param advice: what to do about it (optional second line)
    """

    def __init__(self, code: int, message: str, advice: Optional[str] = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.advice = advice


class Context:
    """What the command was doing, to name it in messages.

    :param url: the server URL, once known
    :param email: the account, once known
    :param secret_origin: where the secret came from (see :class:`pydas.credentials.Login`)
    :param destination: the server folder an upload writes into
    :param summary: what the running transfer has done so far
    """

    def __init__(self) -> None:
        self.url: Optional[str] = None
        self.email: Optional[str] = None
        self.secret_origin: Optional[str] = None
        self.logging_in = False
        self.destination: Optional[str] = None
        self.summary: Optional[TransferSummary] = None


def _refused(error: exceptions.LoginFailed, context: Context) -> Tuple[int, str, str]:
    who = f"{context.email} on {context.url}" if context.email else str(context.url)
    if error.method == "midas.user.apikey.default":
        what = "wrong e-mail address or password"
    elif error.code == 0:
        what = "wrong API key (or it belongs to another application: --application)"
    else:
        what = "no account has this e-mail address"
    origin = context.secret_origin or ""
    if origin.startswith("the stored login"):
        advice = "the stored API key no longer works: run `pydas login` again"
    elif origin.startswith("MIDAS_"):
        advice = f"check {origin}, or unset it to use the stored login or a prompt"
    elif origin == "~/.netrc":
        advice = "check the password of this server's entry in ~/.netrc"
    else:
        advice = "check the e-mail address and the password or API key"
    return AUTHENTICATION, f"login failed for {who}: {what}", advice


def _without_method(error: exceptions.PydasException) -> str:
    """The library's message without the API method it names (the command user never typed it)."""
    text = str(error)
    method = error.method
    if method:
        if text.startswith(f"{method}: "):
            text = text[len(method) + 2:]
        if text.endswith(f" for {method}"):
            text = text[: -len(method) - 5]
    return text


def _network(error: exceptions.RequestError, context: Context) -> Tuple[int, str, str]:
    if isinstance(error, exceptions.SSLVerificationFailed):
        return NETWORK, _without_method(error), (
            "pass the CA certificates with --ca-bundle FILE (or MIDAS_CA_BUNDLE); "
            "--no-verify skips the check"
        )
    if context.logging_in and isinstance(error, exceptions.CannotConnect):
        return NETWORK, _without_method(error), (
            "check --url (or MIDAS_URL) and that the server is running"
        )
    if isinstance(error, exceptions.TimedOut):
        return NETWORK, _without_method(error), (
            "--timeout SECONDS waits longer; run the same command again to continue"
        )
    return NETWORK, _without_method(error), "run the same command again to continue"


def _library(error: exceptions.PydasException, context: Context) -> Tuple[int, str, Optional[str]]:
    text = str(error)
    if isinstance(error, exceptions.LoginFailed):
        return _refused(error, context)
    if isinstance(error, exceptions.RequestError):
        return _network(error, context)
    if isinstance(error, exceptions.NotAMidasServer):
        return SERVER, text, "check --url (or MIDAS_URL): it is the Midas root, e.g. https://host/midas"
    if isinstance(error, (exceptions.NotLoggedIn, exceptions.InvalidToken, CredentialsError)):
        return AUTHENTICATION, text, "run `pydas login`, or set MIDAS_EMAIL and MIDAS_API_KEY"
    if isinstance(error, SecretStoreError):
        return AUTHENTICATION, text, None
    if isinstance(error, ConfigurationError):
        return USAGE, text, None
    if isinstance(error, exceptions.PathNotFound):
        return NOT_FOUND, text, "`pydas ls` shows what exists"
    if isinstance(error, exceptions.LocalInputError):
        return NOT_FOUND, text, None
    if isinstance(error, exceptions.FolderExists):
        where = context.destination or "the destination"
        return CONFLICT, f"{where} already holds a folder named {error.folder_name!r}", (
            "add --reuse-existing to upload into it (unchanged files are not sent again)"
        )
    if isinstance(error, exceptions.InvalidPolicy):
        advice = "choose another --destination, or ask its owner for write access"
        return PERMISSION, text, advice if context.destination else None
    if isinstance(error, exceptions.UnsafePathError):
        return CONFLICT, text, None
    if isinstance(error, exceptions.TransferError):
        return FAILED, text, "run the same command again to continue"
    if isinstance(error, exceptions.ResponseError):
        return SERVER, f"the server failed: {text}", (
            "try again later; the server's administrator can find the cause in its logs"
        )
    return FAILED, text, None


def _local(error: OSError) -> Tuple[int, str, Optional[str]]:
    where = f": {error.filename}" if error.filename else ""
    reason = error.strerror or str(error)
    text = f"{reason}{where}"
    if isinstance(error, FileNotFoundError):
        return NOT_FOUND, text, None
    if isinstance(error, PermissionError):
        return PERMISSION, text, None
    if isinstance(error, (FileExistsError, IsADirectoryError, NotADirectoryError)):
        return CONFLICT, text, None
    if error.errno == errno.ENOSPC:
        return FAILED, text, "free some disk space and run the same command again to continue"
    return FAILED, text, None


def explain(error: BaseException, context: Context) -> Tuple[int, List[str]]:
    """Turn an exception into an exit code and the lines to print.

    :param error: what the command raised
    :param context: what it was doing
    :returns: ``(code, lines)``; the lines have no ``pydas:`` prefix
    """
    advice: Optional[str]
    if isinstance(error, CommandError):
        code, message, advice = error.code, error.message, error.advice
    elif isinstance(error, KeyboardInterrupt):
        code, message = INTERRUPTED, "interrupted"
        advice = "run the same command again to continue: finished files are kept"
    elif isinstance(error, exceptions.PydasException):
        code, message, advice = _library(error, context)
    elif isinstance(error, OSError):
        code, message, advice = _local(error)
    elif isinstance(error, ValueError):
        code, message, advice = USAGE, str(error), None
    else:
        code, message, advice = FAILED, f"{type(error).__name__}: {error}", (
            "this is a bug in pydas; run again with --debug and report what it prints"
        )
    lines = [f"error: {message}"]
    if advice:
        lines.append(advice)
    summary = context.summary
    if summary is not None and any(summary.as_dict().values()):
        lines.append(f"done before the failure: {summary}")
    return code, lines
