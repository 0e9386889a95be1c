"""Run the Midas emulator in the foreground: ``python -m pydas.testing``.

It prints the base URL and the credentials of a ready-made user, then serves
until interrupted (Ctrl-C). ``pydas serve`` calls :func:`main` as well.
"""

import argparse
import sys
import threading
from typing import List, Optional

from pydas.testing.server import MidasServer

__all__ = ["main"]

DEMO_EMAIL = "user@example.com"
DEMO_PASSWORD = "password"


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run a local Midas Server 3 emulator until interrupted.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="TCP port (default: a free one)")
    parser.add_argument("--data-dir", default=None,
                        help="keep the server's data in this directory (default: temporary)")
    parser.add_argument("--no-double-encode", action="store_true",
                        help="return non-ASCII text as plain UTF-8 instead of double-encoded")
    return parser


def main(
    argv: Optional[List[str]] = None,
    stop_event: Optional[threading.Event] = None,
    prog: str = "python -m pydas.testing",
) -> int:
    """Start the emulator, print how to reach it and serve until interrupted.

    :param argv: command-line arguments (default: ``sys.argv[1:]``).
    :param stop_event: stop when this event is set (for embedding and tests);
        otherwise serve until Ctrl-C.
    :param prog: the command name shown in the usage and help (``pydas serve``
        passes its own).
    :returns: the exit status: 0, or 1 if the server cannot start (e.g. the port is
        taken or the data directory cannot be created).
    """
    args = _parser(prog).parse_args(argv)
    server = MidasServer(data_dir=args.data_dir, host=args.host, port=args.port,
                         double_encode=not args.no_double_encode)
    try:
        server.start()
    except OSError as error:
        print(f"Cannot start the Midas emulator on {args.host}:{args.port}: {error}",
              file=sys.stderr)
        return 1
    try:
        try:
            api_key = server.default_api_key(DEMO_EMAIL)
        except ValueError:  # a new data directory: no such user yet
            api_key = server.create_user(DEMO_EMAIL, DEMO_PASSWORD, "Jane", "Doe").api_key
        print(f"Midas Server emulator running at {server.url}")
        print(f"  e-mail:   {DEMO_EMAIL}")
        print(f"  password: {DEMO_PASSWORD}")
        print(f"  API key:  {api_key}")
        print("Press Ctrl-C to stop.", flush=True)
        waiter = stop_event or threading.Event()
        try:
            while not waiter.wait(0.5):
                continue
        except KeyboardInterrupt:
            print("Stopping.", file=sys.stderr)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
