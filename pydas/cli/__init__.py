"""The ``pydas`` command.

``pydas upload``, ``download``, ``ls``, ``tree``, ``login``, ``logout``,
``whoami``, ``demo`` and ``serve``; see ``docs/cli.rst`` or ``pydas --help``.
The modules: :mod:`~pydas.cli.parser` (the command line),
:mod:`~pydas.cli.connect` (connection options and login),
:mod:`~pydas.cli.transfers`, :mod:`~pydas.cli.browse`,
:mod:`~pydas.cli.account` and :mod:`~pydas.cli.demo` (the commands),
:mod:`~pydas.cli.output` (printing) and :mod:`~pydas.cli.errors` (exit codes
and messages). The commands use only the public API of pydas.
"""

import sys
import traceback
from typing import List, Optional

__all__ = ["main"]


def _serve(argv: List[str]) -> int:
    from pydas.testing.__main__ import main as serve_main

    return serve_main(argv, prog="pydas serve")


def main(argv: Optional[List[str]] = None) -> int:
    """Run the ``pydas`` command and return its exit status.

    :param argv: the arguments (default: ``sys.argv[1:]``)
    :returns: the exit status (see :mod:`pydas.cli.errors`); usage errors
        and ``--help`` exit through :class:`SystemExit` as argparse does
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["serve"]:
        return _serve(argv[1:])

    from pydas.cli.errors import Context, explain
    from pydas.cli.output import Output, logging_to_stderr
    from pydas.cli.parser import COMMANDS, build_parser

    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return _serve(argv[argv.index("serve") + 1:])
    verbosity = 2 if args.debug else args.verbose
    out = Output(quiet=args.quiet)
    context = Context()
    with logging_to_stderr(verbosity, status_lines_printed=not args.quiet):
        try:
            return COMMANDS[args.command](args, out, context)
        except (Exception, KeyboardInterrupt) as error:
            code, lines = explain(error, context)
            if verbosity >= 2:
                traceback.print_exc(file=sys.stderr)
            out.error(lines)
            return code


if __name__ == "__main__":
    sys.exit(main())
