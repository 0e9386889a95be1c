"""No secret in any log record (ours or a library's), exception message or repr.

The log test captures every record of every logger at DEBUG level while real
calls run against the emulator: a login with a password and with an API key,
an upload, a resumed upload, downloads that follow the server's redirect, and
an upload with an unknown upload token.
"""

import io
import logging
from urllib.parse import quote, quote_plus

import pytest
import responses
from support.wire import ENDPOINT, core, envelope, failure

from pydas import exceptions
from pydas._transport import SecretFilter, install_log_filter, scrub
from pydas._transport.redaction import LIBRARY_LOGGERS
from pydas.core import Communicator

BOGUS_UPLOAD_TOKEN = "1/2/BogusUploadTokenSecret0123456789abcdefABCDEF0123456789abcdefAB"


class _Everything(logging.Handler):
    """Formats every record, arguments and traceback included."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.stream = io.StringIO()
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.stream.write(self.format(record) + "\n")


@pytest.fixture
def every_log():
    handler = _Everything()
    root = logging.getLogger()
    before = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    levels = {name: logging.getLogger(name).level for name in LIBRARY_LOGGERS}
    for name in levels:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(before)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def _forms(secret):
    return {secret, quote(secret, safe=""), quote_plus(secret), secret.rsplit("/", 1)[-1]}


def test_no_secret_in_any_log_at_debug_level(midas_server, every_log, tmp_path):
    password = "Pw-Secret-4711-xyz"
    user = midas_server.create_user("logged@example.com", password, "Lo", "Gged")
    data = tmp_path / "data.bin"
    data.write_bytes(bytes(range(256)) * 400)
    secrets = [password, user.api_key]
    shown = []  # exception texts and reprs met on the way
    with Communicator(midas_server.url) as communicator:
        communicator.debug = True
        api_key = communicator.get_default_api_key(user.email, password)
        token = communicator.login_with_api_key(user.email, api_key)
        secrets += [api_key, token]
        folder_id = communicator.list_user_folders(token)[0]["folder_id"]
        item_id = communicator.create_item(token, "item", folder_id)["item_id"]

        upload_token = communicator.generate_upload_token(token, item_id, "data.bin")
        communicator.perform_upload(upload_token, "data.bin", filepath=str(data))

        resumed_token = communicator.generate_upload_token(token, item_id, "second.bin")
        secrets += [upload_token, resumed_token]
        with open(data, "rb") as handle, pytest.raises(exceptions.UploadFailed) as cut:
            communicator.request(  # a body shorter than announced: the server keeps it
                "midas.upload.perform",
                {
                    "uploadtoken": resumed_token,
                    "filename": "second.bin",
                    "length": 102400,
                    "revision": "head",
                },
                file_payload=io.BytesIO(handle.read(40000)),
            )
        shown += [str(cut.value), repr(cut.value)]
        offset = communicator.get_upload_offset(resumed_token)
        assert offset == 40000
        communicator.perform_upload(resumed_token, "second.bin", filepath=str(data), offset=offset)

        name, chunks = communicator.download_item(item_id, token=token)
        assert b"".join(chunks)
        bitstream = communicator.item_get(token, item_id)["revisions"][-1]["bitstreams"][0]
        name, chunks = communicator.download_bitstream(bitstream["bitstream_id"], token=token)
        assert b"".join(chunks) == data.read_bytes()

        # right user and item, unknown random part: the server quotes it back
        bogus = upload_token.rsplit("/", 1)[0] + "/" + BOGUS_UPLOAD_TOKEN.rsplit("/", 1)[-1]
        secrets.append(bogus)
        with pytest.raises(exceptions.InvalidUploadToken) as refused:
            communicator.perform_upload(bogus, "data.bin", filepath=str(data))
        shown += [str(refused.value), repr(refused.value)]

    text = every_log.stream.getvalue() + "\n".join(shown)
    # the capture saw what it is meant to check
    assert "urllib3.connectionpool DEBUG" in text
    assert "authToken=***" in text and "uploadtoken=***" in text and "token=***" in text
    assert "Invalid upload token ***" in text
    for secret in secrets:
        for form in _forms(secret):
            assert form not in text, f"a secret ({len(secret)} characters) was logged"


def test_the_filter_masks_arguments_and_tracebacks():
    record = logging.LogRecord(
        "urllib3.connectionpool",
        logging.DEBUG,
        __file__,
        1,
        '%s://%s:%s "%s %s %s" %s %s',
        ("http", "h", 80, "GET", "/download/?items=7&authToken=SECRETtoken", "HTTP/1.1", 200, 5),
        None,
    )
    assert SecretFilter().filter(record)
    assert (
        record.getMessage() == 'http://h:80 "GET /download/?items=7&authToken=*** HTTP/1.1" 200 5'
    )
    try:
        raise ValueError("url /api/json?method=x&token=SECRETtoken")
    except ValueError:
        import sys

        failed = logging.LogRecord(
            "urllib3", logging.DEBUG, __file__, 1, "failed", (), sys.exc_info()
        )
    SecretFilter().filter(failed)
    assert "SECRETtoken" not in logging.Formatter().format(failed)
    clean = logging.LogRecord("urllib3", logging.DEBUG, __file__, 1, "fine %s", ("x",), None)
    SecretFilter().filter(clean)
    assert (clean.msg, clean.args) == ("fine %s", ("x",))


def test_the_filter_is_installed_once_per_logger():
    install_log_filter()
    install_log_filter()
    core()
    for name in LIBRARY_LOGGERS:
        filters = [f for f in logging.getLogger(name).filters if isinstance(f, SecretFilter)]
        assert len(filters) == 1, name


@pytest.mark.parametrize(
    "text, clean",
    [
        (
            '{"code":"0","data":{"token":"NEWtoken123"},"stat":"ok"',
            '{"code":"0","data":{"token":"***"},"stat":"ok"',
        ),
        ('{"apikey": "KEY\\"quoted"}', '{"apikey": "***"}'),
        ("{'password': 'pw', 'id': 3}", "{'password': '***', 'id': 3}"),
        (
            "PUT /api/json?method=midas.upload.perform&uploadtoken=1%2F2%2Fabc&length=3",
            "PUT /api/json?method=midas.upload.perform&uploadtoken=***&length=3",
        ),
        ("Invalid upload token 12/345/abcDEF", "Invalid upload token ***"),
        ("https://user:pass@host/midas", "https://user:***@host/midas"),
        ("mytoken=visible and a token= and tokens", "mytoken=visible and a token=*** and tokens"),
    ],
    ids=["json-token", "json-apikey", "repr", "upload-url", "upload-token", "userinfo", "words"],
)
def test_scrub_patterns(text, clean):
    assert scrub(text) == clean


def test_a_parse_error_quoting_a_new_token_hides_it(mocked):
    mocked.add(responses.POST, ENDPOINT, body='{"code":"0","data":{"token":"NEWtokenABC123"},"st')
    with pytest.raises(exceptions.ParseError) as caught:
        core().login_with_api_key("a@b.c", "KEY")
    assert "NEWtokenABC123" not in str(caught.value) + repr(caught.value)
    assert '"token":"***"' in str(caught.value)


def test_a_refused_upload_token_is_not_quoted(mocked, tmp_path):
    data = tmp_path / "a.bin"
    data.write_bytes(b"abc")
    mocked.add(
        responses.PUT, ENDPOINT, body=failure("-141", f"Invalid upload token {BOGUS_UPLOAD_TOKEN}")
    )
    with pytest.raises(exceptions.InvalidUploadToken) as caught:
        core().perform_upload(BOGUS_UPLOAD_TOKEN, "a.bin", filepath=str(data))
    for form in _forms(BOGUS_UPLOAD_TOKEN):
        assert form not in str(caught.value) + repr(caught.value)
    assert str(caught.value) == "midas.upload.perform failed (code -141): Invalid upload token ***"


def test_debug_parameters_mask_the_upload_token(mocked, tmp_path, caplog):
    data = tmp_path / "a.bin"
    data.write_bytes(b"abc")
    mocked.add(responses.PUT, ENDPOINT, body=envelope({"item_id": "7"}))
    driver = core()
    driver.debug = True
    with caplog.at_level(logging.DEBUG):
        driver.perform_upload(BOGUS_UPLOAD_TOKEN, "a.bin", filepath=str(data))
    assert "'uploadtoken': '***'" in caplog.text
    assert BOGUS_UPLOAD_TOKEN not in caplog.text
