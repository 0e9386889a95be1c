"""The Communicator: drivers, one shared transport, settings, attribute forwarding."""

import math

import pytest
import requests
import responses
from support.wire import BASE, ENDPOINT, api_method, envelope, form_params

from pydas import drivers
from pydas.core import DEFAULT_DRIVERS, Communicator, RetryPolicy, Timeout

T = "t" * 32


def test_default_drivers_share_one_session():
    communicator = Communicator(BASE)
    kinds = [type(driver) for driver in communicator.drivers]
    assert kinds == list(DEFAULT_DRIVERS)
    assert set(kinds) == {
        drivers.CoreDriver, drivers.BatchmakeDriver, drivers.DicomextractorDriver,
        drivers.MultiFactorAuthenticationDriver, drivers.SolrDriver,
        drivers.ThumbnailCreatorDriver, drivers.TrackerDriver,
    }
    transports = {id(driver._transport) for driver in communicator.drivers}
    assert len(transports) == 1
    adapter = communicator.drivers[0]._transport.session.get_adapter("https://x")
    assert adapter._pool_maxsize >= 16


def test_standalone_drivers_have_their_own_sessions():
    first, second = drivers.CoreDriver(BASE), drivers.CoreDriver(BASE)
    assert first._transport.session is not second._transport.session


def test_url_is_stripped_and_propagated():
    communicator = Communicator(BASE + "/")
    assert communicator.url == BASE
    assert all(driver.url == BASE for driver in communicator.drivers)
    communicator.url = "http://127.0.0.1:8/other//"
    assert communicator.url == "http://127.0.0.1:8/other/"
    assert all(driver.url == "http://127.0.0.1:8/other/" for driver in communicator.drivers)
    assert communicator.drivers[0].full_url == "http://127.0.0.1:8/other//api/json?method="


def test_driver_url_and_full_url():
    driver = drivers.BaseDriver()
    assert driver.url == ""
    driver.url = BASE + "/"
    assert driver.url == BASE
    assert driver.full_url == BASE + "/api/json?method="


def test_debug_and_ssl_properties_apply_to_every_driver():
    communicator = Communicator(BASE)
    assert communicator.debug is False
    assert communicator.verify_ssl_certificate is True
    communicator.debug = True
    communicator.verify_ssl_certificate = False
    assert all(driver.debug for driver in communicator.drivers)
    assert not any(driver.verify_ssl_certificate for driver in communicator.drivers)
    assert communicator.debug is True
    assert communicator.verify_ssl_certificate is False
    communicator.drivers[3].debug = False
    assert communicator.debug is False


def test_set_auth_reaches_every_driver(mocked):
    communicator = Communicator(BASE)
    communicator.set_auth(("user", "pw"))
    assert all(driver.auth == ("user", "pw") for driver in communicator.drivers)
    mocked.add(responses.POST, ENDPOINT, body=envelope({"version": "3"}))
    communicator.get_server_version()
    assert mocked.calls[0].request.headers["Authorization"].startswith("Basic ")
    communicator.set_auth(None)
    assert all(driver.auth is None for driver in communicator.drivers)


def test_ssl_setting_is_passed_to_requests(mocked, sent_kwargs):
    communicator = Communicator(BASE)
    communicator.verify_ssl_certificate = False
    mocked.add(responses.POST, ENDPOINT, body=envelope({"version": "3"}))
    communicator.get_server_version()
    assert sent_kwargs["verify"] is False


@pytest.mark.parametrize(
    "name, call, method",
    [
        ("create_folder", lambda c: c.create_folder(T, "f", 1), "midas.folder.create"),
        ("extract_dicommetadata", lambda c: c.extract_dicommetadata(T, 7),
         "midas.dicomextractor.extract"),
        ("mfa_otp_login", lambda c: c.mfa_otp_login("1", "2"), "midas.mfa.otp.login"),
        ("solr_advanced_search", lambda c: c.solr_advanced_search("q"),
         "midas.solr.search.advanced"),
        ("create_small_thumbnail", lambda c: c.create_small_thumbnail(T, 7),
         "midas.thumbnailcreator.create.small.thumbnail"),
        ("add_condor_dag", lambda c: c.add_condor_dag(T, 1, "d", "o"),
         "midas.batchmake.add.condor.dag"),
        ("login_with_api_key", lambda c: c.login_with_api_key("a@b.c", "k"), "midas.login"),
    ],
)
def test_attribute_lookup_is_forwarded(mocked, name, call, method):
    # an answer of the kind each method returns (a search returns a list)
    answer = [] if name == "solr_advanced_search" else {"token": T}
    mocked.add(responses.POST, ENDPOINT, body=envelope(answer))
    communicator = Communicator(BASE)
    call(communicator)
    assert api_method(mocked.calls[0].request) == method
    owner = getattr(communicator, name).__self__
    assert owner in communicator.drivers
    assert hasattr(type(owner), name)


def test_first_driver_with_the_attribute_wins():
    communicator = Communicator(BASE)
    assert communicator.request.__self__ is communicator.drivers[0]


def test_unknown_attribute_names_it():
    communicator = Communicator(BASE)
    with pytest.raises(AttributeError, match="no_such_method"):
        communicator.no_such_method  # noqa: B018
    assert not hasattr(communicator, "_private_thing")


def test_dir_lists_driver_methods():
    names = dir(Communicator(BASE))
    assert "create_folder" in names and "add_scalar_data" in names and "set_auth" in names


def test_given_drivers_are_used(mocked):
    solr = drivers.SolrDriver("http://127.0.0.1:7/elsewhere")
    communicator = Communicator(BASE, drivers=[solr])
    assert communicator.drivers == [solr]
    assert solr.url == BASE
    with pytest.raises(AttributeError):
        communicator.create_folder  # noqa: B018
    mocked.add(responses.POST, ENDPOINT, body=envelope([]))
    assert communicator.solr_advanced_search("q", token=T) == []
    assert form_params(mocked.calls[0].request) == {"query": "q", "limit": "20", "token": T}


class RecordingSession(requests.Session):
    closed = 0

    def close(self):
        self.closed += 1
        super().close()


def test_assigned_driver_settings_reach_every_driver(mocked, sent_kwargs):
    communicator = Communicator(BASE)
    communicator.timeout = (1.5, 7)
    communicator.auth = ("user", "pw")
    assert all(driver.timeout == Timeout(connect=1.5, read=7) for driver in communicator.drivers)
    assert all(driver.auth == ("user", "pw") for driver in communicator.drivers)
    assert "timeout" not in vars(communicator) and "auth" not in vars(communicator)
    mocked.add(responses.POST, ENDPOINT, body=envelope({"version": "3"}))
    communicator.get_server_version()
    assert sent_kwargs["timeout"] == (1.5, 7)
    # other attributes, and driver methods, are set on the communicator alone
    communicator.note = "mine"
    communicator.get_server_version = lambda: "patched"
    assert communicator.get_server_version() == "patched"
    assert communicator.drivers[0].get_server_version() == "3"


def test_timeout_and_custom_session_reach_the_drivers():
    session = RecordingSession()
    communicator = Communicator(BASE, timeout=5, session=session)
    assert all(driver.timeout == Timeout(5) for driver in communicator.drivers)
    assert all(driver._transport.session is session for driver in communicator.drivers)
    communicator.close()
    assert session.closed == 0  # the caller owns it


def test_close_and_context_manager(monkeypatch):
    closed = []
    monkeypatch.setattr(requests.Session, "close", lambda self: closed.append(self))
    with Communicator(BASE) as communicator:
        session = communicator.drivers[0]._transport.session
    assert closed == [session]
    with drivers.CoreDriver(BASE) as driver:
        own = driver._transport.session
    assert closed == [session, own]


def test_repr_is_plain():
    communicator = Communicator(BASE)
    communicator.set_auth(("user", "secret-password"))
    assert repr(communicator) == f"Communicator({BASE!r})"
    assert repr(communicator.drivers[0]) == f"CoreDriver({BASE!r})"


def test_settings_live_once_in_the_shared_transport():
    communicator = Communicator(BASE)
    transport = communicator.drivers[0]._transport
    communicator.timeout = 30
    communicator.retry = policy = RetryPolicy(attempts=2)
    communicator.verify_ssl_certificate = "/etc/ssl/ca.pem"
    communicator.debug = True
    communicator.max_answer_size = 1000
    assert (transport.timeout, transport.retry, transport.verify, transport.debug) == (
        Timeout(30), policy, "/etc/ssl/ca.pem", True)
    assert transport.max_answer_size == 1000
    # a driver of the communicator changes the one setting as well
    communicator.drivers[4].timeout = 12
    assert communicator.timeout == Timeout(12)
    assert communicator.verify_ssl_certificate == "/etc/ssl/ca.pem"
    assert type(communicator).__setattr__ is object.__setattr__


def test_assigning_none_restores_the_default_timeout(mocked, sent_kwargs):
    communicator = Communicator(BASE, timeout=(1, 2))
    communicator.timeout = None
    assert communicator.timeout == Timeout()
    assert communicator.timeout.total == 310
    mocked.add(responses.POST, ENDPOINT, body=envelope({"version": "3"}))
    communicator.get_server_version()
    assert sent_kwargs["timeout"] == (10.0, 300.0)


@pytest.mark.parametrize(
    "value, error",
    [(0, ValueError), (-1, ValueError), (math.inf, ValueError), (math.nan, ValueError),
     ((1, 0), ValueError), ((1, math.inf), ValueError), ("10", TypeError), (True, TypeError),
     ((1, 2, 3), TypeError), ([1, 2], TypeError)],
    ids=["zero", "negative", "inf", "nan", "pair-zero", "pair-inf", "text", "bool", "triple",
         "list"],
)
def test_timeouts_that_mean_forever_or_nothing_are_refused(value, error):
    communicator = Communicator(BASE, timeout=7)
    with pytest.raises(error):
        communicator.timeout = value
    assert communicator.timeout == Timeout(7)
    with pytest.raises(error):
        drivers.CoreDriver(BASE, timeout=value)


def test_old_timeout_forms_are_accepted_everywhere():
    assert Communicator(BASE, timeout=(3, None)).timeout == Timeout(connect=3)
    assert drivers.CoreDriver(BASE, timeout=4.5).timeout == Timeout(4.5)
    driver = drivers.SolrDriver(BASE)
    driver.timeout = (2, 9)
    assert driver.timeout.as_requests() == (2.0, 9.0)
    full = Timeout(connect=1, read=2, total=5, stall=60)
    driver.timeout = full
    assert driver.timeout is full


def test_settings_reach_every_given_driver_once():
    solr, core = drivers.SolrDriver("http://127.0.0.1:7/a"), drivers.CoreDriver("http://x")
    communicator = Communicator(BASE, drivers=[solr, core])
    communicator.timeout = 3
    communicator.set_auth(("u", "p"))
    assert solr.timeout == core.timeout == Timeout(3)
    assert solr.auth == core.auth == ("u", "p")
    assert solr.url == core.url == BASE
    assert solr._transport is not core._transport


def test_url_with_credentials_is_not_shown():
    communicator = Communicator("http://user:s3cret@127.0.0.1:9/midas")
    assert "s3cret" not in repr(communicator)
    assert "s3cret" not in repr(communicator.drivers[0])
    assert communicator.url == "http://user:s3cret@127.0.0.1:9/midas"
