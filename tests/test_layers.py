"""The layers of docs/concepts.md hold: no module imports a unit of its own or a higher layer.

Imports are read with ``ast`` (nothing is imported); imports inside functions count too.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "cineaug"
FACADE = "cineaug"  # cineaug/__init__.py: above every layer, imported by none
FORBIDDEN = {"transforms": {"training"}, "benchmark": {"training"}, "generate": {"training"}}
"""Imports the numbering allows but the design refuses (docs/concepts.md, "Layers")."""
FORBIDDEN_EXCEPT = {("cineaug/generate/cli.py", "training")}
"""Where a FORBIDDEN import is allowed: ``cineaug evaluate`` scores against training's real-data sets."""


def _layers() -> dict[str, int]:
    """Unit -> layer number, from the table of docs/concepts.md ("Layers")."""
    text = (ROOT / "docs" / "concepts.md").read_text().split("## Layers", 1)[1]
    layers = {}
    for number, units in re.findall(r"^\| (\d+) \| ([^|]+) \|", text, flags=re.M):
        for unit in re.findall(r"`([\w.]+)`", units):
            assert unit not in layers, f"{unit} is in two layers"
            layers[unit] = int(number)
    return layers


def _module_name(path: Path) -> tuple[str, bool]:
    parts = path.relative_to(ROOT).with_suffix("").parts
    is_package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_package else parts), is_package


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every cineaug import in ``path``, relative ones resolved."""
    module, is_package = _module_name(path)
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if node.module is None:  # from . import x: x may be a module
                found += [(node.lineno, f"{target}.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, target))
    return [(line, t) for line, t in found if t == FACADE or t.startswith(FACADE + ".")]


def _unit(module: str) -> str:
    return module.split(".")[1] if "." in module else FACADE


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_unit_is_in_one_layer():
    units = {_unit(_module_name(p)[0]) for p in _modules()} - {FACADE}
    missing = units - set(_layers())
    assert not missing, f"add {sorted(missing)} to the layer table of docs/concepts.md"
    assert not set(_layers()) - units, "the layer table names units that do not exist"


def _violations(layers: dict[str, int]) -> list[str]:
    bad = []
    for path in _modules():
        unit = _unit(_module_name(path)[0])
        if unit == FACADE:
            continue
        for line, target in _imports(path):
            other = _unit(target)
            if other != unit and (other == FACADE or layers.get(other, 99) >= layers[unit]):
                bad.append(
                    f"{path.relative_to(ROOT)}:{line} imports {target} "
                    f"({unit} is layer {layers[unit]}, {other} is {layers.get(other, 'the facade')})"
                )
    return bad


def test_no_module_imports_its_own_layer_or_a_higher_one():
    bad = _violations(_layers())
    assert not bad, "imports against the layers of docs/concepts.md:\n" + "\n".join(bad)


def test_the_check_sees_lazy_and_relative_imports():
    assert {"cineaug.atomic", "cineaug.types"} <= {t for _, t in _imports(PACKAGE / "cache.py")}
    lazy = {t for _, t in _imports(PACKAGE / "prepare.py")}
    assert "cineaug.simulate" in lazy  # imported inside _read_simulator and describe_source
    swapped = {**_layers(), "simulate": 5}  # simulate above prepare: prepare's lazy import goes up
    assert any("prepare.py" in v and "cineaug.simulate" in v for v in _violations(swapped))


def _forbidden() -> list[str]:
    bad = []
    for path in _modules():
        unit, where = _unit(_module_name(path)[0]), str(path.relative_to(ROOT))
        for line, target in _imports(path):
            other = _unit(target)
            if other in FORBIDDEN.get(unit, ()) and (where, other) not in FORBIDDEN_EXCEPT:
                bad.append(f"{where}:{line} imports {target} ({unit} may not import {other})")
    return bad


def test_no_module_makes_a_forbidden_import():
    bad = _forbidden()
    assert not bad, "imports the design refuses (docs/concepts.md, Layers):\n" + "\n".join(bad)


def test_training_publishes_models_without_transforms_or_generate():
    layers = _layers()
    assert layers["tissues"] == 2 and layers["training"] < layers["generate"] < layers["transforms"]
    assert layers["pretrained"] < layers["training"] < layers["benchmark"]
    for path in (PACKAGE / "training").rglob("*.py"):
        targets = {_unit(t) for _, t in _imports(path)}
        assert not targets & {"transforms", "generate", "benchmark"}, path


def test_the_forbidden_check_sees_an_import_of_training():
    for unit in ("benchmark", "transforms"):
        assert "training" in FORBIDDEN[unit]
    evaluate = {_unit(t) for _, t in _imports(PACKAGE / "generate" / "cli.py")}
    assert "training" in evaluate  # the one exception is still needed: drop it when it is not


def test_simulate_imports_nothing_above_it():
    facade = PACKAGE / "simulate" / "__init__.py"
    assert all(_unit(t) == "simulate" for _, t in _imports(facade))
    assert not hasattr(__import__("cineaug.simulate", fromlist=["x"]), "write_simulated_dataset")
