"""Parallel workers give the same server tree, callbacks and lines as one worker."""

import collections

from support.servertree import local_tree, server_tree, write_tree

import pydas

TREE = {f"data/part{p}/file{f}.bin": bytes([p, f]) * (1000 * f + 1)
        for p in range(3) for f in range(4)}
TREE.update({f"data/series{s}/{n}.dcm": bytes([s, n]) * 5000 for s in range(3) for n in range(3)})
TREE["data/top.txt"] = b"top"


def _upload_as(server, user, workers, leaf, capsys):
    pydas.login(email=user.email, api_key=user.api_key, url=server.url)
    item_ids = []
    pydas.add_item_upload_callback(lambda c, t, item_id: item_ids.append(str(item_id)))
    pydas.upload("data", leaf_folders_as_items=leaf, workers=workers)
    lines = capsys.readouterr().out.splitlines()
    return server_tree(user.private_folder_id), item_ids, lines


def _recorder(seen):
    def record(communicator, token, item, path):
        seen.append(str(item["item_id"]))

    return record


def _all_item_ids(folder_id):
    communicator, token = pydas.session.communicator, pydas.session.token
    children = communicator.folder_children(token, folder_id)
    ids = [str(item["item_id"]) for item in children["items"]]
    for folder in children["folders"]:
        ids += _all_item_ids(folder["folder_id"])
    return ids


def test_four_workers_match_one_worker(tmp_path, monkeypatch, capsys, midas_server):
    write_tree(tmp_path, TREE)
    monkeypatch.chdir(tmp_path)
    # two users, so that the second upload cannot borrow the first one's content
    one = midas_server.create_user("one@example.com", "pw-one", "One", "Worker")
    four = midas_server.create_user("four@example.com", "pw-four", "Four", "Workers")
    for leaf in (False, True):
        tree_1, ids_1, lines_1 = _upload_as(midas_server, one, 1, leaf, capsys)
        pydas.session.reset()
        tree_4, ids_4, lines_4 = _upload_as(midas_server, four, 4, leaf, capsys)
        assert tree_4 == tree_1
        assert sorted(lines_4) == sorted(lines_1)
        assert collections.Counter(ids_4).most_common(1)[0][1] == 1
        assert sorted(ids_4) == sorted(_all_item_ids(four.private_folder_id))
        target = tmp_path / f"download-{leaf}"
        downloaded = []
        pydas.add_item_download_callback(_recorder(downloaded))
        pydas.download("Private/data", str(target), workers=4, quiet=True)
        assert local_tree(target / "data") == local_tree(tmp_path / "data")
        assert sorted(downloaded) == sorted(ids_4)
        pydas.session.reset()
        for user in (one, four):
            pydas.login(email=user.email, api_key=user.api_key, url=midas_server.url)
            folder = pydas.session.communicator.folder_children(
                pydas.session.token, user.private_folder_id
            )["folders"][0]
            pydas.session.communicator.delete_folder(pydas.session.token, folder["folder_id"])
            pydas.session.reset()


def test_clashing_names_get_the_same_local_names_with_four_workers(logged_in, tmp_path,
                                                                  midas_user):
    communicator, token = pydas.session.communicator, pydas.session.token
    folder = communicator.create_folder(token, "clash", midas_user.private_folder_id)
    for number in range(12):
        # items "x.txt", "x.txt (1)", ... each holding a file named x.txt
        item = communicator.create_item(token, "x.txt", folder["folder_id"])
        (tmp_path / "x.txt").write_bytes(b"content %d " % number * (1 + 3000 * (number % 3)))
        upload_token = communicator.generate_upload_token(token, item["item_id"], "x.txt")
        communicator.perform_upload(upload_token, "x.txt", filepath=str(tmp_path / "x.txt"))
    pydas.download("Private/clash", str(tmp_path / "one"), quiet=True)
    expected = local_tree(tmp_path / "one")
    assert len(expected) == 13  # clash/ and twelve files
    for run in range(3):
        pydas.download("Private/clash", str(tmp_path / f"four{run}"), workers=4, quiet=True)
        assert local_tree(tmp_path / f"four{run}") == expected
