"""The one rule that says a transfer is done: pydas._transfer.verify."""

from pydas._transfer import verify


def test_file_md5_streams(tmp_path, monkeypatch):
    monkeypatch.setattr(verify, "CHUNK_SIZE", 3)
    path = tmp_path / "f"
    path.write_bytes(b"hello world")
    assert verify.file_md5(str(path)) == "5eb63bbbe01eeed093cb22bb8f5acdc3"
