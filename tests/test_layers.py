"""The layers of a render, read from its own imports: each import runs down the layer order,
and no module of the package imports itself back through others (cli <-> cli_users)."""

import ast
import graphlib
from pathlib import Path

import pytest

from tests.conftest import Render, variant_params

# What a module of each layer may import from the package, its own layer included. A top-level
# module or package that is none of these (main, server, cli, cli_users, worker, bootstrap,
# plugins, the package's __init__) is an entry point, and may import anything.
MAY_IMPORT: dict[str, set[str]] = {
    "core": {"core"},
    "models": {"models", "core"},
    "repositories": {"repositories", "models", "core"},
    "infrastructure": {"infrastructure", "models", "core"},
    "services": {"services", "repositories", "infrastructure", "models", "core"},
    "api": {"api", "services", "infrastructure", "models", "core"},
}
ENTRY_POINT = "entry point"


def module_names(package_dir: Path) -> dict[str, Path]:
    """Every module of the package by its dotted name; a package by the name of its __init__'s
    package (`pkg.core`), the package itself by its own name."""
    modules: dict[str, Path] = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def imported_modules(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that `name` imports, anywhere in it (in functions and under
    `if TYPE_CHECKING:` too). `from a import b` imports the module `a.b` when there is one,
    else `a`; a relative import is resolved from the module's own package."""
    is_package = path.name == "__init__.py"
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, *filter(None, [base])])
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                imported.add(submodule if submodule in modules else base)
    return {module for module in imported if module in modules}


def layer(module: str) -> str:
    """The layer of a module: the first part of its name under the package."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in MAY_IMPORT else ENTRY_POINT


def import_graph(project: Path) -> dict[str, set[str]]:
    """The package's modules, each with the package's modules it imports."""
    package_dir = next((project / "src").iterdir())
    modules = module_names(package_dir)
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


@pytest.mark.parametrize("variant", variant_params())
def test_imports_run_down_the_layers(render: Render, variant: str) -> None:
    graph = import_graph(render(variant))

    against = [
        f"{importer} ({layer(importer)}) -> {imported} ({layer(imported)})"
        for importer, imports in sorted(graph.items())
        for imported in sorted(imports)
        if layer(importer) != ENTRY_POINT and layer(imported) not in MAY_IMPORT[layer(importer)]
    ]

    assert not against, "imports against the layer order:\n" + "\n".join(against)


def import_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of the graph (a module, what it imports..., the module again), or []."""
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as error:
        return list(error.args[1])
    return []


@pytest.mark.parametrize("variant", variant_params())
def test_no_module_imports_itself_back(render: Render, variant: str) -> None:
    cycle = import_cycle(import_graph(render(variant)))

    assert not cycle, "an import cycle: " + " -> ".join(cycle)


def test_the_reader_finds_relative_deferred_and_type_checking_imports(tmp_path: Path) -> None:
    package = tmp_path / "src" / "pkg"
    files = {
        "__init__.py": "",
        "cli.py": "def main() -> None:\n    from pkg import worker\n",
        "worker.py": "",
        "core/__init__.py": "from .config import Settings\n",
        "core/config.py": "import os\n",
        "services/__init__.py": "",
        "services/jobs.py": "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from ..api import routes\nfrom . import other\n",
        "services/other.py": "import pkg.core.config\n",
        "api/__init__.py": "",
        "api/routes.py": "",
    }
    for name, text in files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)

    graph = import_graph(tmp_path)

    assert graph["pkg.cli"] == {"pkg.worker"}
    assert graph["pkg.core"] == {"pkg.core.config"}
    assert graph["pkg.services.jobs"] == {"pkg.api.routes", "pkg.services.other"}
    assert graph["pkg.services.other"] == {"pkg.core.config"}
