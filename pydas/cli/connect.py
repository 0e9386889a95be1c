"""The connection options of every command, and the login they lead to."""

import argparse
import getpass
import os
import sys
from typing import Callable

from pydas import api, credentials
from pydas.cli.errors import USAGE, CommandError, Context

__all__ = ["add_connection_options", "connect", "gather", "log_in"]


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--url``, ``--email``, ``--api-key-env``... to a command's parser."""
    group = parser.add_argument_group(
        "connection",
        "Each option falls back on its environment variable, then on the stored login "
        "and configuration file (see `pydas login`), then on ~/.netrc, then on a prompt.",
    )
    group.add_argument("--url", metavar="URL",
                       help="the Midas server, e.g. https://host/midas (MIDAS_URL)")
    group.add_argument("--email", metavar="EMAIL",
                       help="the account's e-mail address (MIDAS_EMAIL)")
    group.add_argument(
        "--api-key-env", metavar="NAME",
        help="read the API key from the environment variable NAME (default MIDAS_API_KEY, "
        "or the password from MIDAS_PASSWORD); secrets are never taken as arguments",
    )
    group.add_argument("--application", metavar="NAME",
                       help="the application the API key belongs to (MIDAS_APPLICATION; "
                       "default Default)")
    verify = group.add_mutually_exclusive_group()
    verify.add_argument("--ca-bundle", metavar="FILE",
                        help="verify the server's certificate with these CA certificates "
                        "(MIDAS_CA_BUNDLE)")
    verify.add_argument("--no-verify", action="store_const", const=True, default=None,
                        help="do not verify the server's TLS certificate (MIDAS_NO_VERIFY=1)")
    group.add_argument("--timeout", metavar="SECONDS", type=_seconds,
                       help="give up on a request after this long without an answer "
                       "(MIDAS_TIMEOUT; default 10 s to connect, 300 s to read)")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text!r}")
    return value


def _asking(ask: Callable[[str], str], secret: bool = False) -> Callable[[str], str]:
    """Wrap a prompt so that end of input is a clear failure, not an ``EOFError``.

    A secret is asked for only on a terminal: read from a pipe it would be
    echoed, and a script waiting on it would hang.
    """

    def prompt(text: str) -> str:
        if secret and not (sys.stdin and sys.stdin.isatty()):
            raise credentials.CredentialsError(
                "no password or API key found, and no terminal to ask for one on"
            )
        try:
            return ask(text)
        except EOFError:
            print(file=sys.stderr if secret else sys.stdout)
            raise credentials.CredentialsError(
                f"end of input at the prompt {text.strip()!r}: no credentials to log in with"
            ) from None

    return prompt


def gather(args: argparse.Namespace, *, stored: bool = True) -> credentials.Login:
    """Find the login the options, environment, stored login, ``.netrc`` or prompts give.

    :param args: the parsed options (with the connection options)
    :param stored: also use the stored login and ``~/.netrc``
    :raises CommandError: if ``--api-key-env`` names an unset variable
    """
    api_key = None
    if args.api_key_env:
        api_key = os.environ.get(args.api_key_env, "").strip()
        if not api_key:
            raise CommandError(
                USAGE,
                f"--api-key-env names {args.api_key_env}, which is not set",
                f"export {args.api_key_env}=<your API key>, or leave out --api-key-env",
            )
    return credentials.resolve(
        url=args.url,
        email=args.email,
        api_key=api_key,
        application=args.application,
        ca_bundle=args.ca_bundle,
        no_verify=args.no_verify,
        timeout=args.timeout,
        ask=_asking(input),
        ask_secret=_asking(getpass.getpass, secret=True),
        stored=stored,
    )


def log_in(found: credentials.Login, context: Context) -> None:
    """Log in with ``found``, telling ``context`` who and where (for error messages)."""
    context.url = found.url
    context.email = found.email
    context.secret_origin = found.origin.get("secret")
    context.logging_in = True
    api.login_with(found)
    context.logging_in = False


def connect(
    args: argparse.Namespace, context: Context, *, stored: bool = True
) -> credentials.Login:
    """Gather the login of the options and log in with it.

    :returns: the login used
    """
    found = gather(args, stored=stored)
    log_in(found, context)
    return found
