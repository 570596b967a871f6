"""The layers hold: import contracts (import-linter), no import cycle, a gateway without the service."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

from tests.support import REPO_ROOT


def test_import_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm: the strongly connected components of a directed graph."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in graph.get(node, ()):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            components.append(component)

    for node in graph:
        if node not in index:
            visit(node)
    return components


def test_no_module_takes_part_in_an_import_cycle() -> None:
    graph = grimp.build_graph("camera_grpc")
    edges = {module: graph.find_modules_directly_imported_by(module) for module in graph.modules}
    cycles = [component for component in strongly_connected(edges) if len(component) > 1]
    assert cycles == []


def test_strongly_connected_finds_a_cycle() -> None:
    """The cycle check can fail."""
    assert {"a", "b"} in strongly_connected({"a": {"b"}, "b": {"a"}, "c": {"a"}})


def test_the_gateway_imports_no_part_of_the_service() -> None:
    code = (
        "import sys, importlib, pkgutil\n"
        "import camera_grpc.gateway\n"
        "for module in pkgutil.walk_packages(camera_grpc.gateway.__path__, 'camera_grpc.gateway.'):\n"
        "    importlib.import_module(module.name)\n"
        "prefixes = ('numpy', 'camera_grpc.device', 'camera_grpc.core', 'camera_grpc.rpc', 'camera_grpc.service',\n"
        "            'pixelinkWrapper')\n"
        "print('\\n'.join(sorted(name for name in sys.modules if name.startswith(prefixes))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.split() == []
