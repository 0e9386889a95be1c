"""Login variants, token renewal, server paths and errors raised before any request."""

import getpass

import pytest
from support.servertree import md5, methods, server_tree, write_tree

import pydas
from pydas import _transfer
from pydas.api import LocalInputError, NotLoggedIn, PathNotFound


def test_mfa_login_asks_for_the_one_time_password(monkeypatch, midas_server, midas_user):
    midas_server.set_otp(midas_user.email, "424242")
    prompts = []

    def fake_getpass(prompt="Password: ", stream=None):
        prompts.append(prompt)
        return "424242"

    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    token = pydas.login(email=midas_user.email, api_key=midas_user.api_key, url=midas_server.url)
    assert prompts == ["One-Time Password: "]
    assert len(token) == 32
    assert methods(midas_server) == ["midas.login", "midas.mfa.otp.login"]
    assert pydas.session.communicator.list_user_folders(token)


def test_a_failed_login_keeps_the_previous_one(midas_server, midas_user):
    token = pydas.login(email=midas_user.email, api_key=midas_user.api_key, url=midas_server.url)
    communicator = pydas.session.communicator
    with pytest.raises(pydas.exceptions.PydasException):
        pydas.login(email=midas_user.email, api_key="wrong" * 6, url=midas_server.url)
    assert pydas.session.token == token and pydas.session.communicator is communicator


def test_an_expired_token_is_renewed_once_during_a_transfer(logged_in, tmp_path, monkeypatch,
                                                            midas_server, midas_user):
    write_tree(tmp_path, {"data/a.txt": b"a", "data/b.txt": b"b", "data/c/d.txt": b"d"})
    monkeypatch.chdir(tmp_path)
    midas_server.expire_tokens(midas_user.email)
    pydas.upload("data", quiet=True, workers=3)
    log = methods(midas_server)
    assert log.count("midas.login") == 1
    assert pydas.session.token != logged_in
    assert sorted(server_tree(midas_user.private_folder_id)["data/"]) == ["a.txt", "b.txt", "c/"]


def test_renew_and_verify(logged_in, midas_server):
    assert pydas.verify_credentials() == logged_in
    assert methods(midas_server) == []
    pydas.session.token = None
    token = pydas.verify_credentials()
    assert token == pydas.session.token and methods(midas_server) == ["midas.login"]
    assert pydas.renew_token() == token  # the server hands out the same valid token


@pytest.mark.parametrize(
    "call",
    [
        lambda: pydas.upload("anything"),
        lambda: pydas.download("Private/x"),
        lambda: pydas.download_folder_recursive(1),
        lambda: pydas.verify_credentials(),
        lambda: pydas.renew_token(),
    ],
)
def test_not_logged_in_is_a_clear_error(call):
    with pytest.raises(NotLoggedIn, match=r"pydas\.login\(\)"):
        call()


def test_bad_local_input_fails_before_any_request(logged_in, tmp_path, midas_server):
    with pytest.raises(LocalInputError, match="no file or directory matches"):
        pydas.upload(str(tmp_path / "missing*"))
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    with pytest.raises(LocalInputError, match="symbolic link loop"):
        pydas.upload(str(loop))
    with pytest.raises(ValueError, match="workers"):
        pydas.upload(str(tmp_path), workers=0)
    assert methods(midas_server) == []


def test_symlinks_are_skipped_and_reported(logged_in, tmp_path, monkeypatch, capsys, midas_user):
    write_tree(tmp_path, {"data/real.txt": b"r", "elsewhere.txt": b"e"})
    (tmp_path / "data" / "link.txt").symlink_to(tmp_path / "elsewhere.txt")
    monkeypatch.chdir(tmp_path)
    pydas.upload("data")
    assert capsys.readouterr().out.splitlines() == [
        "Skipping symbolic link data/link.txt",
        "Creating Folder from data",
        "Uploading Item from data/real.txt",
    ]
    assert server_tree(midas_user.private_folder_id) == {
        "data/": {"real.txt": {"real.txt": md5(b"r")}}
    }


@pytest.mark.parametrize(
    "destination, message",
    [
        ("Nowhere", "'Nowhere' does not exist: your home folders are 'Private', 'Public'"),
        ("Private/missing", "no 'missing' in 'Private'"),
        ("/users/No_Body/Public", "no user named 'No_Body'"),
        ("/communities/Ghosts/Public", "no community 'Ghosts'"),
        ("/elsewhere/x", "absolute paths start with"),
    ],
)
def test_an_unknown_destination_is_an_error_naming_it(logged_in, tmp_path, destination, message,
                                                      midas_user):
    (tmp_path / "f.txt").write_bytes(b"f")
    with pytest.raises(PathNotFound) as error:
        pydas.upload(str(tmp_path / "f.txt"), destination=destination)
    assert message in str(error.value)
    assert server_tree(midas_user.private_folder_id) == {}
    assert server_tree(midas_user.public_folder_id) == {}


def test_another_users_private_folders_are_named_in_the_error(logged_in, midas_server,
                                                              tmp_path):
    midas_server.create_user("bob@example.com", "pw-bob", "Bob", "Smith")
    with pytest.raises(PathNotFound, match="you may not read server path '/users/Bob_Smith'"):
        pydas.download("/users/Bob_Smith", str(tmp_path))
    with pytest.raises(PathNotFound, match=r"\(or you may not read it\): no 'Private' in"):
        pydas.download("/users/Bob_Smith/Private/x", str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_a_destination_without_write_permission_is_named(logged_in, midas_server, tmp_path):
    bob = midas_server.create_user("bob@example.com", "pw-bob", "Bob", "Smith")
    (tmp_path / "f.txt").write_bytes(b"f")
    with pytest.raises(pydas.exceptions.InvalidPolicy,
                       match=r"^no write permission on '/users/Bob_Smith/Public' \(") as error:
        pydas.upload(str(tmp_path / "f.txt"), destination="/users/Bob_Smith/Public", quiet=True)
    assert error.value.method == "midas.upload.generatetoken" and error.value.code == -151
    assert error.value.request is not None and error.value.response is not None
    assert server_tree(bob.public_folder_id) == {}


def test_an_item_is_not_a_destination(logged_in, tmp_path, monkeypatch):
    (tmp_path / "f.txt").write_bytes(b"f")
    monkeypatch.chdir(tmp_path)
    pydas.upload("f.txt", quiet=True)
    with pytest.raises(PathNotFound, match="is an item, not a folder"):
        pydas.upload("f.txt", destination="Private/f.txt")


def test_user_paths_with_underscores_and_spaces(tmp_path, monkeypatch, midas_server):
    user = midas_server.create_user("mary@example.com", "pw-mary", "Mary_Ann", "Van der Berg")
    pydas.login(email=user.email, api_key=user.api_key, url=midas_server.url)
    write_tree(tmp_path, {"notes.txt": b"notes"})
    monkeypatch.chdir(tmp_path)
    pydas.upload("notes.txt", destination="/users/Mary_Ann_Van der Berg/Public", quiet=True)
    assert server_tree(user.public_folder_id) == {"notes.txt": {"notes.txt": md5(b"notes")}}
    target = tmp_path / "target"
    pydas.download("/users/Mary_Ann_Van der Berg/Public/notes.txt", str(target), quiet=True)
    assert (target / "notes.txt").read_bytes() == b"notes"


def test_community_paths(tmp_path, monkeypatch, midas_server):
    admin = midas_server.create_user("admin@example.com", "pw", "Ad", "Min", admin=True)
    community = midas_server.create_community("Brain Atlas", admin.email)
    pydas.login(email=admin.email, api_key=admin.api_key, url=midas_server.url)
    write_tree(tmp_path, {"atlas/left.nii": b"L", "atlas/right.nii": b"R"})
    monkeypatch.chdir(tmp_path)
    pydas.upload("atlas", destination="/communities/Brain Atlas/Public", quiet=True)
    assert server_tree(community.public_folder_id) == {
        "atlas/": {"left.nii": {"left.nii": md5(b"L")}, "right.nii": {"right.nii": md5(b"R")}}
    }
    target = tmp_path / "target"
    pydas.download("/communities/Brain Atlas/Public/atlas", str(target), quiet=True)
    assert (target / "atlas" / "right.nii").read_bytes() == b"R"


def test_non_ascii_names_are_matched_when_reusing(logged_in, tmp_path, monkeypatch, midas_server,
                                                  midas_user):
    write_tree(tmp_path, {"données/été.txt": b"chaud"})
    monkeypatch.chdir(tmp_path)
    pydas.upload("données", reuse_existing=True, quiet=True)
    midas_server.clear_request_log()
    pydas.upload("données", reuse_existing=True, quiet=True)
    assert "midas.folder.create" not in methods(midas_server)
    assert "midas.item.create" not in methods(midas_server)
    assert server_tree(midas_user.private_folder_id) == {
        "données/": {"été.txt": {"été.txt": md5(b"chaud")}}
    }


def test_decomposed_local_names_match_composed_server_names(logged_in, tmp_path, monkeypatch,
                                                            midas_server, midas_user):
    composed, decomposed = "d\u00e9j\u00e0", "de\u0301ja\u0300"
    write_tree(tmp_path / "one", {f"{composed}/{composed}.txt": b"vu"})
    write_tree(tmp_path / "two", {f"{decomposed}/{decomposed}.txt": b"vu"})
    monkeypatch.chdir(tmp_path / "one")
    pydas.upload(composed, reuse_existing=True, quiet=True)
    monkeypatch.chdir(tmp_path / "two")
    midas_server.clear_request_log()
    pydas.upload(decomposed, reuse_existing=True, quiet=True)
    log = methods(midas_server)
    assert "midas.folder.create" not in log and "midas.item.create" not in log
    assert "midas.upload.generatetoken" not in log
    assert list(server_tree(midas_user.private_folder_id)) == [composed + "/"]


@pytest.mark.parametrize("url", ["", "localhost/midas", "ftp://host/midas"])
def test_a_url_without_http_is_refused_before_asking_more(monkeypatch, url):
    monkeypatch.setattr("builtins.input", lambda prompt="": 1 / 0)
    with pytest.raises(ValueError, match="must start with http:// or https://"):
        pydas.login(email="jane@example.com", api_key="k" * 32, url=url)
    assert pydas.session.communicator is None


def test_a_wrong_api_key_is_named_as_such(midas_server, midas_user):
    key = "x" * 32
    with pytest.raises(pydas.exceptions.ServerCheckFailed) as error:
        pydas.login(email=midas_user.email, api_key=key, url=midas_server.url)
    assert (
        "wrong API key for 'user@example.com', or no key for the application 'Default'"
        in str(error.value)
    )
    assert key not in str(error.value) and error.value.method == "midas.login"


def test_an_expired_token_is_renewed_once_during_a_download(logged_in, tmp_path, monkeypatch,
                                                            midas_server, midas_user):
    write_tree(tmp_path, {"data/a.txt": b"a", "data/b.txt": b"b"})
    monkeypatch.chdir(tmp_path)
    pydas.upload("data", quiet=True)
    resolve = _transfer.resolve

    def resolve_then_expire(remote, path):
        found = resolve(remote, path)
        midas_server.expire_tokens(midas_user.email)
        return found

    monkeypatch.setattr(_transfer, "resolve", resolve_then_expire)
    midas_server.clear_request_log()
    pydas.download("Private/data", str(tmp_path / "copy"), quiet=True, workers=2)
    assert methods(midas_server).count("midas.login") == 1
    assert sorted(p.name for p in (tmp_path / "copy" / "data").iterdir()) == ["a.txt", "b.txt"]


def test_server_paths_match_decomposed_names(logged_in, tmp_path, midas_user):
    (tmp_path / "f.txt").write_bytes(b"f")
    pydas.session.communicator.create_folder(pydas.session.token, "d\u00e9j\u00e0",
                                             midas_user.private_folder_id)
    pydas.upload(str(tmp_path / "f.txt"), destination="Private/de\u0301ja\u0300", quiet=True)
    assert server_tree(midas_user.private_folder_id) == {
        "d\u00e9j\u00e0/": {"f.txt": {"f.txt": md5(b"f")}}
    }
