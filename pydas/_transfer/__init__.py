"""The transfer engine behind :func:`pydas.upload` and :func:`pydas.download`.

Everything that touches local files or moves file bytes lives in this
package, one module per job:

* :mod:`~pydas._transfer.remote` — calls to the server with the current
  token (by keyword), renewed once when it expires;
* :mod:`~pydas._transfer.answers` — the shape of every answer the engine
  uses, checked (:class:`~pydas.exceptions.MalformedResponse` otherwise);
* :mod:`~pydas._transfer.paths` — server paths (``/users/...``,
  ``/communities/...``, ``Private/...``) resolved to folders and items;
* :mod:`~pydas._transfer.local` — the local input, scanned and checked before
  anything is sent;
* :mod:`~pydas._transfer.exclude` — the exclude patterns of uploads and downloads;
* :mod:`~pydas._transfer.names` — server names made safe, distinct local names;
* :mod:`~pydas._transfer.upload` — local trees become server folders and items;
* :mod:`~pydas._transfer.send` — one file: sent, resumed, verified, repaired;
* :mod:`~pydas._transfer.deferred` — verifications put off until the record can
  trust them, run beside the sending;
* :mod:`~pydas._transfer.journal` — open upload tokens kept for a later run;
* :mod:`~pydas._transfer.cache` — the SQLite file in the user cache dir that
  holds the record and the MD5 cache;
* :mod:`~pydas._transfer.record` — what earlier transfers left verified, and
  the rules that say when a re-run may skip it;
* :mod:`~pydas._transfer.rerun` — the upload entries of the record: when an
  upload re-run may skip an item without asking about it;
* :mod:`~pydas._transfer.rerun_download` — the download entries of the
  record: when a download re-run may skip an item without reading it;
* :mod:`~pydas._transfer.sightings` — since when this client saw each item's
  ``date_update``, so that a download soon after an upload trusts its record;
* :mod:`~pydas._transfer.digests` — the MD5s of local files, kept by path and
  ``os.stat`` state; the MD5 of an upload built from the pieces it sends;
* :mod:`~pydas._transfer.hashing` — MD5 on a second thread, beside the
  receiving or sending of a big file;
* :mod:`~pydas._transfer.download` — verified, atomic downloads;
* :mod:`~pydas._transfer.lookahead` — items looked up ahead of a one-worker
  download;
* :mod:`~pydas._transfer.parts` — the part files of downloads, continued by
  later runs;
* :mod:`~pydas._transfer.verify` — the one rule that says a transfer is done;
* :mod:`~pydas._transfer.runner` — parallel workers;
* :mod:`~pydas._transfer.progress` — status lines and the progress bar;
* :mod:`~pydas._transfer.summary` — what a transfer did, counted;
* :mod:`~pydas._transfer.options` — the choices of one transfer, as one value.

:mod:`pydas.api` keeps the login and calls into this package.
"""

from pydas._transfer.answers import head_revision
from pydas._transfer.download import download_folder, download_item
from pydas._transfer.exclude import Excludes
from pydas._transfer.local import LocalDirectory, LocalFile, scan
from pydas._transfer.names import name_key, repair_text, safe_name
from pydas._transfer.options import TransferOptions
from pydas._transfer.paths import destination_folder, folder_by_id, resolve
from pydas._transfer.progress import Reporter
from pydas._transfer.remote import Remote
from pydas._transfer.runner import Runner, check_workers
from pydas._transfer.summary import TransferSummary
from pydas._transfer.upload import upload_entries
from pydas._transfer.verify import file_md5

__all__ = [
    "Excludes",
    "LocalDirectory",
    "LocalFile",
    "Remote",
    "Reporter",
    "Runner",
    "TransferOptions",
    "TransferSummary",
    "check_workers",
    "destination_folder",
    "download_folder",
    "download_item",
    "file_md5",
    "folder_by_id",
    "head_revision",
    "name_key",
    "repair_text",
    "resolve",
    "safe_name",
    "scan",
    "upload_entries",
]
