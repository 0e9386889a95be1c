"""Peak client memory and time of uploading and downloading one large file.

Compares pydas's streamed ``perform_upload`` with the old client's approach
(reading the whole file into memory and sending it as one body) and with
``curl -T`` (time only: the peak RSS of a child process started from Python
includes the parent's pages it inherited, so it is not reported), then
downloads the file back with the driver and with the verifying high-level
:func:`pydas.download`. The bundled emulator runs in another process on
127.0.0.1, so the numbers are the client's.

Usage::

    python benchmarks/transfer_memory.py [--size-mb 300]

Results are written down in ``benchmarks/RESULTS.rst``.
"""

import argparse
import os
import shutil
import tempfile

from _common import emulator_process, make_file, run_measured, timestamp

STREAMED = """
import os
from pydas.drivers import CoreDriver
d = CoreDriver(os.environ['B_URL'])
token = d.login_with_api_key(os.environ['B_EMAIL'], os.environ['B_KEY'])
item = d.create_item(token, 'streamed', os.environ['B_FOLDER'])
up = d.generate_upload_token(token, item['item_id'], 'big.bin')
d.perform_upload(up, 'big.bin', filepath=os.environ['B_FILE'])
"""

BUFFERED = """
import os, requests
from pydas.drivers import CoreDriver
d = CoreDriver(os.environ['B_URL'])
token = d.login_with_api_key(os.environ['B_EMAIL'], os.environ['B_KEY'])
item = d.create_item(token, 'buffered', os.environ['B_FOLDER'])
up = d.generate_upload_token(token, item['item_id'], 'big.bin')
size = os.path.getsize(os.environ['B_FILE'])
with open(os.environ['B_FILE'], 'rb') as f:
    body = f.read()
r = requests.put(os.environ['B_URL'] + '/api/json', data=body, params={
    'method': 'midas.upload.perform', 'uploadtoken': up, 'filename': 'big.bin',
    'length': size, 'revision': 'head'})
assert r.json()['stat'] == 'ok', r.text
"""

CURL = """
import os, shutil, subprocess, json, urllib.parse, resource
from pydas.drivers import CoreDriver
d = CoreDriver(os.environ['B_URL'])
token = d.login_with_api_key(os.environ['B_EMAIL'], os.environ['B_KEY'])
item = d.create_item(token, 'curl', os.environ['B_FOLDER'])
up = d.generate_upload_token(token, item['item_id'], 'big.bin')
query = urllib.parse.urlencode({'method': 'midas.upload.perform', 'uploadtoken': up,
    'filename': 'big.bin', 'length': os.path.getsize(os.environ['B_FILE']), 'revision': 'head'})
out = subprocess.run(['curl', '-s', '-T', os.environ['B_FILE'],
                      os.environ['B_URL'] + '/api/json?' + query],
                     check=True, capture_output=True).stdout
assert json.loads(out)['stat'] == 'ok', out
"""

DOWNLOAD_DRIVER = """
import os
from pydas.drivers import CoreDriver
d = CoreDriver(os.environ['B_URL'])
token = d.login_with_api_key(os.environ['B_EMAIL'], os.environ['B_KEY'])
item = d.search_item_by_name('streamed', token)[0]
name, chunks = d.download_item(item['item_id'], token)
with open(os.path.join(os.environ['B_OUT'], name), 'wb') as handle:
    for chunk in chunks:
        handle.write(chunk)
assert os.path.getsize(os.path.join(os.environ['B_OUT'], name)) == os.path.getsize(
    os.environ['B_FILE'])
"""

DOWNLOAD_VERIFIED = """
import os, pydas
pydas.login(email=os.environ['B_EMAIL'], api_key=os.environ['B_KEY'], url=os.environ['B_URL'])
pydas.allow_existing_download_paths()
os.remove(os.path.join(os.environ['B_OUT'], 'big.bin'))
pydas.download('Private/streamed', os.environ['B_OUT'], quiet=True)
assert os.path.getsize(os.path.join(os.environ['B_OUT'], 'big.bin')) == os.path.getsize(
    os.environ['B_FILE'])
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, emulator_process() as server:
        path = os.path.join(tmp, "big.bin")
        make_file(path, args.size_mb << 20)
        env = {
            "B_URL": server["url"],
            "B_EMAIL": server["email"],
            "B_KEY": server["api_key"],
            "B_FOLDER": server["folder_id"],
            "B_FILE": path,
            "B_OUT": tmp,
        }
        print(f"upload of {args.size_mb} MiB, {timestamp()}")
        variants = [
            ("upload, pydas", STREAMED),
            ("upload, file in memory", BUFFERED),
        ]
        if shutil.which("curl"):
            variants.append(("upload, curl -T", CURL))
        variants += [
            ("download_item to file", DOWNLOAD_DRIVER),
            ("pydas.download + MD5", DOWNLOAD_VERIFIED),
        ]
        for label, code in variants:
            elapsed, rss = run_measured(code, env)
            memory = "-" if "curl" in label else f"{rss:7.1f} MiB"
            print(f"  {label:<24} {elapsed:6.2f} s   peak RSS {memory:>11}")


if __name__ == "__main__":
    main()
