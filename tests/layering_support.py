"""Static checks of src/keras_estimator, read with `ast` (nothing is imported).

Each `find_*` function returns offenders as "path:line: what" strings, path relative to the
package directory (`estimator.py`, `cli/main.py`), so a failing test lists every one of them.
"""

from __future__ import annotations

import ast
import dataclasses
import pathlib
from typing import Iterator

PACKAGE_DIR = pathlib.Path(__file__).resolve().parent.parent / "src" / "keras_estimator"
PACKAGE = "keras_estimator"
COMPAT = "_compat.py"
PRIVATE_APIS = ("keras.src", "tensorflow.python")
# Underscored names that are public API: namedtuple's methods and attributes.
PUBLIC_UNDERSCORED = {"_replace", "_asdict", "_fields", "_field_defaults", "_make"}
ATTRIBUTE_FUNCTIONS = {"getattr", "hasattr", "setattr", "delattr"}


@dataclasses.dataclass(frozen=True)
class Module:
    path: str  # Relative to PACKAGE_DIR, with "/".
    name: str  # Dotted: keras_estimator.export.serving_input; a package's __init__ is the package.
    tree: ast.Module
    lines: list[str]

    @property
    def is_package(self) -> bool:
        return self.path.endswith("__init__.py")


def modules(root: pathlib.Path = PACKAGE_DIR) -> list[Module]:
    """Every module of the package in `root`, parsed."""
    found = []
    for file in sorted(root.rglob("*.py")):
        relative = file.relative_to(root).as_posix()
        parts = [PACKAGE, *relative[: -len(".py")].split("/")]
        if parts[-1] == "__init__":
            parts.pop()
        text = file.read_text()
        found.append(Module(relative, ".".join(parts), ast.parse(text, relative), text.splitlines()))
    return found


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


# -- sizes ----------------------------------------------------------------------------------------
def _definitions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, ast.AST]]:
    """(qualified name, node) of every class and function, nested ones included."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            name = f"{prefix}{node.name}"
            yield name, node
            yield from _definitions(node, f"{name}.")
        else:
            yield from _definitions(node, prefix)


def code_lines(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """The def's physical lines (from `def` to its last line) minus its docstring's lines."""
    total = function.end_lineno - function.lineno + 1
    first = function.body[0]
    if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)):
        total -= first.end_lineno - first.lineno + 1
    return total


def find_long_modules(mods: list[Module], limit: int) -> list[str]:
    return [f"{m.path}:1: {len(m.lines)} lines" for m in mods if len(m.lines) > limit]


def find_long_classes(mods: list[Module], limit: int) -> list[str]:
    offenders = []
    for m in mods:
        for name, node in _definitions(m.tree):
            size = node.end_lineno - node.lineno + 1
            if isinstance(node, ast.ClassDef) and size > limit:
                offenders.append(f"{m.path}:{node.lineno}: class {name} has {size} lines")
    return offenders


def find_long_functions(mods: list[Module], limit: int, exempt: set[str]) -> list[str]:
    offenders = []
    for m in mods:
        for name, node in _definitions(m.tree):
            if isinstance(node, ast.ClassDef) or f"{m.path}:{name}" in exempt:
                continue
            size = code_lines(node)
            if size > limit:
                offenders.append(f"{m.path}:{node.lineno}: {name} has {size} code lines")
    return offenders


# -- imports --------------------------------------------------------------------------------------
def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, also inside functions, except under `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                yield from imports(ast.Module(body=[child], type_ignores=[]))
        else:
            yield from imports(node)


def _base(module: Module, node: ast.ImportFrom) -> str:
    """The absolute module an ImportFrom reads from (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    package = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
    package = package[: len(package) - node.level + 1]
    return ".".join(package + ([node.module] if node.module else []))


def imported_modules(module: Module, known: set[str]) -> Iterator[tuple[int, str]]:
    """(line, keras_estimator module) for each import of one: `from pkg import sub` imports
    the submodule when `sub` is one, else `pkg` (a package: its __init__)."""
    for node in imports(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known:
                    yield node.lineno, alias.name
            continue
        base = _base(module, node)
        for alias in node.names:
            target = f"{base}.{alias.name}"
            if target in known:
                yield node.lineno, target
            elif base in known:
                yield node.lineno, base


def import_graph(mods: list[Module], excluded: set[str]) -> dict[str, dict[str, int]]:
    """module -> {imported module: line of the first such import}, among keras_estimator modules."""
    known = {m.name for m in mods}
    left_out = {m.name for m in mods if m.path in excluded}
    graph: dict[str, dict[str, int]] = {}
    for m in mods:
        if m.name in left_out:
            continue
        edges = graph.setdefault(m.name, {})
        for line, target in imported_modules(m, known):
            if target != m.name and target not in left_out:
                edges.setdefault(target, line)
    return graph


def strongly_connected(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Tarjan's components with more than one module: each holds at least one cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def _cycle_through(graph: dict[str, dict[str, int]], component: list[str]) -> list[str]:
    """One cycle inside a component, as the modules in import order, the first one repeated."""
    members, start = set(component), component[0]
    paths = {start: [start]}
    frontier = [start]
    while frontier:  # Breadth first: the shortest cycle back to start.
        node = frontier.pop(0)
        for target in sorted(graph[node]):
            if target == start:
                return paths[node] + [start]
            if target in members and target not in paths:
                paths[target] = paths[node] + [target]
                frontier.append(target)
    raise AssertionError("a strongly connected component always holds a cycle")


def find_import_cycles(mods: list[Module], excluded: set[str]) -> list[str]:
    graph = import_graph(mods, excluded)
    paths = {m.name: m.path for m in mods}
    offenders = []
    for component in strongly_connected(graph):
        cycle = _cycle_through(graph, component)
        steps = [f"{paths[a]}:{graph[a][b]}: imports {b}" for a, b in zip(cycle, cycle[1:])]
        offenders.append(f"cycle {' -> '.join(cycle)} ({'; '.join(steps)})")
    return offenders


def find_private_imports(mods: list[Module]) -> list[str]:
    """`from keras_estimator.x import _y`: another module's private name (`_compat` is fine)."""
    offenders = []
    for m in mods:
        for node in ast.walk(m.tree):
            if not isinstance(node, ast.ImportFrom) or not _base(m, node).startswith(PACKAGE):
                continue
            for alias in node.names:
                if is_private(alias.name) and alias.name != "_compat":
                    offenders.append(f"{m.path}:{node.lineno}: imports {alias.name} from {_base(m, node)}")
    return offenders


def find_private_api_imports(mods: list[Module], allowed: str) -> list[str]:
    """Imports of keras.src / tensorflow.python anywhere but in `allowed`."""
    offenders = []
    for m in mods:
        if m.path == allowed:
            continue
        for node in ast.walk(m.tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [f"{node.module}.{a.name}" for a in node.names]
            names += _import_module_strings(node)
            offenders += [f"{m.path}:{node.lineno}: imports {n}" for n in names
                          if any(n == p or n.startswith(p + ".") for p in PRIVATE_APIS)]
    return offenders


def _import_module_strings(node: ast.AST) -> list[str]:
    """The module named by `importlib.import_module("...")` / `__import__("...")`."""
    if not isinstance(node, ast.Call) or not node.args:
        return []
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    argument = node.args[0]
    if name in ("import_module", "__import__") and isinstance(argument, ast.Constant):
        return [str(argument.value)]
    return []


# -- private members ------------------------------------------------------------------------------
def _owner_is_allowed(owner: ast.expr, in_dunder_method: bool) -> bool:
    if isinstance(owner, ast.Name):
        return owner.id in ("self", "cls") or (in_dunder_method and owner.id == "other")
    # super()._method(): the class's own inherited members.
    return isinstance(owner, ast.Call) and getattr(owner.func, "id", None) == "super"


def _private_uses(node: ast.AST, in_dunder_method: bool, in_class: bool) -> Iterator[tuple[int, str]]:
    for child in ast.iter_child_nodes(node):
        dunder = in_dunder_method
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            dunder = in_class and child.name.startswith("__") and child.name.endswith("__")
        if isinstance(child, ast.Attribute):
            if (is_private(child.attr) and child.attr not in PUBLIC_UNDERSCORED
                    and not _owner_is_allowed(child.value, dunder)):
                yield child.lineno, f"{ast.unparse(child.value)}.{child.attr}"
        elif (isinstance(child, ast.Call) and getattr(child.func, "id", None) in ATTRIBUTE_FUNCTIONS
              and len(child.args) >= 2 and isinstance(child.args[1], ast.Constant)
              and isinstance(child.args[1].value, str) and is_private(child.args[1].value)
              and not _owner_is_allowed(child.args[0], dunder)):
            yield child.lineno, f"{child.func.id}({ast.unparse(child.args[0])}, {child.args[1].value!r})"
        yield from _private_uses(child, dunder, isinstance(child, ast.ClassDef) or
                                 (in_class and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))))


def find_private_member_uses(mods: list[Module], allowed: str) -> list[str]:
    """`X._name` and `getattr(X, "_name")` for X other than self/cls (and `other` in a class's
    dunder methods, and super()): another object's or module's private member."""
    offenders = []
    for m in mods:
        if m.path != allowed:
            offenders += [f"{m.path}:{line}: uses {what}" for line, what in _private_uses(m.tree, False, False)]
    return offenders
