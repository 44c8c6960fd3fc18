"""Imports only point down the layers of docs/architecture.md: a module may import its own
package and the layers below it, never one above (checked on the source, all modules)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: folder -> (installed package, project packages it may import besides its own)
LAYERS = {
    "fp8forge": ("fp8forge", set()),
    "golden": ("fp8forge.golden", {"fp8forge"}),
    "hdl": ("fp8forge.hdl", {"fp8forge", "fp8forge.golden"}),
    "model": ("fp8forge.model", {"fp8forge", "fp8forge.golden", "fp8forge.hdl.array_timing"}),
    "sim": ("fp8forge.sim", {"fp8forge", "fp8forge.golden", "fp8forge.hdl"}),
    "experiments": ("fp8forge.experiments", {"fp8forge", "fp8forge.golden"}),
    "scripts": ("fp8forge.scripts", {"fp8forge", "fp8forge.golden", "fp8forge.hdl",
                                     "fp8forge.sim", "fp8forge.model", "fp8forge.experiments"}),
}
PACKAGES = {package for package, _ in LAYERS.values()}
#: ``python -m fp8forge`` runs the command line: the one import from the root upwards.
ENTRY_POINTS = {("fp8forge/__main__.py", "fp8forge.scripts.cli")}


def _project_imports(path: Path, package: str) -> set[str]:
    """The fp8forge modules ``path`` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text())
    here = package.split(".") + ([] if path.name == "__init__.py" else [path.stem])
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[:len(here) - node.level]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.add(name)
            found |= {f"{name}.{a.name}" for a in node.names}
    return {n for n in found if n == "fp8forge" or n.startswith("fp8forge.")}


def _layer(name: str) -> str:
    """The layer package a module name belongs to ("fp8forge" for the root's own helpers)."""
    top = ".".join(name.split(".")[:2])
    return top if top in PACKAGES else "fp8forge"


def _allowed(name: str, own: str, below: set[str]) -> bool:
    layer = _layer(name)
    if layer == own:
        return True
    if layer == "fp8forge":
        return "fp8forge" in below
    return any(name == allowed or name.startswith(allowed + ".")
               for allowed in below - {"fp8forge"})


def test_imports_point_down():
    offences = []
    for folder, (package, below) in LAYERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            sub = ".".join(path.relative_to(ROOT / folder).parent.parts)
            pkg = package + (f".{sub}" if sub else "")
            for name in sorted(_project_imports(path, pkg)):
                if any(rel == f and (name == m or name.startswith(m + "."))
                       for f, m in ENTRY_POINTS):
                    continue
                if not _allowed(name, package, below):
                    offences.append(f"{rel} imports {name}")
    assert not offences, "imports pointing up a layer:\n" + "\n".join(offences)


def test_the_check_catches_an_upward_import(tmp_path, monkeypatch):
    """The walker sees a planted upward import (golden importing the generators)."""
    bad = tmp_path / "golden"
    bad.mkdir()
    (bad / "x.py").write_text("from fp8forge.hdl.arith import FpMul\nfrom .formats import P\n")
    names = _project_imports(bad / "x.py", "fp8forge.golden")
    assert "fp8forge.hdl.arith" in names and "fp8forge.golden.formats" in names
    package, below = LAYERS["golden"]
    assert not _allowed("fp8forge.hdl.arith", package, below)
    assert _allowed("fp8forge.golden.formats", package, below)
    assert _allowed("fp8forge.files", package, below)
    root, nothing = LAYERS["fp8forge"]
    assert not _allowed("fp8forge.golden", root, nothing) and _allowed("fp8forge.files", root,
                                                                          nothing)
