"""The shipped liberty (unmodified, licensed, the default), how a run picks its library, and
gate equivalents defined by cell function rather than cell name."""

from __future__ import annotations

import gzip
import hashlib
import itertools
import re
from pathlib import Path

import pytest

from fp8forge.pdk import DEFAULT_LIBERTY, ENV_VAR, resolve_liberty
from fp8forge.scripts.liberty_cells import LibertyError, cells, evaluate, ge_cell, parse_function

PDK = DEFAULT_LIBERTY.parent


def test_shipped_liberty_is_the_unmodified_file_with_its_licence():
    readme = (PDK / "README.md").read_text()
    digest = re.search(r"SHA-256 `([0-9a-f]{64})`", readme).group(1)
    assert hashlib.sha256(DEFAULT_LIBERTY.read_bytes()).hexdigest() == digest
    assert "Modifications.** None" in readme
    licence = (PDK / "LICENSE").read_text()
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence


def test_shipped_liberty_defines_ge_by_its_nand2():
    text = gzip.decompress(DEFAULT_LIBERTY.read_bytes()).decode()
    assert len(cells(text)) == 428  # as its README says
    assert ge_cell(text) == ("sky130_fd_sc_hd__nand2_1", 3.7536)


def test_resolve_liberty_order(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert resolve_liberty() == DEFAULT_LIBERTY
    env = tmp_path / "env.lib"
    env.write_text("library (x) {}")
    monkeypatch.setenv(ENV_VAR, str(env))
    assert resolve_liberty() == env
    option = tmp_path / "option.lib"
    option.write_text("library (y) {}")
    assert resolve_liberty(option) == option
    with pytest.raises(FileNotFoundError, match=r"liberty file not found: .*nope.lib \(from "
                                                r"FP8FORGE_LIBERTY\)"):
        monkeypatch.setenv(ENV_VAR, str(tmp_path / "nope.lib"))
        resolve_liberty()


#: A library in another naming style (Nangate-like names, OSU-like function syntax).
OTHER_LIBRARY = """library (other) {
  cell (INV_X1) { area : 0.532; pin (A) { direction : input; }
    pin (ZN) { direction : output; function : "!A"; } }
  cell (NAND2_X2) { area : 1.33; pin (A1) { direction : input; } pin (A2) { direction : input; }
    pin (ZN) { direction : output; function : "!(A1 & A2)"; } }
  cell (AND2_X1) { area : 0.5; pin (A1) { direction : input; } pin (A2) { direction : input; }
    pin (ZN) { direction : output; function : "(A1 & A2)"; } }
  cell (NOR2_X1) { area : 0.6; pin (A1) { direction : input; } pin (A2) { direction : input; }
    pin (ZN) { direction : output; function : "!(A1 | A2)"; } }
  cell ("NAND2X1") { area : 0.798; pin ("A") { direction : "input"; }
    pin ("B") { direction : "input"; } pin ("Y") { direction : "output"; function : "(A B)'"; } }
  cell (NAND3_X1) { area : 0.7; pin (A1) { direction : input; } pin (A2) { direction : input; }
    pin (A3) { direction : input; } pin (ZN) { direction : output; function : "!(A1 A2 A3)"; } }
  cell (DFF_X1) { area : 4.5; ff (IQ, IQN) { next_state : "D"; clocked_on : "CK"; }
    pin (D) { direction : input; } pin (CK) { direction : input; }
    pin (Q) { direction : output; function : "IQ"; } }
}
"""


def test_ge_cell_found_by_function_in_any_naming_style():
    assert ge_cell(OTHER_LIBRARY) == ("NAND2X1", 0.798)  # smaller than NAND2_X2, not AND2
    assert ge_cell(OTHER_LIBRARY, "NAND2_X2") == ("NAND2_X2", 1.33)  # --ge-cell
    with pytest.raises(LibertyError, match="GE cell NAND2_X4 not found"):
        ge_cell(OTHER_LIBRARY, "NAND2_X4")
    no_nand = OTHER_LIBRARY.replace('"!(A1 & A2)"', '"(A1 ^ A2)"').replace("(A B)'", "A + B")
    with pytest.raises(LibertyError, match="no 2-input NAND cell .* --ge-cell"):
        ge_cell(no_nand)


@pytest.mark.parametrize("function, truth", [
    ("!(A & B)", [1, 1, 1, 0]), ("(!A) | (!B)", [1, 1, 1, 0]), ("(A B)'", [1, 1, 1, 0]),
    ("A' + B'", [1, 1, 1, 0]), ("A * B", [0, 0, 0, 1]), ("A ^ B", [0, 1, 1, 0]),
    ("!(A ^ B)", [1, 0, 0, 1]), ("A | 1", [1, 1, 1, 1]), ("(A&!B) | (!A&B)", [0, 1, 1, 0]),
    ("A !B", [0, 0, 1, 0]), ("A B + !A !B", [1, 0, 0, 1]),
])
def test_liberty_functions(function, truth):
    tree = parse_function(function)
    got = [int(evaluate(tree, {"A": a, "B": b}))
           for a, b in itertools.product((False, True), repeat=2)]
    assert got == truth


@pytest.mark.parametrize("function", ["(A & B", "A &", "A ) B", ""])
def test_bad_liberty_functions(function):
    with pytest.raises(LibertyError, match="function"):
        parse_function(function)


def test_nothing_in_the_project_points_outside_it():
    """The package, its docs and the README stand alone: no path into a sibling folder."""
    root = Path(__file__).resolve().parents[2]
    folders = ["fp8forge", "golden", "hdl", "sim", "scripts", "experiments", "docs", "tests"]
    offenders = []
    for folder in folders:
        for path in (root / folder).rglob("*"):
            if path.suffix in (".py", ".md", ".toml", ".txt") and path != Path(__file__):
                if "../shared" in path.read_text(errors="replace") \
                        or "shared/pdk" in path.read_text(errors="replace"):
                    offenders.append(str(path.relative_to(root)))
    for name in ("README.md", "Makefile", "pyproject.toml"):
        if "../shared" in (root / name).read_text():
            offenders.append(name)
    assert not offenders
