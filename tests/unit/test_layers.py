"""The layers of pydas (docs/architecture.rst), checked on the imports of every module.

Each rule names a package or module and what it may import from pydas. An
import inside a function counts too: it is still a dependency.
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2] / "pydas"

#: module prefix -> the pydas modules (prefixes) it may import, besides its own package.
ALLOWED = {
    "pydas.exceptions": set(),
    "pydas._version": set(),
    "pydas._transport": {"pydas.exceptions"},
    "pydas.drivers": {"pydas._transport", "pydas.exceptions"},
    "pydas.core": {"pydas._transport", "pydas.drivers", "pydas.exceptions"},
    "pydas.session": {"pydas.core"},
    "pydas._secret_store": {"pydas.exceptions"},
    "pydas.credentials": {"pydas._secret_store", "pydas.exceptions"},
    # the engine reaches HTTP only through a communicator; from the transport it
    # takes value types (Timeout, the retry Outcome) to share the retry policy
    "pydas._transfer": {"pydas._transport", "pydas.exceptions"},
    "pydas.api": {
        "pydas._transfer", "pydas.core", "pydas.credentials", "pydas.exceptions", "pydas.session",
    },
    "pydas.cli": {"pydas"},  # the command may use everything, the emulator included
    "pydas.testing": set(),  # the emulator is independent of the client
    # the fixtures that point tests at a real server use the client
    "pydas.testing.pytest_plugin": {"pydas"},
}


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: pathlib.Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "pydas":
                for alias in node.names:
                    yield f"pydas.{alias.name}"
            else:
                yield node.module


def _rule_for(module: str) -> str:
    matches = [prefix for prefix in ALLOWED if module == prefix or module.startswith(prefix + ".")]
    return max(matches, key=len) if matches else ""


def _within(name: str, prefixes) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


MODULES = sorted(ROOT.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda path: _module_name(path))
def test_module_imports_only_what_its_layer_may(path):
    module = _module_name(path)
    if module in ("pydas", "pydas.__main__"):
        return  # the package's front door re-exports the public API
    rule = _rule_for(module)
    assert rule, f"{module} belongs to no layer of docs/architecture.rst"
    allowed = ALLOWED[rule] | {rule}
    wrong = sorted(
        name for name in _imports(path)
        if _within(name, {"pydas"}) and not _within(name, allowed)
    )
    assert not wrong, f"{module} may not import {wrong}"


def test_nothing_of_the_client_imports_the_emulator():
    importers = {
        _module_name(path)
        for path in MODULES
        if not _module_name(path).startswith("pydas.testing")
        and any(_within(name, {"pydas.testing"}) for name in _imports(path))
    }
    assert {_rule_for(module) for module in importers} <= {"pydas.cli"}
