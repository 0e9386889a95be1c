"""``pydas login``, ``pydas logout`` and ``pydas whoami``."""

import argparse
import logging

from pydas import _secret_store, credentials, session
from pydas.cli.connect import connect, gather, log_in
from pydas.cli.errors import Context
from pydas.cli.output import Output

__all__ = ["run_login", "run_logout", "run_whoami"]

logger = logging.getLogger("pydas")


def _where(store: str) -> str:
    if store == _secret_store.KEYRING:
        return f"the system keyring (service {_secret_store.KEYRING_SERVICE}:URL)"
    return f"{credentials.config_dir()}/credentials.ini (readable by you only)"


def run_login(args: argparse.Namespace, out: Output, context: Context) -> int:
    """Log in (asking for the password unless a key is given) and store the API key."""
    found = gather(args, stored=False)
    log_in(found, context)
    api_key = session.api_key
    assert api_key is not None  # set by a successful login
    settings = {"ca_bundle": args.ca_bundle, "no_verify": args.no_verify, "timeout": args.timeout}
    store = args.store
    try:
        used = credentials.store_login(found, api_key, store=store, settings=settings)
    except _secret_store.SecretStoreError as error:
        if store is not None:
            raise
        logger.warning("%s", error)
        out.message(f"The system keyring failed ({error}); using a file instead.")
        used = credentials.store_login(found, api_key, store=_secret_store.FILE,
                                       settings=settings)
    out.info(f"Logged in to {found.url} as {found.email}.")
    out.info(f"The API key is stored in {_where(used)}; `pydas logout` removes it.")
    return 0


def run_logout(args: argparse.Namespace, out: Output, context: Context) -> int:
    """Forget the stored login of a server (default: the default one)."""
    url, email, removed = credentials.forget_login(args.url)
    if url is None:
        out.info("There is no stored login.")
    elif removed:
        out.info(f"Removed the stored login of {email} on {url}.")
    else:
        out.info(f"There is no stored login for {url}.")
    return 0


def run_whoami(args: argparse.Namespace, out: Output, context: Context) -> int:
    """Log in as the other commands would and say as whom, where, and with what."""
    found = connect(args, context)
    communicator = session.communicator
    assert communicator is not None  # set by a successful login
    user = communicator.get_user_by_email(found.email)
    name = ""
    if isinstance(user, dict):
        name = f" ({user.get('firstname', '')} {user.get('lastname', '')})".replace("( ", "(")
    out.result(f"{found.email}{name} on {found.url}")
    out.info(f"Credentials from: {found.origin.get('secret', 'unknown')}")
    return 0
