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
UPWARD_ALLOWED = {("cineaug/simulate/__init__.py", "cineaug.prepare")}
"""The one import that goes up (docs/concepts.md, "Layers"): the simulate facade's write_simulated_dataset."""


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
            if (str(path.relative_to(ROOT)), target) in UPWARD_ALLOWED:
                continue
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


def test_the_one_upward_import_is_still_there_and_nothing_else_is_allowed():
    for path, target in UPWARD_ALLOWED:
        assert target in {t for _, t in _imports(ROOT / path)}, f"{path} no longer imports {target}: drop it"
    facade = PACKAGE / "simulate" / "__init__.py"
    assert [t for _, t in _imports(facade) if _unit(t) != "simulate"] == ["cineaug.prepare"]
    top_level = [n.module for n in ast.parse(facade.read_text()).body if isinstance(n, ast.ImportFrom)]
    assert "prepare" not in str(
        top_level
    )  # loaded on first use only: importing simulate loads nothing above it
