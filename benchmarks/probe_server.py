"""Ask a Midas server the questions of issue 11 (items 2-3) and print the exchanges.

Usage::

    python benchmarks/probe_server.py /tmp/midas-server-0/credentials.env

Each request (API method, parameters) and its answer are printed, with the
token, API key and upload tokens masked. Everything happens in a uniquely
named scratch folder under the user's ``Private`` folder, deleted at the end.
The findings are written up in ``benchmarks/NOTES.rst``. Questions:

1. Does ``upload.generatetoken`` with ``folderid`` + ``itemname`` create the
   item in the same call, and can the client learn the item's id from the
   token?
2. What does ``upload.perform`` answer: is it enough to verify the stored
   size and checksum without ``item.get``?
3. Can a download go straight to ``bitstream.download`` with the id from one
   ``item.get``, or by checksum?
4. What does ``folder.children`` return per item?
5. ``upload.generatetoken`` with ``folderid`` and the checksum of content the
   server already holds: item created, bitstream added, token empty?
6. Which changes show in ``folder.children`` (``date_update``, ``sizebytes``):
   a new revision of the same size, metadata, a download?
7. Can the client go straight to ``/download/?bitstream=ID`` with the token in
   a POST body (one round trip instead of two), and resume with ``offset``?
"""

import hashlib
import json
import os
import re
import sys
import time
from typing import Any, Dict, Optional

import requests
from targets import read_credentials

SECRET_KEYS = ("token", "apikey", "uploadtoken", "authToken")


class Probe:
    def __init__(self, url: str) -> None:
        self.endpoint = url.rstrip("/") + "/api/json"
        self.session = requests.Session()
        self.session.trust_env = False
        self.secrets: set = set()

    def mask(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return re.sub(r"(authToken=)[^&\"']+", r"\1***", text)

    def show(self, label: str, params: Dict[str, Any], answer: Any) -> None:
        shown = {k: ("***" if k in SECRET_KEYS else v) for k, v in params.items()}
        print(f"\n>>> {label} {json.dumps(shown)}")
        print("<<< " + self.mask(json.dumps(answer, indent=1, sort_keys=True)))

    def call(self, method: str, body: Optional[bytes] = None, **params: Any) -> Any:
        query = {"method": method}
        if body is None:
            response = self.session.post(self.endpoint, params=query, data=params)
        else:
            response = self.session.put(self.endpoint, params={**query, **params}, data=body)
        try:
            answer = response.json()
        except ValueError:
            answer = {"http": response.status_code, "text": response.text[:300]}
        data = answer.get("data") if isinstance(answer, dict) else None
        if isinstance(data, dict) and data.get("token"):
            self.secrets.add(data["token"])
        self.show(method, params, answer)
        return answer.get("data") if isinstance(answer, dict) else None

    def download(self, label: str, **params: Any) -> bytes:
        response = self.session.get(self.endpoint, params=params, allow_redirects=True)
        hops = [f"{r.status_code} -> {self.mask(r.headers.get('Location', ''))}"
                for r in response.history]
        self.show(label, params, {
            "status": response.status_code, "redirects": hops, "bytes": len(response.content),
            "content-disposition": response.headers.get("Content-Disposition"),
        })
        return response.content


def main() -> None:
    values = read_credentials(sys.argv[1])
    probe = Probe(values["MIDAS_URL"])
    probe.secrets.add(values["MIDAS_API_KEY"])
    token = probe.call("midas.login", email=values["MIDAS_EMAIL"],
                       apikey=values["MIDAS_API_KEY"], appname="Default")["token"]
    probe.secrets.add(token)
    private = next(f for f in probe.call("midas.user.folders", token=token)
                   if f["name"] == "Private")
    name = f"pydas-probe-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}"
    scratch = probe.call("midas.folder.create", token=token, name=name,
                         parentid=private["folder_id"])
    try:
        content = os.urandom(5000)
        checksum = hashlib.md5(content).hexdigest()
        print(f"\n# local file: 5000 bytes, md5 {checksum}")

        print("\n# 1. generatetoken with folderid + itemname (no item.create)")
        upload_token = probe.call("midas.upload.generatetoken", token=token,
                                  folderid=scratch["folder_id"], itemname="probe-item",
                                  filename="probe.bin", checksum=checksum)["token"]
        probe.secrets.add(upload_token)
        print(f"# token shape: {'/'.join(['<' + p + '>' for p in upload_token.split('/')[:2]])}"
              f"/<{len(upload_token.split('/')[-1])} random characters>"
              f"  (first part: user id, second: item id)")
        item_id = upload_token.split("/")[1]
        probe.call("midas.folder.children", token=token, id=scratch["folder_id"])

        print("\n# 2. upload.perform answers")
        performed = probe.call("midas.upload.perform", body=content, uploadtoken=upload_token,
                               filename="probe.bin", length=len(content), revision="head")
        print(f"# item id from the token {item_id}, from the answer {performed.get('item_id')}")

        print("\n# 3. item.get, then bitstream.download by id and by checksum")
        item = probe.call("midas.item.get", token=token, id=item_id)
        bitstream = item["revisions"][-1]["bitstreams"][0]
        got = probe.download("bitstream.download by id", method="midas.bitstream.download",
                             id=bitstream["bitstream_id"], token=token)
        print(f"# by id: bytes match: {got == content}")
        got = probe.download("bitstream.download by checksum",
                             method="midas.bitstream.download", checksum=checksum, token=token)
        print(f"# by checksum: bytes match: {got == content}")

        print("\n# 4. folder.children after the upload")
        probe.call("midas.folder.children", token=token, id=scratch["folder_id"])

        print("\n# 5. generatetoken with folderid and a checksum the server holds")
        probe.call("midas.upload.generatetoken", token=token, folderid=scratch["folder_id"],
                   itemname="probe-copy", filename="probe.bin", checksum=checksum)
        children = probe.call("midas.folder.children", token=token, id=scratch["folder_id"])
        copy = next(i for i in children["items"] if i["name"] == "probe-copy")
        probe.call("midas.item.get", token=token, id=copy["item_id"])

        def listed() -> Dict[str, Any]:
            children = probe.call("midas.folder.children", token=token, id=scratch["folder_id"])
            entry = next(i for i in children["items"] if i["item_id"] == item_id)
            print(f"# listing of item {item_id}: date_update {entry['date_update']}, "
                  f"sizebytes {entry['sizebytes']}")
            return entry

        print("\n# 6. what changes the listing's date_update and sizebytes")
        before = listed()
        time.sleep(2)
        print("# a new revision, same size, other bytes")
        new_token = probe.call("midas.upload.generatetoken", token=token, itemid=item_id,
                               filename="probe.bin")["token"]
        probe.secrets.add(new_token)
        probe.call("midas.upload.perform", body=os.urandom(5000), uploadtoken=new_token,
                   filename="probe.bin", length=5000)
        after_revision = listed()
        print(f"# changed by a new revision: "
              f"{after_revision['date_update'] != before['date_update']}")
        time.sleep(2)
        print("# a second file added to the head revision (upload.perform revision=head)")
        second = os.urandom(3000)
        add_token = probe.call("midas.upload.generatetoken", token=token, itemid=item_id,
                               filename="second.bin")["token"]
        probe.secrets.add(add_token)
        probe.call("midas.upload.perform", body=second, uploadtoken=add_token,
                   filename="second.bin", length=len(second), revision="head")
        after_add = listed()
        print(f"# changed by a file added to the head revision: "
              f"{after_add['date_update'] != after_revision['date_update']}")
        time.sleep(2)
        print("# a file added by checksum (content the server holds: empty token)")
        probe.call("midas.upload.generatetoken", token=token, itemid=item_id,
                   filename="third.bin", checksum=checksum)
        after_known = listed()
        print(f"# changed by a file added by checksum: "
              f"{after_known['date_update'] != after_add['date_update']}")
        time.sleep(2)
        print("# bitstream.delete of that file")
        item = probe.call("midas.item.get", token=token, id=item_id)
        head = max(item["revisions"], key=lambda r: int(r["revision"]))
        third = next(b for b in head["bitstreams"] if b["name"] == "third.bin")
        probe.call("midas.bitstream.delete", token=token, id=third["bitstream_id"])
        after_delete = listed()
        print(f"# changed by bitstream.delete: "
              f"{after_delete['date_update'] != after_known['date_update']}")
        after_revision = after_delete
        time.sleep(2)
        print("# metadata")
        probe.call("midas.item.setmetadata", token=token, itemId=item_id, element="probe",
                   value="1")
        after_metadata = listed()
        print(f"# changed by metadata: "
              f"{after_metadata['date_update'] != after_revision['date_update']}")
        time.sleep(2)
        print("# a download")
        probe.download("item.download", method="midas.item.download", id=item_id, token=token)
        after_download = listed()
        print(f"# changed by a download: "
              f"{after_download['date_update'] != after_metadata['date_update']}")

        print("\n# 7. straight to /download/ with the token in a POST body")
        item = probe.call("midas.item.get", token=token, id=item_id)
        head = max(item["revisions"], key=lambda r: int(r["revision"]))
        bitstream = head["bitstreams"][0]
        base = probe.endpoint[: -len("/api/json")]
        response = probe.session.post(f"{base}/download/", data={
            "bitstream": bitstream["bitstream_id"], "authToken": token})
        ok = hashlib.md5(response.content).hexdigest() == bitstream["checksum"]
        probe.show("POST /download/", {"bitstream": bitstream["bitstream_id"],
                                       "authToken": "***"},
                   {"status": response.status_code, "bytes": len(response.content),
                    "redirects": len(response.history),
                    "md5 matches item.get": ok,
                    "content-disposition": response.headers.get("Content-Disposition")})
        response = probe.session.post(f"{base}/download/", data={
            "bitstream": bitstream["bitstream_id"], "offset": 1000, "authToken": token})
        whole = probe.session.post(f"{base}/download/", data={
            "bitstream": bitstream["bitstream_id"], "authToken": token}).content
        probe.show("POST /download/ with offset", {"bitstream": bitstream["bitstream_id"],
                                                    "offset": 1000, "authToken": "***"},
                   {"status": response.status_code, "bytes": len(response.content),
                    "Content-Length": response.headers.get("Content-Length"),
                    "equals the file from byte 1000": response.content == whole[1000:]})
    finally:
        probe.call("midas.folder.delete", token=token, id=scratch["folder_id"])


if __name__ == "__main__":
    main()
