"""The measured work of today's pydas, one task per process (see :mod:`task_protocol`).

Run by the harness as ``python benchmarks/client_tasks.py TASK JSON-ARGS``
with the interpreter of the checkout under test. Each task logs in before
``timer.start()`` (log-in is not timed) and then does exactly what a user's
script would: the public :func:`pydas.upload` / :func:`pydas.download`, or
``Communicator.folder_get`` for the small calls; ``md5`` times the hashing
alone.
"""

import cProfile
import hashlib
from typing import Any, Dict, Optional

from task_protocol import Timer, main

import pydas
from pydas.core import Communicator


def calls(timer: Timer, url: str, email: str, api_key: str, folder_id: str,
          count: int) -> None:
    """``count`` calls of ``folder_get`` on one Communicator."""
    communicator = Communicator(url)
    token = communicator.login_with_api_key(email, api_key)
    timer.start()
    for _ in range(count):
        communicator.folder_get(token, folder_id)


def upload(timer: Timer, url: str, email: str, api_key: str, path: str, destination: str,
           workers: int = 1, reuse_existing: bool = False,
           profile: Optional[str] = None) -> Dict[str, Any]:
    """:func:`pydas.upload` of ``path`` (a tree or one file); optionally under cProfile."""
    pydas.login(email=email, api_key=api_key, url=url)
    profiler = cProfile.Profile() if profile else None
    timer.start()
    if profiler is not None:
        profiler.enable()
    pydas.upload(path, destination, reuse_existing=reuse_existing, workers=workers, quiet=True)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    return {}


def download(timer: Timer, url: str, email: str, api_key: str, server_path: str,
             local_path: str, workers: int = 1, existing: bool = False) -> None:
    """:func:`pydas.download` of a server path; ``existing`` re-runs into the same place."""
    pydas.login(email=email, api_key=api_key, url=url)
    if existing:
        pydas.allow_existing_download_paths()
    timer.start()
    pydas.download(server_path, local_path, workers=workers, quiet=True)


def md5(timer: Timer, path: str, piece: int = 1 << 20, **_credentials: str) -> None:
    """``hashlib`` MD5 of a file read in pieces: the hashing floor of a verified transfer."""
    timer.start()
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(piece), b""):
            digest.update(block)


if __name__ == "__main__":
    main({"calls": calls, "upload": upload, "download": download, "md5": md5})
