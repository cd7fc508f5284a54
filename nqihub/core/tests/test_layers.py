"""The layer contract (docs/architecture.md, "Layers"), enforced by the suite.

* ``[tool.importlinter]`` in ``pyproject.toml``: the kernel apps are layered (core at the
  bottom) and never import a domain app; the project's wiring (URLs, settings) sits on top.
* Here, with the same import graph (grimp): every app is placed in that contract, domain apps
  import each other only through a declared ``interface`` module, no two apps import each
  other, and no modules of one app import each other in a circle.

Every import counts, including one inside a function; only imports under
``if TYPE_CHECKING:``, which never run, are left out. The ``test_*_is_caught`` tests run the
same checks on small made-up packages with a known bad import, so a check that stopped
seeing anything would fail here.
"""

from __future__ import annotations

import re
import textwrap
import tomllib
from pathlib import Path

import grimp
import pytest
from django.apps import apps
from importlinter import configuration
from importlinter.application.use_cases import lint_imports

configuration.configure()  # what importlinter.api and the command do first

ROOT = Path(__file__).resolve().parents[3]
PYPROJECT = ROOT / "pyproject.toml"
PACKAGE = "nqihub"


def _contract() -> dict:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]


def _layer_modules(layer: str) -> list[tuple[str, bool]]:
    """(module, optional) for each module of one layer line."""
    out = []
    for part in re.split(r"[|:]", layer):
        name = part.strip()
        optional = name.startswith("(") and name.endswith(")")
        out.append((name.strip("()"), optional))
    return out


def _layers() -> list[list[tuple[str, bool]]]:
    (layers_contract,) = [c for c in _contract()["contracts"] if c["type"] == "layers"]
    return [_layer_modules(layer) for layer in layers_contract["layers"]]


def _domain_apps(root: str = PACKAGE) -> list[str]:
    """The domain layer: the second line of the layers contract."""
    return [name.replace(PACKAGE, root, 1) for name, _optional in _layers()[1]]


def _graph(root: str = PACKAGE) -> grimp.ImportGraph:
    return grimp.build_graph(root, exclude_type_checking_imports=True, cache_dir=None)


def _app_of(module: str) -> str:
    return ".".join(module.split(".")[:2])


def _is_test_module(module: str) -> bool:
    return ".tests" in module or module.endswith(".conftest")


def _lint(config: Path, capsys) -> tuple[bool, str]:
    kept = lint_imports(config_filename=str(config), cache_dir=None, no_logo=True)
    return kept, capsys.readouterr().out


# --- The checks --------------------------------------------------------------------------------


def cycles_within_apps(graph: grimp.ImportGraph) -> list[list[str]]:
    """Groups of modules of one app that import each other in a circle (strongly connected
    components of more than one module, or a module importing itself through others)."""
    by_app: dict[str, set[str]] = {}
    for module in graph.modules:
        if module.count(".") >= 1:
            by_app.setdefault(_app_of(module), set()).add(module)
    found = []
    for modules in by_app.values():
        edges = {
            m: sorted(n for n in graph.find_modules_directly_imported_by(m) if n in modules and n != m) for m in modules
        }
        found.extend(_strongly_connected(edges))
    return sorted(sorted(group) for group in found)


def _strongly_connected(edges: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; returns the components with more than one node."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(edges[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(group)
    return groups


def _known_exceptions() -> set[tuple[str, str]]:
    """The single imports the contract's ``ignore_imports`` names (not its wildcard lines)."""
    lines = [c.get("ignore_imports", []) for c in _contract()["contracts"]]
    pairs = (line.split(" -> ") for group in lines for line in group if "*" not in line)
    return {(a.strip(), b.strip()) for a, b in pairs}


def app_dependencies(graph: grimp.ImportGraph, ignore: set[tuple[str, str]] = frozenset()) -> dict[str, set[str]]:
    """App → the other apps its (non-test) modules import directly, but for ``ignore``."""
    deps: dict[str, set[str]] = {}
    for module in graph.modules:
        if module.count(".") < 1 or _is_test_module(module):
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            if (module, imported) in ignore:
                continue
            if imported.count(".") >= 1 and _app_of(imported) != _app_of(module):
                deps.setdefault(_app_of(module), set()).add(_app_of(imported))
    return deps


def domain_imports_outside_interfaces(graph: grimp.ImportGraph, domain_apps: list[str]) -> list[tuple[str, str]]:
    """Imports from one domain app into another that do not go to its ``interface`` module."""
    present = [app for app in domain_apps if any(m == app or m.startswith(app + ".") for m in graph.modules)]
    bad = []
    for module in sorted(graph.modules):
        app = _app_of(module)
        if app not in present or _is_test_module(module):
            continue
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            other = _app_of(imported)
            if other in present and other != app:
                interface = f"{other}.interface"
                if imported != interface and not imported.startswith(interface + "."):
                    bad.append((module, imported))
    return bad


# --- The project keeps them --------------------------------------------------------------------


def test_the_layer_contract_is_kept(capsys):
    kept, report = _lint(PYPROJECT, capsys)
    assert kept, report


def test_every_app_is_placed_in_the_layer_contract():
    placed = {name for layer in _layers() for name, _optional in layer}
    ours = {config.name for config in apps.get_app_configs() if config.name.startswith(PACKAGE + ".")}
    packages = {
        f"{PACKAGE}.{path.parent.name}"
        for path in (ROOT / PACKAGE).glob("*/__init__.py")
        if path.parent.name != "static"
    }
    assert ours <= placed, f"apps missing from [tool.importlinter] layers: {sorted(ours - placed)}"
    assert packages <= placed, f"packages missing from [tool.importlinter] layers: {sorted(packages - placed)}"
    required = {name for layer in _layers() for name, optional in layer if not optional}
    assert required <= packages | {f"{PACKAGE}.{p.stem}" for p in (ROOT / PACKAGE).glob("*.py")}


def test_no_import_circles_inside_an_app():
    assert cycles_within_apps(_graph()) == []


def test_no_two_apps_import_each_other():
    deps = app_dependencies(_graph(), _known_exceptions())
    mutual = sorted({tuple(sorted((a, b))) for a, targets in deps.items() for b in targets if a in deps.get(b, set())})
    assert mutual == []


def test_domain_apps_import_each_other_only_through_their_interface():
    assert domain_imports_outside_interfaces(_graph(), _domain_apps()) == []


# --- And each check sees a violation -----------------------------------------------------------


def _make_package(root: Path, name: str, files: dict[str, str]) -> None:
    """A package ``name`` under ``root`` with an empty module for every layer of the contract,
    plus ``files`` (relative path → source)."""
    base = root / name
    modules = {module.replace(PACKAGE, name, 1) for layer in _layers() for module, _optional in layer}
    for module in sorted(modules):
        parts = module.split(".")
        package_dir = root.joinpath(*parts)
        package_dir.mkdir(parents=True, exist_ok=True)
        (package_dir / "__init__.py").touch()
    (base / "__init__.py").touch()
    for relative, source in files.items():
        path = base / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(root).parents:
            if str(parent) != ".":
                (root / parent / "__init__.py").touch()
        path.write_text(textwrap.dedent(source), encoding="utf-8")


def _contract_for(root_package: str, tmp_path: Path) -> Path:
    """The project's own contract, pointed at another root package."""
    text = PYPROJECT.read_text(encoding="utf-8")
    start = text.index("[tool.importlinter]")
    config = tmp_path / "contract.toml"
    config.write_text(re.sub(rf"\b{PACKAGE}\b", root_package, text[start:]), encoding="utf-8")
    return config


def test_a_lazy_import_of_a_domain_app_from_the_kernel_is_caught(tmp_path, monkeypatch, capsys):
    _make_package(
        tmp_path,
        "fakehub_a",
        {
            "metrology/models.py": "X = 1\n",
            # Inside a function, the way an upward import hides best.
            "core/views.py": """
                def home():
                    from fakehub_a.metrology.models import X

                    return X
            """,
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    kept, report = _lint(_contract_for("fakehub_a", tmp_path), capsys)
    assert not kept
    assert "fakehub_a.core.views -> fakehub_a.metrology.models" in report


def test_a_kernel_layer_importing_one_above_it_is_caught(tmp_path, monkeypatch, capsys):
    _make_package(
        tmp_path,
        "fakehub_b",
        {"organizations/models.py": "X = 1\n", "core/access.py": "import fakehub_b.organizations.models\n"},
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    kept, report = _lint(_contract_for("fakehub_b", tmp_path), capsys)
    assert not kept
    assert "fakehub_b.core.access -> fakehub_b.organizations.models" in report


def test_the_layers_below_still_pass_on_a_clean_made_up_package(tmp_path, monkeypatch, capsys):
    """The counterpart of the two above: the same made-up tree without the bad import is kept,
    so they fail because of the import and nothing else."""
    _make_package(
        tmp_path, "fakehub_c", {"metrology/models.py": "from fakehub_c.core import views\n", "core/views.py": ""}
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    kept, report = _lint(_contract_for("fakehub_c", tmp_path), capsys)
    assert kept, report


def test_an_import_circle_inside_an_app_is_caught():
    graph = grimp.ImportGraph()
    graph.add_import(importer="hub.shop.selectors", imported="hub.shop.models")
    graph.add_import(importer="hub.shop.services.reminders", imported="hub.shop.selectors")
    graph.add_import(importer="hub.shop.selectors", imported="hub.shop.services.reminders")  # lazy, in a function
    graph.add_import(importer="hub.shop.tasks", imported="hub.shop.services.imports")
    # A circle through two apps is not one app's circle (the app-level test catches those).
    graph.add_import(importer="hub.a.x", imported="hub.b.y")
    graph.add_import(importer="hub.b.y", imported="hub.a.x")
    assert cycles_within_apps(graph) == [["hub.shop.selectors", "hub.shop.services.reminders"]]
    assert app_dependencies(graph)["hub.a"] == {"hub.b"} and app_dependencies(graph)["hub.b"] == {"hub.a"}


def test_a_domain_app_reaching_past_anothers_interface_is_caught():
    graph = grimp.ImportGraph()
    graph.add_import(importer="hub.sampling.services", imported="hub.metrology.interface")
    graph.add_import(importer="hub.sampling.views", imported="hub.metrology.models")
    graph.add_import(importer="hub.sampling.tests.test_x", imported="hub.metrology.models")  # tests may
    graph.add_import(importer="hub.metrology.interface", imported="hub.metrology.models")
    assert domain_imports_outside_interfaces(graph, ["hub.metrology", "hub.sampling"]) == [
        ("hub.sampling.views", "hub.metrology.models")
    ]


@pytest.mark.parametrize("layer", ["a | (b) : c", "(a)"])
def test_layer_lines_are_read_with_their_optional_modules(layer):
    assert (
        _layer_modules(layer)
        == {
            "a | (b) : c": [("a", False), ("b", True), ("c", False)],
            "(a)": [("a", True)],
        }[layer]
    )


# --- Routes are wired by imports ---------------------------------------------------------------


def _route_files() -> list[Path]:
    base = ROOT / PACKAGE
    return [
        base / "urls.py",
        base / "api_urls.py",
        *sorted(base.glob("*/urls.py")),
        *sorted(base.glob("*/api/routes.py")),
    ]


def string_wiring(source: str) -> list[str]:
    """What in a URL module hides a dependency from the import graph: ``include("dotted.path")``,
    ``import_module(...)``, ``__import__`` and handlers named by a string."""
    import ast

    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Tuple) and first.elts:
                first = first.elts[0]
            if name == "include" and isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append(f"include({first.value!r})")
            if name in ("import_module", "__import__"):
                found.append(f"{name}(...)")
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            targets = [getattr(t, "id", "") for t in node.targets]
            if any(t.startswith("handler") for t in targets):
                found.append(f"{targets[0]} = {node.value.value!r}")
    return found


def test_routes_are_wired_by_imports_static_tools_can_follow():
    for path in _route_files():
        assert string_wiring(path.read_text(encoding="utf-8")) == [], path.relative_to(ROOT)
    graph = _graph()
    included = graph.find_modules_directly_imported_by(f"{PACKAGE}.urls")
    for config in apps.get_app_configs():
        if config.name.startswith(PACKAGE + ".") and (Path(config.path) / "urls.py").exists():
            assert f"{config.name}.urls" in included, config.name


def test_string_wiring_is_caught():
    source = textwrap.dedent(
        """
        from importlib import import_module
        urlpatterns = [path("a/", include("x.urls")), path("b/", include(("x.api", "v1")))]
        urlpatterns += import_module("x.views").urlpatterns
        handler404 = "x.views.not_found"
        ok = [path("c/", include(module))]
        """
    )
    assert sorted(string_wiring(source)) == sorted(
        ["include('x.urls')", "include('x.api')", "import_module(...)", "handler404 = 'x.views.not_found'"]
    )
