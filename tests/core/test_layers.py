"""Layers import only downward: no module of helpers/ imports a module of a higher layer (at any depth, in any form)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

HELPERS = Path(__file__).resolve().parents[2] / "helpers"
# One layer per top-level package or module of helpers/; a module may import its own layer or lower ones.
LAYERS = {"__init__": 0, "core": 0, "model": 1, "data": 2, "sft": 3, "rating": 4, "dpo": 5, "eval": 6, "budget": 7,
          "ship": 8, "workshop": 9, "session": 10, "cli": 10}


def module_name(path: Path, root: Path) -> str:
    """Dotted name of a module file below ``root`` (the package folder), e.g. helpers.sft.trainer."""
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(dotted: str) -> tuple[str, int]:
    """(top-level part, layer) of a dotted name inside the package; KeyError names an unassigned part."""
    parts = dotted.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    if top not in LAYERS:
        raise KeyError(f"helpers.{top} has no layer: add it to LAYERS in {Path(__file__).name}")
    return top, LAYERS[top]


def imported_names(tree: ast.AST, module: str, is_package: bool, package: str) -> list[tuple[int, str]]:
    """(line, dotted name) of every import of ``package`` anywhere in the tree, relative ones resolved."""
    here = module.split(".") if is_package else module.split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == package]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[:len(here) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != package:
                continue
            # `from helpers import eval` or `from .. import rating` import a sub-package: judge each name
            found += [(node.lineno, f"{target}.{a.name}" if target == package else target) for a in node.names]
    return found


def layer_violations(root: Path) -> list[str]:
    """One line per import of a higher layer: 'file:line: helpers.x (layer a) imports helpers.y (layer b)'."""
    problems = []
    for path in sorted(root.rglob("*.py")):
        module = module_name(path, root)
        own_top, own = layer_of(module)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, target in imported_names(tree, module, path.name == "__init__.py", root.name):
            top, layer = layer_of(target)
            if layer > own:
                problems.append(f"{path.relative_to(root.parent)}:{line}: {module} (layer {own}, {own_top}) imports "
                                f"{target} (layer {layer}, {top})")
    return problems


def test_no_module_imports_a_higher_layer():
    problems = layer_violations(HELPERS)
    assert not problems, "imports against the layer order:\n" + "\n".join(problems)


def test_every_part_of_the_package_has_a_layer():
    for path in HELPERS.iterdir():
        if path.name.endswith(".py") or (path / "__init__.py").exists():
            assert path.name.removesuffix(".py") in LAYERS, f"{path} has no layer"


@pytest.mark.parametrize("source", [
    "from ..model.turns import gpu_slot\n",                            # relative, module level
    "def f():\n    from helpers.workshop.status import gpu_status\n",  # absolute, inside a function
    "import helpers.workshop.room\n",                                  # plain import
    "from .. import workshop\n",                                       # a sub-package by name
])
def test_an_upward_import_is_named_with_file_line_and_layers(tmp_path, source):
    pkg = tmp_path / "helpers"
    for part in ("core", "model", "workshop"):
        (pkg / part).mkdir(parents=True)
        (pkg / part / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("from .core import names\n")
    (pkg / "core" / "names.py").write_text("import os\n\n" + source)
    (pkg / "model" / "turns.py").write_text("from ..core.names import x\n")
    (pkg / "workshop" / "status.py").write_text("from ..model.turns import gpu_slot\n")
    problems = layer_violations(pkg)
    assert len(problems) == 1, problems
    assert problems[0].startswith("helpers/core/names.py:") and "(layer 0, core) imports helpers." in problems[0]
    assert problems[0].split(":")[1] == str(2 + source.count("\n"))  # after "import os" and a blank line


def test_the_package_reads_nothing_under_tests():
    for path in sorted(HELPERS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert not (node.value == "tests" or node.value.startswith("tests/")), (
                    f"{path.relative_to(HELPERS.parent)}:{node.lineno} names the tests folder: the package must not "
                    "read tests/ (baselines live in baselines/)")
