"""``fp8forge project``: FP8 against the FP16 baseline on whole training steps.

Builds the two systems of a design point at equal MAC-array area and equal off-chip bandwidth,
runs the throughput model (``fp8forge.model.throughput``) on networks, and writes a report:
per layer and pass cycles, utilisation, bound and bytes; totals per step; the speedup; plots
of the speedup per layer, a roofline, and the sensitivity of the speedup to bandwidth, area
budget, batch and chunk size.

Where the numbers come from is part of the design point and printed with it: the area per
MAC and fmax from ``fp8forge synth --compare`` (``compare.json``), or given explicitly with
``area_ratio``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from fp8forge.errors import InputError
from fp8forge.files import atomic_write
from fp8forge.golden.design import BASELINE, PAPER
from fp8forge.model import throughput as model
from fp8forge.model.networks import Network, network
from fp8forge.model.throughput import LayerPass, System, array_shape
from fp8forge.plotting import save, subplots
from fp8forge.table import render

from .rowkeys import RowKey, array_key, axpy_key, index, label, pe_key

#: MacArray rows of the comparison, the largest first: the projection's arrays (32x32 and
#: more) are closest to the largest synthesized one.
ARRAY_SIDES = (16, 8, 4)
DEFAULT_SYNTH = Path("build/synth/compare/compare.json")


class DesignError(InputError):
    """The design point cannot be built (e.g. no synthesis results and no explicit ratio)."""


@dataclass(frozen=True)
class DesignPoint:
    """Everything that defines the two systems compared.

    ``baseline_macs`` is the area budget, in baseline PEs; the FP8 system gets as many FP8
    PEs as fit the same area. Clocks: both run at ``clock_ghz`` unless ``clock_from_synth``,
    which scales the FP8 clock by the synthesized fmax ratio of the PEs.
    """

    baseline_macs: int = 1024
    bandwidth_gbs: float = 64.0
    buffer_kib: int = 512
    clock_ghz: float = 1.0
    clock_from_synth: bool = False
    dataflow: str = "os"
    chunk: int | None = PAPER.chunk
    axpy_lanes: int = 32
    wide_first_last: bool = True
    area_ratio: float | None = None  # baseline PE area / FP8 PE area, given explicitly
    synth_json: Path = DEFAULT_SYNTH

    def with_(self, **changes) -> DesignPoint:
        return replace(self, **changes)


@dataclass
class Calibration:
    """Area ratio, fmax ratio and energy per MAC, with where each came from."""

    area_ratio: float
    fmax_ratio: float | None
    energy_pj: dict | None  # pJ per MAC and per AXPY of each system, and the method
    source: str
    #: baseline / FP8 area per MAC by chunk length (None: no chunking), where synthesized
    chunk_area_ratio: dict[int | None, float] = field(default_factory=dict)


def _synthesis_rows(path: Path) -> dict[RowKey, dict]:
    """The rows of a ``compare.json``, by key; DesignError naming the file if it is not one."""
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DesignError(f"cannot read synthesis results {path}: "
                          f"{exc.strerror if isinstance(exc, OSError) else exc}") from None
    if not (isinstance(data, list) and all(isinstance(r, dict) and RowKey.from_json(r.get("key"))
                                           and isinstance(r.get("area_um2"), int | float)
                                           for r in data)):
        raise DesignError(f"{path} is not a synthesis comparison of this version (a list of "
                          "rows with 'key' and 'area_um2', as `fp8forge synth --compare` "
                          "writes); rerun it")
    return index(data)


def calibrate(dp: DesignPoint) -> Calibration:
    """Read the synthesis comparison, or use the explicit ratio; DesignError if neither.

    Rows are found by the keys of the datapaths compared (``rowkeys``): the paper's with the
    design point's chunk length, and the baseline."""
    rows = _synthesis_rows(dp.synth_json) if dp.synth_json.exists() else {}
    fp8_dp = replace(PAPER, chunk=dp.chunk)
    plain_dp = replace(PAPER, chunk=None)  # the PE inside an FP8 array (one adder)
    base = rows.get(pe_key(BASELINE))
    chunks: dict[int | None, float] = {}
    if base:
        for key, r in rows.items():
            if key == pe_key(replace(PAPER, chunk=key.chunk)):
                chunks[key.chunk] = base["area_um2"] / r["area_um2"]
    if dp.area_ratio is not None:
        if not dp.area_ratio > 0:
            raise DesignError(f"area ratio must be > 0, got {dp.area_ratio}")
        fmax = None
        if base and pe_key(PAPER) in rows:
            fmax = _fmax_ratio(rows[pe_key(PAPER)], base)
        return Calibration(dp.area_ratio, fmax, None, "given explicitly (--area-ratio)", chunks)
    fp8 = rows.get(pe_key(fp8_dp))
    if base is None or fp8 is None:
        raise DesignError(f"no synthesis result for {label(pe_key(fp8_dp))!r} and "
                          f"{label(pe_key(BASELINE))!r} in {dp.synth_json}; run "
                          "`fp8forge synth --compare --liberty LIB` or give --area-ratio")
    fmax = _fmax_ratio(fp8, base)
    energy = None
    axpy8, axpy32 = rows.get(axpy_key(PAPER), {}), rows.get(axpy_key(BASELINE), {})
    # Energy per MAC of whole arrays (PEs, row-edge chunk adders, skews, FIFO) when the
    # comparison simulated them, else of the PEs alone.
    mac8, mac16 = fp8, base
    for n in ARRAY_SIDES:
        a8, a16 = rows.get(array_key(fp8_dp, n), {}), rows.get(array_key(BASELINE, n), {})
        if a8.get("energy_pj") and a16.get("energy_pj") and (dp.chunk is None or dp.chunk >= n):
            mac8, mac16 = a8, a16
            break
    if all(r.get("energy_pj") for r in (mac8, mac16, axpy8, axpy32)):
        energy = {"fp8": mac8["energy_pj"], "baseline": mac16["energy_pj"],
                  "fp8_axpy": axpy8["energy_pj"], "baseline_axpy": axpy32["energy_pj"],
                  "method": fp8.get("energy_method", ""), "mac_source": mac8["label"]
                  + " vs " + mac16["label"]}
    area_ratio = base["area_um2"] / fp8["area_um2"]
    source = f"synthesis: {dp.synth_json} ({fp8['label']} vs {base['label']})"
    # The arrays' area per MAC (PEs plus skews, FIFO, row-edge chunk adders and control) is
    # the better figure when the comparison has it for this configuration.
    side = next((n for n in ARRAY_SIDES if array_key(PAPER, n) in rows
                 and array_key(BASELINE, n) in rows), None)
    arr8 = rows.get(array_key(fp8_dp, side)) if side else None
    arr16 = rows.get(array_key(BASELINE, side)) if side else None
    # For every chunk length >= the array side the row-edge chunk adders are the synthesized ones.
    chunk_fits = side is not None and (dp.chunk is None or dp.chunk >= side)
    if arr16 and side is not None:
        # In a MacArray the chunk adders sit at the row edges, one per min(cols, CL) PEs: for
        # every chunk length >= the array side the hardware is the synthesized one.
        chunked = rows[array_key(PAPER, side)]
        chunks = {c: arr16["area_um2"] / chunked["area_um2"] for c in (16, 32, 64, 256)
                  if c >= side}
        plain = rows.get(array_key(plain_dp, side))
        if plain:
            chunks[None] = arr16["area_um2"] / plain["area_um2"]
    pe8 = rows.get(pe_key(plain_dp), {})
    scalable = all(r.get("best_area_um2") for r in (pe8, base))
    if dp.clock_from_synth and arr8 and arr16 and scalable and chunk_fits:
        # The arrays are synthesized at the equal clock; at each one's best clock their PEs
        # grow by what the standalone PEs grow (the FP8 one by upsizing for its faster clock).
        area_ratio = (arr16["area_um2"] / arr8["area_um2"]
                      * (pe8["area_um2"] / pe8["best_area_um2"])
                      * (base["best_area_um2"] / base["area_um2"]))
        source = (f"synthesis: {dp.synth_json} (area per MAC of {arr8['label']} vs "
                  f"{arr16['label']}, scaled to each PE's best clock, {fp8['best_clock_ns']:g} "
                  f"vs {base['best_clock_ns']:g} ns)")
    elif dp.clock_from_synth and fp8.get("best_area_um2") and base.get("best_area_um2"):
        # Each at its best clock: the areas of the netlists that meet those clocks.
        area_ratio = base["best_area_um2"] / fp8["best_area_um2"]
        source = (f"synthesis: {dp.synth_json} ({fp8['label']} vs {base['label']}, each at its "
                  f"best clock, {fp8['best_clock_ns']:g} vs {base['best_clock_ns']:g} ns)")
    elif arr8 and arr16 and chunk_fits:
        area_ratio = arr16["area_um2"] / arr8["area_um2"]
        source = (f"synthesis: {dp.synth_json} (area per MAC of {arr8['label']} vs "
                  f"{arr16['label']})")
    return Calibration(area_ratio, fmax, energy, source, chunks)


def _fmax_ratio(fp8: dict, base: dict) -> float | None:
    """FP8 fmax / baseline fmax: from the best clocks when the comparison found them, else
    from the critical paths of one mapping."""
    for key in ("best_clock_ns", "critical_path_ns"):
        if fp8.get(key) and base.get(key):
            return base[key] / fp8[key]
    return None


def build_systems(dp: DesignPoint, cal: Calibration) -> tuple[System, System]:
    """(FP8, baseline) at equal MAC area and equal bandwidth (assumptions in the report)."""
    if dp.clock_from_synth and cal.fmax_ratio is None:
        raise DesignError("--clock synth needs critical paths in the synthesis results")
    b_arrays, b_side = array_shape(dp.baseline_macs)
    f_arrays, f_side = array_shape(int(b_arrays * b_side * b_side * cal.area_ratio))
    fp8_clock = dp.clock_ghz * (cal.fmax_ratio if dp.clock_from_synth and cal.fmax_ratio else 1)
    common = dict(bandwidth_gbs=dp.bandwidth_gbs, buffer_bytes=dp.buffer_kib * 1024,
                  dataflow=dp.dataflow, axpy_lanes=dp.axpy_lanes)
    energy = cal.energy_pj or {}
    bl = BASELINE
    base = System(f"baseline {bl.in_fmt.name}/{bl.acc_fmt.name}", bl.in_fmt, bl.acc_fmt,
                  bl.in_fmt, bl.update_fmt, bl.chunk,
                  b_side, b_side, b_arrays, clock_ghz=dp.clock_ghz,
                  energy_pj_per_mac=energy.get("baseline"),
                  energy_pj_per_axpy=energy.get("baseline_axpy"), **common)
    # 16-bit layers of the FP8 recipe: the FP8 array's area at the baseline's MACs per area,
    # with accumulator-format operands (2 bytes for e6m9, as fp16) and accumulation.
    acc = PAPER.acc_fmt
    wide = replace(base, name="fp8 system, 16-bit layers", in_fmt=acc, acc_fmt=acc,
                   act_fmt=acc, update_fmt=PAPER.update_fmt, chunk=dp.chunk)
    fp8 = System(f"fp8 {PAPER.in_fmt.name}/{acc.name}", PAPER.in_fmt, acc, PAPER.in_fmt,
                 PAPER.update_fmt, dp.chunk,
                 f_side, f_side, f_arrays, clock_ghz=fp8_clock,
                 energy_pj_per_mac=energy.get("fp8"), energy_pj_per_axpy=energy.get("fp8_axpy"),
                 wide=wide if dp.wide_first_last else None, **common)
    return fp8, base


def wide_layers(net: Network) -> frozenset[str]:
    """The paper keeps the first and the last layer in 16 bits."""
    return frozenset({net.layers[0].name, net.layers[-1].name})


@dataclass
class Projection:
    net: str
    batch: int
    fp8: list[LayerPass]
    base: list[LayerPass]

    @property
    def speedup(self) -> float:
        return model.step_seconds(self.base) / model.step_seconds(self.fp8)


def project(dp: DesignPoint, net: Network, batch: int, cal: Calibration | None = None
            ) -> tuple[Projection, System, System]:
    cal = cal or calibrate(dp)
    fp8, base = build_systems(dp, cal)
    rows8 = model.training_step(fp8, net, batch, wide_layers=wide_layers(net))
    rows16 = model.training_step(base, net, batch)
    return Projection(net.name, batch, rows8, rows16), fp8, base


# -- sensitivity ------------------------------------------------------------------------------

SWEEPS: dict[str, tuple[str, list]] = {
    "bandwidth_gbs": ("off-chip bandwidth (GB/s)", [4, 8, 16, 32, 64, 128, 256, 512, 1024]),
    "baseline_macs": ("area budget (baseline PEs)", [64, 256, 1024, 4096, 16384]),
    "batch": ("batch size", [1, 4, 16, 32, 64, 256]),
    "chunk": ("chunk size (FP8 PE area ratio from synthesis)", [16, 32, 64, 256, None]),
}


def sweep(dp: DesignPoint, net: Network, batch: int, cal: Calibration,
          progress: Callable[[int, int, str], None] | None = None) -> dict[str, list]:
    """Speedup of ``net`` as each parameter of ``SWEEPS`` varies alone (others at ``dp``)."""
    out: dict[str, list] = {}
    total = sum(len(v) for _, v in SWEEPS.values())
    done = 0
    for key, (_, values) in SWEEPS.items():
        points = []
        for value in values:
            done += 1
            if progress:
                progress(done, total, f"{net.name} {key}={value}")
            point_dp, point_batch, point_cal = dp, batch, cal
            if key == "batch":
                point_batch = value
            elif key == "chunk":
                if value not in cal.chunk_area_ratio:
                    continue  # no synthesis result for this chunk length
                point_cal = replace(cal, area_ratio=cal.chunk_area_ratio[value])
                point_dp = dp.with_(chunk=value)
            else:
                point_dp = dp.with_(**{key: value})
            proj, _, _ = project(point_dp, net, point_batch, point_cal)
            points.append([value, proj.speedup])
        if points:  # the chunk sweep needs synthesis results
            out[key] = points
    return out


def text_progress(stream=None) -> Callable[[int, int, str], None]:
    """Progress on ``stream`` (default stderr): a bar redrawn in place on a terminal, one plain
    line per step otherwise (a log file or a pipe gets no carriage returns)."""
    def show(done: int, total: int, what: str) -> None:
        out = stream or sys.stderr
        if not (hasattr(out, "isatty") and out.isatty()):
            out.write(f"[{done}/{total}] {what}\n")
        else:
            width = 30
            filled = width * done // total
            out.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {what:<40}")
            if done == total:
                out.write("\n")
        out.flush()
    return show


# -- report -----------------------------------------------------------------------------------

ASSUMPTIONS = model.ASSUMPTIONS.strip()


def _system_line(s: System) -> str:
    line = (f"{s.arrays} x {s.rows}x{s.cols} {s.dataflow} MacArray ({s.macs} MACs), "
            f"{s.in_fmt.name} x {s.in_fmt.name} -> {s.acc_fmt.name}"
            f"{'' if s.chunk is None else f' chunk {s.chunk}'}, outputs {s.act_fmt.name}, "
            f"updates {s.update_fmt.name}, {s.clock_ghz:.3g} GHz, "
            f"{s.bandwidth_gbs:g} GB/s ({s.bytes_per_cycle:.3g} B/cycle), "
            f"{s.buffer_bytes // 1024} KiB per operand buffer, {s.axpy_lanes} AXPY lanes")
    return line


def _totals(rows: list[LayerPass], system: System) -> dict:
    secs = model.step_seconds(rows)
    macs = sum(r.cost.macs for r in rows)
    return {"seconds": secs, "macs": macs, "bytes": sum(r.cost.bytes for r in rows),
            "gmacs_per_s": macs / secs / 1e9, "energy_mj": step_energy_mj(rows, system),
            "by_pass": {p: sum(r.cost.seconds for r in rows if r.pass_ == p)
                        for p in ("fwd", "dgrad", "wgrad", "update")}}


#: Figures of ``run_project``: one per network (``<net>-speedup.png``) and these two for all.
ROOFLINE_PNG = "roofline.png"
SENSITIVITY_PNG = "sensitivity.png"


def why_markdown(data: dict, image_dir: str = "") -> list[str]:
    """Per network of ``run_project``'s result: where the speedup comes from (per pass, the
    memory-bound share), with its figures from ``image_dir``. Markdown lines."""
    lines = []
    for net in data["networks"]:
        by8, by16 = net["fp8"]["total"]["by_pass"], net["baseline"]["total"]["by_pass"]
        mem = sum(r["seconds"] for r in net["fp8"]["rows"] if r["bound"] == "memory")
        total = net["fp8"]["total"]["seconds"]
        name = net["net"]
        lines += [f"**{name}** ({net['speedup']:.2f}x): "
                  + ", ".join(f"{p} {by16[p] / by8[p]:.2f}x" for p in by8)
                  + f". {mem / total:.0%} of the FP8 step is in memory-bound GEMMs and updates, "
                  "which gain from half the bytes per operand; compute-bound GEMMs gain from the "
                  f"{data['calibration']['area_ratio']:.2f}x MACs per area, less what the "
                  "larger array loses to edge tiles; the 16-bit first and last layers gain "
                  "nothing.", "",
                  f"![speedup per layer]({image_dir}{name}-speedup.png)", ""]
    lines += [f"![roofline]({image_dir}{ROOFLINE_PNG})", ""]
    if any(net["sensitivity"] for net in data["networks"]):
        lines += [f"![sensitivity]({image_dir}{SENSITIVITY_PNG})", ""]
    return lines


def step_energy_mj(rows: list[LayerPass], system: System) -> float | None:
    """MAC-array and AXPY energy of a step (off-chip memory not included), or None when the
    synthesis results carry no energy. 16-bit layers use their system's (the baseline's)
    energy per MAC."""
    total = 0.0
    for r in rows:
        s = system.wide if r.wide and system.wide is not None else system
        per = s.energy_pj_per_mac if r.pass_ != "update" else s.energy_pj_per_axpy
        if per is None:
            return None
        total += per * (r.cost.macs if r.pass_ != "update" else 3 * r.m)
    return total * 1e-9


def per_layer(proj: Projection) -> list[dict]:
    """One row per layer: seconds of each system over all its passes and the speedup."""
    out: dict[str, dict] = {}
    for r8, r16 in zip(proj.fp8, proj.base, strict=True):
        row = out.setdefault(r8.layer, {"layer": r8.layer, "fp8_s": 0.0, "base_s": 0.0,
                                        "wide": False})
        row["fp8_s"] += r8.cost.seconds
        row["base_s"] += r16.cost.seconds
        row["wide"] |= r8.wide
    for row in out.values():
        row["speedup"] = row["base_s"] / row["fp8_s"]
    return list(out.values())


def to_json(dp: DesignPoint, cal: Calibration, fp8: System, base: System,
            projections: list[Projection], sweeps: dict[str, dict]) -> dict:
    def pass_rows(rows):
        return [{"layer": r.layer, "pass": r.pass_, "M": r.m, "N": r.n, "K": r.k,
                 "wide": r.wide, "cycles": r.cost.cycles, "compute_cycles": r.cost.compute_cycles,
                 "memory_cycles": r.cost.memory_cycles, "bytes": r.cost.bytes,
                 "macs": r.cost.macs, "seconds": r.cost.seconds, "bound": r.cost.bound,
                 "utilisation": r.cost.utilisation} for r in rows]
    return {
        "design_point": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(dp).items()},
        "calibration": asdict(cal) | {"chunk_area_ratio": [  # [chunk or null, ratio]
            [chunk, ratio] for chunk, ratio in cal.chunk_area_ratio.items()]},
        "systems": {"fp8": _system_line(fp8), "baseline": _system_line(base)},
        "networks": [{"net": p.net, "batch": p.batch, "speedup": p.speedup,
                      "fp8": {"total": _totals(p.fp8, fp8), "rows": pass_rows(p.fp8)},
                      "baseline": {"total": _totals(p.base, base), "rows": pass_rows(p.base)},
                      "sensitivity": sweeps.get(p.net, {})} for p in projections],
    }


def summary_markdown(data: dict, markdown: bool = True) -> str:
    """The per-network totals of a ``to_json`` result as a table."""
    rows = []
    for n in data["networks"]:
        t8, t16 = n["fp8"]["total"], n["baseline"]["total"]
        rows.append([n["net"], n["batch"], f"{t16['seconds'] * 1e3:.2f}",
                     f"{t8['seconds'] * 1e3:.2f}", f"{n['speedup']:.2f}x",
                     f"{t16['gmacs_per_s']:.0f}", f"{t8['gmacs_per_s']:.0f}",
                     f"{t16['bytes'] / 1e6:.0f}", f"{t8['bytes'] / 1e6:.0f}"])
        if t8["energy_mj"] is not None and t16["energy_mj"] is not None:
            rows[-1] += [f"{t16['energy_mj']:.1f}", f"{t8['energy_mj']:.1f}",
                         f"{t16['energy_mj'] / t8['energy_mj']:.2f}x"]
    header = ["network", "batch", "baseline ms/step", "FP8 ms/step", "speedup",
              "baseline GMAC/s", "FP8 GMAC/s", "baseline MB", "FP8 MB"]
    if rows and len(rows[0]) > len(header):
        header += ["baseline mJ/step", "FP8 mJ/step", "energy ratio"]
    return render(header, rows, markdown=markdown)


def markdown(dp: DesignPoint, cal: Calibration, fp8: System, base: System,
             projections: list[Projection], sweeps: dict[str, dict], command: str,
             data: dict) -> str:
    lines = [
        "# Throughput projection: FP8 training vs the FP16 baseline", "",
        f"Produced by `{command}`.", "",
        "## Systems (equal MAC-array area, equal off-chip bandwidth)", "",
        f"- **FP8**: {_system_line(fp8)}",
        f"- **Baseline**: {_system_line(base)}",
        f"- Area per MAC ratio baseline/FP8 = {cal.area_ratio:.3f}, {cal.source}. The budget "
        f"is {dp.baseline_macs} baseline PEs; the FP8 system gets the PEs that fit the same "
        "area (array overhead outside the PEs is not counted), as the fewest square arrays of "
        f"side <= {model.MAX_ARRAY_SIDE}.",
        "- Clock: " + (f"FP8 scaled by the synthesized fmax ratio {cal.fmax_ratio:.2f}."
                       if dp.clock_from_synth else
                       "the same for both (the synthesized PEs are unpipelined, so their fmax is "
                       "not the chip clock; `--clock synth` scales FP8 by the fmax ratio"
                       + (f" {cal.fmax_ratio:.2f}" if cal.fmax_ratio else "") + ")."),
        "- 16-bit layers: " + ("the first and last layer of the FP8 system run with e6m9 "
                               "operands at the baseline's MACs per area (a multi-precision "
                               "array), as the paper keeps them in 16 bits."
                               if dp.wide_first_last else "none (FP8 everywhere)."),
        "- Energy (MAC arrays and AXPY lanes; off-chip memory not included): " + (
            f"{cal.energy_pj['fp8']:.3g} pJ/MAC FP8, {cal.energy_pj['baseline']:.3g} pJ/MAC "
            f"baseline (also for the FP8 system's 16-bit layers), "
            f"{cal.energy_pj['fp8_axpy']:.3g} / {cal.energy_pj['baseline_axpy']:.3g} pJ per "
            f"AXPY; per MAC from {cal.energy_pj.get('mac_source', cal.source)}; method: "
            f"{cal.energy_pj['method']}."
            if cal.energy_pj else "not modelled: the synthesis results carry no energy."),
        "", "## Model assumptions", "", ASSUMPTIONS, "",
        "## Summary (one training step)", "", summary_markdown(data), "",
        f"![roofline]({ROOFLINE_PNG})", "",
    ] + ([f"![sensitivity]({SENSITIVITY_PNG})", ""] if sweeps else [])
    for p, net in zip(projections, data["networks"], strict=True):
        lines += [f"## {p.net}, batch {p.batch}: speedup {p.speedup:.2f}x", ""]
        t8, t16 = net["fp8"]["total"], net["baseline"]["total"]
        lines.append(render(["pass", "baseline ms", "FP8 ms", "speedup"],
                            [[k, f"{t16['by_pass'][k] * 1e3:.3f}", f"{t8['by_pass'][k] * 1e3:.3f}",
                              f"{t16['by_pass'][k] / t8['by_pass'][k]:.2f}x"]
                             for k in t8["by_pass"]], markdown=True))
        lines += ["", f"![speedup per layer]({p.net}-speedup.png)", ""]
        if p.net in sweeps:
            lines += [render(["parameter", "value: speedup"],
                             [[SWEEPS[k][0], ", ".join(f"{v}: {s:.2f}x" for v, s in pts)]
                              for k, pts in sweeps[p.net].items()], markdown=True), ""]
        lines += ["<details><summary>per layer and pass</summary>", "",
                  _pass_table(p), "", "</details>", ""]
    return "\n".join(lines)


def _pass_table(p: Projection) -> str:
    rows = []
    for r8, r16 in zip(p.fp8, p.base, strict=True):
        rows.append([r8.layer + (" (16-bit)" if r8.wide else ""), r8.pass_,
                     f"{r8.m}x{r8.n}x{r8.k}" if r8.pass_ != "update" else f"{r8.m} weights",
                     r16.cost.cycles, f"{r16.cost.utilisation:.2f}", r16.cost.bound,
                     r8.cost.cycles, f"{r8.cost.utilisation:.2f}", r8.cost.bound,
                     f"{r16.cost.bytes / 1e6:.2f}", f"{r8.cost.bytes / 1e6:.2f}",
                     f"{r16.cost.seconds / r8.cost.seconds:.2f}x"])
    return render(["layer", "pass", "MxNxK", "base cycles", "base util", "base bound",
                   "FP8 cycles", "FP8 util", "FP8 bound", "base MB", "FP8 MB", "speedup"],
                  rows, markdown=True)


# -- plots ------------------------------------------------------------------------------------

def plot_speedup(p: Projection, path: Path) -> None:
    layers = per_layer(p)
    fig, ax = subplots(figsize=(max(6, 0.18 * len(layers) + 2), 4))
    colors = ["#999999" if r["wide"] else "#4c72b0" for r in layers]
    ax.bar(range(len(layers)), [r["speedup"] for r in layers], color=colors)
    ax.axhline(p.speedup, color="#c44e52", lw=1, label=f"whole step {p.speedup:.2f}x")
    ax.set_xticks(range(len(layers)), [r["layer"] for r in layers], rotation=90, fontsize=6)
    ax.set_ylabel("speedup FP8 / baseline")
    ax.set_title(f"{p.net}, batch {p.batch}: per layer, fwd + dgrad + wgrad + update\n"
                 "(grey: 16-bit layers)", fontsize=9)
    ax.legend()
    width = fig.get_figwidth()
    save(fig, path, margins=dict(left=0.9 / width, right=1 - 0.2 / width, top=0.88, bottom=0.3))


def plot_roofline(projections: Sequence[Projection], fp8: System, base: System,
                  path: Path) -> None:
    """One roofline for every network: the two systems' roofs (the same for all networks) and
    every GEMM of each training step, a marker per network."""
    import numpy as np
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter

    fig, ax = subplots(figsize=(6.5, 4.5))
    intensity = np.logspace(-1, 4, 200)
    colors = {base.name: "#dd8452", fp8.name: "#4c72b0"}
    for s in (base, fp8):
        peak = s.macs * s.clock_ghz  # GMAC/s
        ax.loglog(intensity, np.minimum(peak, intensity * s.bandwidth_gbs), color=colors[s.name],
                  label=f"{s.name} roof")
    markers = "os^Dvp*"
    for i, p in enumerate(projections):
        for s, rows in ((base, p.base), (fp8, p.fp8)):
            gemms = [r for r in rows if r.cost.macs and not r.wide]
            ax.scatter([r.cost.macs / r.cost.bytes for r in gemms],
                       [r.cost.macs / r.cost.seconds / 1e9 for r in gemms], s=9,
                       color=colors[s.name], marker=markers[i % len(markers)], alpha=0.55)
    handles, _ = ax.get_legend_handles_labels()
    handles += [Line2D([], [], ls="", marker=markers[i % len(markers)], color="#555555",
                       label=p.net) for i, p in enumerate(projections)]
    ax.minorticks_off()  # log axes draw dozens of minor ticks: most of this figure's time
    # Plain tick labels: the default 10^k labels go through mathtext, whose parser costs
    # about half a second to build.
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    ax.xaxis.set_major_formatter(plain)
    ax.yaxis.set_major_formatter(plain)
    ax.set_xlabel("arithmetic intensity (MAC per off-chip byte)")
    ax.set_ylabel("GMAC/s")
    ax.set_title(f"every GEMM of a training step, batch {projections[0].batch}")
    ax.legend(handles=handles, fontsize=8)
    save(fig, path, margins=dict(left=0.13, right=0.97, top=0.92, bottom=0.12))


def plot_sensitivity(sweeps: dict[str, dict[str, list]], path: Path) -> None:
    """The speedup against each swept parameter, a line per network (``sweeps``: network ->
    parameter -> [(value, speedup)])."""
    keys = list(next(iter(sweeps.values())))
    fig, axes = subplots(1, len(keys), figsize=(3.2 * len(keys), 3.4), sharey=True,
                         squeeze=False)
    for ax, key in zip(axes[0], keys, strict=True):
        for net, by_key in sweeps.items():
            pts = by_key.get(key, [])
            ax.plot(range(len(pts)), [s for _, s in pts], "o-", ms=3, label=net)
        pts = next(iter(sweeps.values()))[key]
        ax.set_xticks(range(len(pts)), ["none" if v is None else str(v) for v, _ in pts],
                      fontsize=7)
        ax.set_xlabel(SWEEPS[key][0], fontsize=8)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("speedup FP8 / baseline")
    axes[0][0].legend(fontsize=7)
    fig.suptitle("sensitivity of the training-step speedup")
    width = fig.get_figwidth()
    save(fig, path, margins=dict(left=0.6 / width, right=1 - 0.1 / width, top=0.86,
                                 bottom=0.2, wspace=0.08))


def run_project(dp: DesignPoint, nets: Sequence[str], batch: int, out_dir: Path, *,
                sensitivity: bool = True, plots: bool = True, command: str = "fp8forge project",
                progress: Callable[[int, int, str], None] | None = None) -> dict:
    """Project every network, write project.json/.md and (with ``plots``) PNGs into
    ``out_dir``; return JSON."""
    cal = calibrate(dp)
    networks = [network(n) for n in nets]
    projections, sweeps = [], {}
    fp8 = base = None
    for net in networks:
        proj, fp8, base = project(dp, net, batch, cal)
        projections.append(proj)
        if sensitivity:
            sweeps[net.name] = sweep(dp, net, batch, cal, progress)
    assert fp8 is not None and base is not None
    out_dir.mkdir(parents=True, exist_ok=True)
    if plots:
        for p in projections:
            plot_speedup(p, out_dir / f"{p.net}-speedup.png")
        plot_roofline(projections, fp8, base, out_dir / ROOFLINE_PNG)
        if sweeps:
            plot_sensitivity(sweeps, out_dir / SENSITIVITY_PNG)
    data = to_json(dp, cal, fp8, base, projections, sweeps)
    atomic_write(out_dir / "project.json", json.dumps(data, indent=1))
    atomic_write(out_dir / "project.md", markdown(dp, cal, fp8, base, projections, sweeps,
                                                 command, data))
    return data
