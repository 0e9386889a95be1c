"""Every driver method is exercised by the live tier, or listed with the reason it cannot be.

The live tests declare what they exercise with ``@pytest.mark.covers(...)``
(checked at run time by ``conftest.py``). These tests read those
declarations from the source of the live test modules, so they need no
server and run offline too: a new driver method without a live test fails
here at once.
"""

import ast
import inspect
import os

import pytest

from pydas import drivers
from pydas.core import DEFAULT_DRIVERS

pytestmark = pytest.mark.serverless

HERE = os.path.dirname(os.path.abspath(__file__))

#: Driver methods whose server method does not exist on the kit's Midas 3.4.2:
#: their live tests exercise the refusal only.
REFUSED_BY_THE_SERVER = {
    "SolrDriver.solr_advanced_search": "the solr module is not enabled on the kit's server "
    "(it needs a Solr server and a client library upstream no longer bundles); the test "
    "checks the -101 unknown-method answer",
    "BatchmakeDriver.add_condor_dag": "the batchmake module was removed in Midas 3.4.2; the "
    "test checks the -101 unknown-method answer",
    "BatchmakeDriver.add_condor_job": "the batchmake module was removed in Midas 3.4.2; the "
    "test checks the -101 unknown-method answer",
}

#: Driver methods that no live test calls, with the reason. Empty: all are called.
NOT_LIVE = {}


def driver_methods():
    """``Class.method`` of every public method, named after the class that defines it."""
    names = set()
    for cls in (drivers.BaseDriver, *DEFAULT_DRIVERS):
        for name, value in vars(cls).items():
            if not name.startswith("_") and inspect.isfunction(value):
                names.add(f"{cls.__name__}.{name}")
    return names


def declared_coverage():
    """Every name given to ``covers(...)`` in the live test modules, with its module."""
    declared = {}
    for filename in sorted(os.listdir(HERE)):
        if not (filename.startswith("test_") and filename.endswith(".py")):
            continue
        with open(os.path.join(HERE, filename), encoding="utf-8") as handle:
            tree = ast.parse(handle.read(), filename)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _is_covers(node.func):
                for argument in node.args:
                    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                        declared.setdefault(argument.value, set()).add(filename)
    return declared


def _is_covers(function):
    return (isinstance(function, ast.Name) and function.id == "covers") or (
        isinstance(function, ast.Attribute) and function.attr == "covers"
    )


def test_every_driver_method_is_exercised_live_or_listed_with_a_reason():
    uncovered = driver_methods() - set(declared_coverage()) - set(NOT_LIVE)
    assert not uncovered, f"driver methods without a live test or a reason: {sorted(uncovered)}"


def test_the_declarations_and_lists_name_existing_driver_methods():
    known = driver_methods()
    stale = (set(declared_coverage()) | set(NOT_LIVE) | set(REFUSED_BY_THE_SERVER)) - known
    assert not stale, f"not driver methods (renamed or misspelt?): {sorted(stale)}"


def test_methods_the_server_refuses_still_have_a_test_of_the_refusal():
    assert set(REFUSED_BY_THE_SERVER) <= set(declared_coverage())
    assert not set(NOT_LIVE) & set(declared_coverage())
