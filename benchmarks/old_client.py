"""The old client, pydas 0.3.6 from PyPI, in a virtualenv of its own.

Two halves:

* :func:`ensure_virtualenv`, used by the harness, creates (once) a virtualenv
  in the user cache directory and runs ``pip install pydas==0.3.6`` in it
  (which brings ``requests`` and ``retrying``).
* Run as a script with that virtualenv's interpreter
  (``python benchmarks/old_client.py TASK JSON-ARGS``, see
  :mod:`task_protocol`), it does the measured work with the old code.

How the old code is driven: 0.3.6's ``pydas/__init__.py`` imports
``pydas.api``, whose ``from core import Communicator`` and ``import session``
are implicit relative imports that fail on Python 3. So :func:`load_old_pydas`
puts an empty ``pydas`` package module (pointing at the installed directory)
into ``sys.modules``, imports ``pydas.core``, ``pydas.drivers`` and
``pydas.session`` unchanged, and executes the installed ``pydas/api.py`` with
exactly those two lines rewritten to absolute imports (``from pydas.core import
Communicator``, ``from pydas import session``). Every other line of the old
client runs as shipped. The tasks then call the functions its ``upload`` and
``download`` call once they have found the destination:
``_upload_folder_recursive(tree, folder_id, reuse_existing=...)``,
``_upload_as_item(name, folder_id, path)``, ``_download_folder_recursive(
folder_id, path)`` and ``_download_item(item_id, path)``. (Its path lookup
cannot be used as is: ``upload(..., destination='/users/...')`` passes a
``(is_item, id)`` tuple as the folder id.) Its status lines are printed to
``/dev/null``.
"""

import contextlib
import os
import subprocess
import sys
import types
from typing import Any, Optional, Tuple

from task_protocol import Timer, main

__all__ = ["VERSION", "ensure_virtualenv", "load_old_pydas"]

VERSION = "0.3.6"
_IMPORT_FIXES = (
    ("from core import Communicator\n", "from pydas.core import Communicator\n"),
    ("import session\n", "from pydas import session\n"),
)


def _cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "pydas-benchmarks", f"venv-pydas-{VERSION}")


def ensure_virtualenv() -> Tuple[Optional[str], str]:
    """Create the old client's virtualenv if needed.

    :returns: ``(python, note)``: the interpreter, or ``None`` with the reason
        in ``note`` when pydas 0.3.6 cannot be installed.
    """
    venv = _cache_dir()
    python = os.path.join(venv, "bin", "python")
    check = [python, "-c", "import importlib.metadata as m; print(m.version('pydas'))"]
    if os.path.exists(python):
        found = subprocess.run(check, capture_output=True, text=True)
        if found.returncode == 0 and found.stdout.strip() == VERSION:
            return python, f"pydas {VERSION} in {venv}"
    steps = [
        [sys.executable, "-m", "venv", "--clear", venv],
        [python, "-m", "pip", "install", "-q", f"pydas=={VERSION}"],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            return None, f"could not install pydas {VERSION}: {done.stderr.strip()[-300:]}"
    return python, f"pydas {VERSION} installed in {venv}"


def load_old_pydas() -> Any:
    """Import pydas 0.3.6's modules as described above; returns its ``pydas.api``."""
    import importlib.util

    spec = importlib.util.find_spec("pydas")
    if spec is None or spec.origin is None:
        raise ImportError("pydas 0.3.6 is not installed in this interpreter")
    directory = os.path.dirname(spec.origin)
    package = types.ModuleType("pydas")
    package.__path__ = [directory]  # type: ignore[attr-defined]
    sys.modules["pydas"] = package
    import pydas.core  # noqa: F401
    import pydas.session  # noqa: F401

    path = os.path.join(directory, "api.py")
    with open(path) as handle:
        lines = handle.readlines()
    for old, new in _IMPORT_FIXES:
        if lines.count(old) != 1:
            raise ImportError(f"{path} is not pydas {VERSION}'s: no single line {old!r}")
        lines[lines.index(old)] = new
    api = types.ModuleType("pydas.api")
    api.__file__ = path
    exec(compile("".join(lines), path, "exec"), api.__dict__)
    sys.modules["pydas.api"] = api
    package.api = api  # type: ignore[attr-defined]
    return api


def _login(url: str, email: str, api_key: str) -> Any:
    api = load_old_pydas()
    api.login(email=email, api_key=api_key, url=url)
    return api


def calls(timer: Timer, url: str, email: str, api_key: str, folder_id: str,
          count: int) -> None:
    """``count`` calls of ``folder_get`` on one old Communicator."""
    api = _login(url, email, api_key)
    communicator = api.session.communicator
    token = api.session.token
    timer.start()
    for _ in range(count):
        communicator.folder_get(token, folder_id)


def _quietly(timer: Timer, url: str, email: str, api_key: str, function: str,
             *args: Any, **kwargs: Any) -> None:
    """Log in, then time ``api.<function>(...)`` with its status lines sent to /dev/null."""
    api = _login(url, email, api_key)
    timer.start()
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        getattr(api, function)(*args, **kwargs)


def upload_tree(timer: Timer, url: str, email: str, api_key: str, path: str,
                folder_id: str, reuse_existing: bool = False) -> None:
    """What ``pydas.upload(tree)`` does once it has the destination folder's id."""
    _quietly(timer, url, email, api_key, "_upload_folder_recursive", path, folder_id,
             reuse_existing=reuse_existing)


def upload_file(timer: Timer, url: str, email: str, api_key: str, path: str,
                folder_id: str) -> None:
    """What ``pydas.upload(file)`` does once it has the destination folder's id."""
    _quietly(timer, url, email, api_key, "_upload_as_item", os.path.basename(path), folder_id,
             path)


def download_tree(timer: Timer, url: str, email: str, api_key: str, folder_id: str,
                  local_path: str) -> None:
    """What ``pydas.download(folder path)`` does once it has found the folder."""
    _quietly(timer, url, email, api_key, "_download_folder_recursive", folder_id, local_path)


def download_file(timer: Timer, url: str, email: str, api_key: str, item_id: str,
                  local_path: str) -> None:
    """What ``pydas.download(item path)`` does once it has found the item."""
    _quietly(timer, url, email, api_key, "_download_item", item_id, local_path)


if __name__ == "__main__":
    main({
        "calls": calls,
        "upload_tree": upload_tree,
        "upload_file": upload_file,
        "download_tree": download_tree,
        "download_file": download_file,
    })
