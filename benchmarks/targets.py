"""The servers the benchmarks run against: the emulator, or a real Midas server.

Either way the harness gets a :class:`Target`: the server's URL, a user's
e-mail and API key, and a connection of its own (today's pydas drivers) for
the set-up that is not measured: scratch folders, item ids, upload tokens for
``curl``, and the clean-up. Everything a run creates lives in one uniquely
named scratch folder under the user's ``Private`` folder, deleted at the end.
"""

import os
import shlex
import time
from contextlib import contextmanager
from typing import Any, Dict, Iterator, Optional

from procs import emulator_process

from pydas.core import Communicator

__all__ = ["Target", "emulator_target", "read_credentials", "real_server_target"]


class Target:
    """A server and a user to benchmark with."""

    def __init__(self, kind: str, url: str, email: str, api_key: str) -> None:
        self.kind = kind
        self.url = url.rstrip("/")
        self.email = email
        self.api_key = api_key
        self.communicator = Communicator(self.url)
        self.token = self.communicator.login_with_api_key(email, api_key)
        folders = self.communicator.list_user_folders(self.token)
        self.private_id = next(f["folder_id"] for f in folders if f["name"] == "Private")

    def credentials(self, url: Optional[str] = None) -> Dict[str, str]:
        """The arguments every task takes: URL (default the server's own), e-mail, API key."""
        return {"url": url or self.url, "email": self.email, "api_key": self.api_key}

    def scratch_folder(self, label: str) -> Dict[str, Any]:
        """Create ``Private/pydas-bench-<label>-<time>-<pid>``; returns the folder."""
        name = f"pydas-bench-{label}-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}"
        return self.communicator.create_folder(self.token, name, self.private_id)

    def child(self, folder_id: Any, name: str) -> Dict[str, Any]:
        """The item or folder called ``name`` directly inside a folder."""
        children = self.communicator.folder_children(self.token, folder_id)
        for entry in (children.get("items") or []) + (children.get("folders") or []):
            if entry["name"] == name:
                return entry
        raise LookupError(f"no {name!r} in folder {folder_id}")

    def delete_folder(self, folder_id: Any) -> None:
        """Delete a folder, its sub-folders first (small requests: no one call runs for long)."""
        children = self.communicator.folder_children(self.token, folder_id)
        for child in children.get("folders") or []:
            self.delete_folder(child["folder_id"])
        self.communicator.delete_folder(self.token, folder_id)


@contextmanager
def emulator_target() -> Iterator[Target]:
    """A fresh emulator in its own process, with one user."""
    with emulator_process() as info:
        yield Target("emulator", info["url"], info["email"], info["api_key"])


def read_credentials(path: str) -> Dict[str, str]:
    """Read a ``KEY=VALUE`` credentials file such as the server kit's ``credentials.env``."""
    values: Dict[str, str] = {}
    with open(path) as handle:
        for line in handle:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, _, value = line.partition("=")
            words = shlex.split(value)
            values[key.strip()] = words[0] if words else ""
    return values


def real_server_target(credentials_path: str) -> Target:
    """The real server named by a credentials file, as its normal user (``MIDAS_EMAIL``)."""
    values = read_credentials(credentials_path)
    missing = [k for k in ("MIDAS_URL", "MIDAS_EMAIL", "MIDAS_API_KEY") if not values.get(k)]
    if missing:
        raise SystemExit(f"{credentials_path}: missing {', '.join(missing)}")
    return Target("real server", values["MIDAS_URL"], values["MIDAS_EMAIL"],
                  values["MIDAS_API_KEY"])
