"""``fp8forge synth --compare``: the FP8 datapath against the FP16 baseline, same flow and library.

Rows (each one ``synthesize`` run, cached): the MAC PE in several configurations, the AXPY
weight-update lane in e6m9 with SR against fp32 with RNE, and the LFSR cost per lane when one
LFSR feeds 1, 4 or 16 lanes of 12 random bits. Writes ``compare.json``, ``compare.md`` and a
bar chart ``compare.png`` of the gate equivalents. MacArray rows (4x4, 8x8 and 16x16, FP8 and
baseline) give the area per MAC and the whole array's timing and (up to 8x8) energy per MAC,
from a hierarchical synthesis (``array_row``, ``scripts/hierarchy.py``).

Clocks. Every row is mapped timing-driven at one stated clock: by default the *equal clock*,
the best clock of the baseline PE (the slower design), so the FP8 units are compared at a clock
the baseline meets; ``clock_ns`` states another. Each PE of ``CLOCKED`` is also mapped at its
own *best clock*: the shortest period (in 0.1 ns steps) its timing-driven netlist meets
(``best_clock``). Its row carries both, and the ratios give throughput per area (MAC/s per
µm², one MAC per cycle) and energy per MAC at the equal clock and at the best clocks.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

from fp8forge.files import atomic_write
from fp8forge.golden import PRESETS, Rounding
from fp8forge.golden.design import BASELINE, PAPER, Datapath
from fp8forge.hdl.accumulator import MacPE
from fp8forge.hdl.arith import FpAdd, FpFma, FpMul
from fp8forge.hdl.generate import generate_verilog
from fp8forge.hdl.lfsr import Lfsr
from fp8forge.plotting import save
from fp8forge.table import render

from .accumulator_activity import accumulator_toggles_per_mac
from .array_blocks import BLOCKS as BLOCK_NAMES
from .array_blocks import PES, array_blocks
from .rowkeys import (
    GATED,
    PIPELINED,
    SHARED_ADDER,
    RowKey,
    adder_key,
    array_key,
    axpy_key,
    index,
    label,
    lfsr_key,
    multiplier_key,
    pe_key,
)
from .synth import SynthError, SynthReport, synthesize

P = PRESETS

def _value(figure: float | None) -> float:
    """A liberty figure of a report; every comparison maps with a liberty, so it is set."""
    if figure is None:
        raise SynthError("a synthesis report lacks its liberty figures (area, GE)")
    return figure


def _chunked(chunk: int | None) -> Datapath:
    """The paper's datapath with another chunk length (None: no chunking)."""
    return replace(PAPER, chunk=chunk)


def _pe(dp: Datapath, **options) -> Callable[[], object]:
    return partial(MacPE, dp.in_fmt, dp.acc_fmt, chunk=dp.chunk, **options)


#: The paper's PE without chunking: the PE inside an FP8 MacArray (one adder).
PLAIN = _chunked(None)
#: Other operand formats, for reference (same chunking as their neighbours).
E4M3 = replace(PAPER, in_fmt=P["e4m3fn"])
BF16 = replace(BASELINE, in_fmt=P["bf16"])

#: row key -> (group, builder, operations per unit for "per lane" normalisation)
CONFIGS: dict[RowKey, tuple[str, Callable[[], object], int]] = {
    pe_key(PAPER): ("PE", _pe(PAPER), 1),
    pe_key(PLAIN): ("PE", _pe(PLAIN), 1),
    # Other chunk lengths, for the throughput model's chunk-size sensitivity.
    **{pe_key(_chunked(c)): ("PE chunk", _pe(_chunked(c)), 1) for c in (16, 32, 256)},
    # One adder for inner and outer sums, a bubble cycle per chunk (64 MACs per 65 cycles).
    pe_key(PAPER, SHARED_ADDER): ("PE chunk", _pe(PAPER, chunk_adder="shared"), 1),
    pe_key(BASELINE): ("PE", _pe(BASELINE), 1),
    # Pipelined for a short clock: the product registered and the accumulation loop(s) cut once,
    # two dot products interleaved (MacPE stages=1, interleave=2); the same options for both.
    **{pe_key(dp, PIPELINED): ("PE pipelined", _pe(dp, stages=1, interleave=2), 1)
       for dp in (PAPER, PLAIN, BASELINE)},
    pe_key(E4M3): ("PE", _pe(E4M3), 1),
    pe_key(BF16): ("PE", _pe(BF16), 1),
    axpy_key(PAPER): ("AXPY", lambda: FpFma(PAPER.update_fmt, rounding=PAPER.update_rounding,
                                            rbits=PAPER.rbits), 1),
    axpy_key(BASELINE): ("AXPY", lambda: FpFma(BASELINE.update_fmt,
                                               rounding=BASELINE.update_rounding), 1),
    # The same e6m9 lane rounding to nearest: what SR itself costs.
    axpy_key(PAPER, Rounding.RNE): ("AXPY", lambda: FpFma(PAPER.update_fmt,
                                                          rounding=Rounding.RNE), 1),
    # One LFSR feeding 1, 4 or 16 lanes of PAPER.rbits random bits, per lane.
    **{lfsr_key(n): ("LFSR", partial(Lfsr, width, outputs=n * PAPER.rbits), n)
       for n, width in ((1, 32), (4, 48), (16, 64))},
}


# Rows of variant GATED are synthesized with integrated clock-gating cells
# (``synthesize(clock_gating=True)``): flip-flops sharing an enable get one gated clock.
CONFIGS.update({pe_key(dp, GATED): CONFIGS[pe_key(dp)] for dp in (PAPER, PLAIN, BASELINE)})


#: The blocks of the two one-adder PEs, synthesized alone at the same clock, area only: a
#: per-block breakdown (``block_table``). Approximate by construction: inside the FP8 PE the
#: exact product is fused into the adder's alignment (no rounding, packing or unpacking),
#: which standalone units cannot show; the PE's registers come from the PE's own netlist.
BLOCKS: dict[RowKey, Callable[[], object]] = {
    multiplier_key(PAPER): lambda: FpMul(PAPER.in_fmt, PAPER.acc_fmt),
    adder_key(PAPER): lambda: FpAdd(PAPER.acc_fmt),
    multiplier_key(BASELINE): lambda: FpMul(BASELINE.in_fmt, BASELINE.acc_fmt),
    adder_key(BASELINE): lambda: FpAdd(BASELINE.acc_fmt),
}


#: The PEs compared at equal and at best clocks (the fair baseline is ``pe_key(BASELINE)``).
CLOCKED = tuple(pe_key(dp, variant) for variant in ("", PIPELINED)
                for dp in (PAPER, PLAIN, BASELINE))

#: ABC's delay target when looking for a design's fastest netlist (no library design reaches
#: it, so ABC maps, buffers and sizes for minimum delay).
TIGHT_NS = 1.0


def best_clock(verilog: str, *, liberty, cache_dir: Path, timing: str = "auto",
               ge_cell: str | None = None) -> tuple[float, SynthReport] | None:
    """The shortest clock period in 0.1 ns steps that ``verilog`` meets with timing-driven
    mapping, and the netlist mapped for it. The search starts from the critical path of the
    netlist mapped for minimum delay (target ``TIGHT_NS``) and steps up (by 0.1 ns, or to the
    critical path the last mapping achieved, whichever is more) until the mapping for the
    period meets it (mapping for a looser target recovers area). None when no timing tool is
    available."""
    kw = dict(liberty=liberty, cache_dir=cache_dir, timing=timing, ge_cell=ge_cell)
    fastest = synthesize(verilog, "unit", clock_ns=TIGHT_NS, **kw)
    if fastest.critical_path_ns is None:
        return None
    period = math.ceil(round(fastest.critical_path_ns * 10, 6)) / 10
    for _ in range(20):
        report = synthesize(verilog, "unit", clock_ns=period, **kw)
        if report.slack_ns is not None and report.slack_ns >= 0:
            break
        if report.critical_path_ns is None:
            return None
        # next: at least 0.1 ns more, and no less than what this mapping achieved
        period = max(round(period + 0.1, 1),
                     math.ceil(round(report.critical_path_ns * 10, 6)) / 10)
    return period, report


def gmacs_per_mm2(clock_ns: float, area_um2: float) -> float:
    """Throughput per area of a unit doing one MAC per cycle: GMAC/s per mm²."""
    return 1e6 / (clock_ns * area_um2)


#: MacArray rows: key -> (datapath, side). Their area is hierarchical (see array_row).
ARRAYS = {array_key(dp, n): (dp, n) for n in (4, 8, 16) for dp in (PAPER, PLAIN, BASELINE)}
#: Clock gating where it can pay most: the hold and outer-sum registers of whole arrays (at two
#: sides, for what chunking costs with both arrays gated; every design gated alike).
ARRAYS.update({array_key(dp, n, GATED): (dp, n) for n in (4, 8) for dp in (PAPER, PLAIN, BASELINE)})


#: Array sides whose energy per MAC is measured (the composed array simulated at gate level,
#: see ``scripts/hierarchy.py``: about 7 minutes for an FP8 8x8 array and 15 for the baseline's
#: on Icarus; a 16x16 array would take four times as long), and the cycles simulated (each
#: carries rows x cols MACs, so fewer than for a PE give as many MACs; 400 cycles of an 8x8
#: array are 25,600 MACs and close 6 chunks of 64 per PE).
ARRAY_ENERGY_SIDES = (4, 8)
ARRAY_ENERGY_CYCLES = {8: 400, 16: 300}


#: The array's energy split: its PEs (cells of the composed PE instances) and the rest
#: (skew and forwarding registers, row-edge accumulators, output FIFO, control).
def array_energy_cycles(side: int) -> int:
    """Cycles simulated for the energy of a side x side array (600 up to 4x4)."""
    return ARRAY_ENERGY_CYCLES.get(side, 600)


def array_row(key: RowKey, liberty, cache_dir: Path, clock_ns: float | None,
              timing: str = "auto", ge_cell: str | None = None, energy: bool = False,
              simulator: str = "auto",
              energy_sides: tuple[int, ...] = ARRAY_ENERGY_SIDES) -> dict:
    """Area per MAC of a MacArray, hierarchically (``hierarchy.synthesize_array``: one PE of
    the array synthesized alone, times rows x cols, plus everything else synthesized with the
    PEs as black boxes), and the timing of the whole array (OpenSTA on the composed netlist,
    when installed; else the PE's). With ``energy``, arrays of ``energy_sides`` also get
    the energy per MAC of the whole composed array, simulated at gate level (one beat per
    cycle, ``stimulus_for``)."""
    from .hierarchy import array_timing, compose, synthesize_array

    dp, side = ARRAYS[key]
    gating = key.variant == GATED
    try:
        arr = synthesize_array(dp.in_fmt, dp.acc_fmt, dp.chunk, side, side, liberty=liberty,
                               cache_dir=cache_dir, clock_ns=clock_ns, timing=timing,
                               ge_cell=ge_cell, clock_gating=gating)
        whole = array_timing(arr, liberty, cache_dir, clock_ns, timing)
    except SynthError as exc:
        raise SynthError(f"{label(key)}: {exc}") from None
    n = arr.macs
    area = arr.total("area_um2")
    out = {"label": label(key), "key": key.to_json(), "group": "MacArray", "per": n,
           "area_um2": area / n,
           "ge": arr.total("gate_equivalents") / n,
           "transistors": arr.total("transistors") / n,
           "critical_path_ns": arr.pe.critical_path_ns, "timing_source": arr.pe.timing_source,
           "clock_ns": clock_ns, "slack_ns": arr.pe.slack_ns,
           "pe_critical_path_ns": arr.pe.critical_path_ns,
           "energy_pj": None, "array_overhead": _value(arr.rest.area_um2) / area,
           "yosys": arr.pe.yosys}
    if whole:
        crit = whole["critical_path_ns"]
        out.update(critical_path_ns=crit, timing_source=whole["timing_source"] + " (whole array)",
                   slack_ns=None if clock_ns is None else clock_ns - crit,
                   paths_ns=whole["paths_ns"])
    if energy and side in energy_sides:
        from .energy import METHOD, netlist_energy_report

        e = netlist_energy_report(arr.unit, compose(arr, liberty, cache_dir), "unit",
                                  liberty=liberty, clock_ns=clock_ns, simulator=simulator,
                                  cycles=array_energy_cycles(side), parts=array_blocks)
        blocks = {b: e.parts_pj_per_op.get(b, 0.0) for b in BLOCK_NAMES}
        out.update(energy_pj=e.energy_pj_per_op, energy_method=METHOD, energy_stimulus=e.stimulus,
                   energy_clock_ns=e.clock_ns, energy_simulator=e.simulator,
                   clock_energy_pj=e.clock_pj_per_op, energy_blocks_pj=blocks,
                   pe_energy_pj=blocks[PES],
                   rest_energy_pj=e.energy_pj_per_op - blocks[PES])
    return out


def row_order() -> list[RowKey]:
    """Every row of a full comparison, in the order of its report."""
    return [*CONFIGS, *BLOCKS, *ARRAYS]


def select(only: str | None) -> list[RowKey]:
    """The rows whose label contains ``only`` (every row if None); SynthError naming the
    labels if none does."""
    keys = row_order()
    if only is None:
        return keys
    chosen = [key for key in keys if only in label(key)]
    if not chosen:
        raise SynthError(f"--only {only!r} matches no row of the comparison; rows: "
                         + "; ".join(label(key) for key in keys))
    return chosen


def merge_rows(old: list[dict], new: list[dict]) -> list[dict]:
    """``old`` with the rows of ``new`` replacing those of the same key (or added), in report
    order; rows of ``old`` without a key (an older comparison) are dropped."""
    merged = index(old) | index(new)
    order = {key: i for i, key in enumerate(row_order())}
    return [row for _, row in sorted(merged.items(),
                                      key=lambda item: order.get(item[0], len(order)))]


def _stored_rows(path: Path) -> list[dict]:
    """The rows of an existing compare.json, or [] if there is none or it is not readable."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    return data if isinstance(data, list) and all(isinstance(r, dict) for r in data) else []


def run_compare(liberty, out_dir: Path, *, cache_dir: Path, clock_ns: float | None = None,
                progress=print, energy: bool = True, timing: str = "auto",
                ge_cell: str | None = None, simulator: str = "auto",
                array_energy_sides: tuple[int, ...] = ARRAY_ENERGY_SIDES,
                only: str | None = None) -> list[dict]:
    """Synthesize every configuration (timing from ``timing``, GE per ``ge_cell``: see
    ``synthesize``) timing-driven at ``clock_ns`` (None: the baseline PE's best clock; see the
    module docstring) and, with ``energy``, measure the energy of each (gate-level simulation on
    ``simulator``, see ``energy_simulator``; per lane for the LFSR rows; for the arrays of
    ``array_energy_sides``, per MAC, split between PEs and the rest). The ``BLOCKS`` are area
    only. The ``CLOCKED`` PEs also get ``best_*``
    figures at their own best clock. Write compare.json/.md/.png; return the rows. Each row
    names the tools behind its numbers. Without any timing tool every row is mapped for area.

    ``only``: measure just the rows whose label contains it (``select``) and merge them into
    the ``compare.json`` already in ``out_dir`` (``merge_rows``); the equal clock is still the
    baseline PE's best clock unless ``clock_ns`` is given. Return every row written."""
    from .energy import METHOD, estimate_energy

    chosen = set(select(only))
    kw = dict(liberty=liberty, cache_dir=cache_dir, timing=timing, ge_cell=ge_cell)
    best: dict[RowKey, tuple[float, SynthReport]] = {}
    clocked = [key for key in CLOCKED if key in CONFIGS and key in chosen]
    if clock_ns is None and pe_key(BASELINE) not in clocked:
        clocked.insert(0, pe_key(BASELINE))  # the equal clock
    for i, key in enumerate(clocked, 1):
        progress(f"[best clock {i}/{len(clocked)}] {label(key)}")
        found = best_clock(generate_verilog(CONFIGS[key][1](), "unit"), **kw)
        if found is not None:
            best[key] = found
    if clock_ns is None and pe_key(BASELINE) in best:
        clock_ns = best[pe_key(BASELINE)][0]
    stored = _stored_rows(out_dir / "compare.json") if only is not None else []
    clocks = {r.get("clock_ns") for r in stored}
    if stored and clocks != {clock_ns}:
        raise SynthError(f"{out_dir / 'compare.json'} was measured at "
                         f"{', '.join(f'{c} ns' for c in sorted(clocks, key=str))}, this run at "
                         f"{clock_ns} ns: --only would mix clocks in one report (give "
                         "--clock-ns to match, or another -o)")
    configs = {key: config for key, config in CONFIGS.items() if key in chosen}
    blocks = {key: build for key, build in BLOCKS.items() if key in chosen}
    arrays = [key for key in ARRAYS if key in chosen]

    def energy_of(unit, verilog: str, clock: float | None, per: int, gating: bool) -> dict:
        e = estimate_energy(unit, verilog, "unit", liberty=liberty, cache_dir=cache_dir,
                            clock_ns=clock, timing=timing, simulator=simulator,
                            clock_gating=gating)
        return dict(energy_pj=e.energy_pj_per_op / per, energy_method=METHOD,
                    energy_stimulus=e.stimulus, energy_clock_ns=e.clock_ns,
                    energy_simulator=e.simulator, clock_energy_pj=e.clock_pj_per_op / per)

    rows = []
    for i, (key, (group, build, per)) in enumerate(configs.items(), 1):
        progress(f"[{i}/{len(configs)}] {label(key)}")
        unit = build()
        verilog = generate_verilog(unit, "unit")
        gating = key.variant == GATED
        report: SynthReport = synthesize(verilog, "unit", clock_ns=clock_ns, clock_gating=gating,
                                         **kw)
        row = {"label": label(key), "key": key.to_json(), "group": group, "per": per,
               "area_um2": _value(report.area_um2) / per,
               "ge": _value(report.gate_equivalents) / per,
               "transistors": report.transistors / per,
               "sequential_area_um2": _value(report.sequential_area_um2) / per,
               "critical_path_ns": report.critical_path_ns,
               "timing_source": report.timing_source, "clock_ns": clock_ns,
               "slack_ns": report.slack_ns, "paths_ns": report.paths_ns, "energy_pj": None,
               "clock_gates": report.clock_gates,
               "yosys": report.yosys}
        if energy:
            row.update(energy_of(unit, verilog, clock_ns, per, gating))
        if key in best:
            period, fast = best[key]
            row.update(best_clock_ns=period, best_area_um2=fast.area_um2,
                       best_slack_ns=fast.slack_ns)
            if energy:
                row["best_energy_pj"] = energy_of(unit, verilog, period, per,
                                                  gating)["energy_pj"]
        rows.append(row)
    for i, (key, build_block) in enumerate(blocks.items(), 1):
        progress(f"[block {i}/{len(blocks)}] {label(key)}")
        report = synthesize(generate_verilog(build_block(), "unit"), "unit", clock_ns=clock_ns,
                            **kw)
        rows.append({"label": label(key), "key": key.to_json(), "group": "block", "per": 1,
                     "area_um2": _value(report.area_um2), "ge": _value(report.gate_equivalents),
                     "transistors": report.transistors,
                     "critical_path_ns": report.critical_path_ns,
                     "timing_source": report.timing_source, "clock_ns": clock_ns,
                     "slack_ns": report.slack_ns, "energy_pj": None, "yosys": report.yosys})
    for i, key in enumerate(arrays, 1):
        progress(f"[array {i}/{len(arrays)}] {label(key)} (hierarchical)")
        rows.append(array_row(key, liberty, cache_dir, clock_ns, timing, ge_cell, energy,
                              simulator, array_energy_sides))
    if only is not None:
        rows = merge_rows(stored, rows)
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(out_dir / "compare.json", json.dumps(rows, indent=1))
    atomic_write(out_dir / "compare.md", compare_markdown(rows))
    _chart(rows, out_dir / "compare.png")
    return rows


def ratios(rows: list[dict]) -> dict[str, float]:
    """The ratios the throughput model needs, from the rows (found by their keys)."""
    by = index(rows)
    none: dict = {}  # a row the comparison lacks (a partial one: ``run_compare(only=...)``)
    fp8, base, plain_pe = (by.get(pe_key(dp), none) for dp in (PAPER, BASELINE, PLAIN))
    sr, rne = by.get(axpy_key(PAPER), none), by.get(axpy_key(BASELINE), none)
    out = {}
    if fp8 and base:
        out["PE area baseline / FP8"] = base["area_um2"] / fp8["area_um2"]
    if fp8 and plain_pe:
        out["chunking overhead (PE area)"] = fp8["area_um2"] / plain_pe["area_um2"] - 1
    if sr and rne:
        out[f"AXPY lane area {BASELINE.update_fmt.name} / {PAPER.update_fmt.name} "
            f"{PAPER.update_rounding.name}"] = rne["area_um2"] / sr["area_um2"]
    for name, row in (("", fp8), (" no chunking", plain_pe)):
        if row.get("best_clock_ns") and base.get("best_clock_ns"):
            out[f"PE{name} best clock: fmax FP8 / baseline"] = (base["best_clock_ns"]
                                                               / row["best_clock_ns"])
            out[f"PE{name} best clocks: MAC/s per µm² FP8 / baseline"] = (
                gmacs_per_mm2(row["best_clock_ns"], row["best_area_um2"])
                / gmacs_per_mm2(base["best_clock_ns"], base["best_area_um2"]))
            if row.get("best_energy_pj") and base.get("best_energy_pj"):
                out[f"PE{name} best clocks: energy per MAC baseline / FP8"] = (
                    base["best_energy_pj"] / row["best_energy_pj"])
    # Each side at its best clock with the better of its plain and pipelined PE (the
    # baseline gets the same choice).
    def best_rate(key: RowKey) -> float | None:
        rates = [gmacs_per_mm2(r["best_clock_ns"], r["best_area_um2"])
                 for r in (by.get(key), by.get(key.with_variant(PIPELINED)))
                 if r and r.get("best_clock_ns")]
        return max(rates) if rates else None

    base_rate = best_rate(pe_key(BASELINE))
    for name, dp in (("", PAPER), (" no chunking", PLAIN)):
        rate = best_rate(pe_key(dp))
        if rate and base_rate and by.get(pe_key(dp, PIPELINED)):
            out[f"PE{name} best clocks, pipelined or not: MAC/s per µm² FP8 / baseline"] = (
                rate / base_rate)
    for key, row in by.items():
        plain = by.get(key.with_variant("")) if key.variant == GATED else None
        if plain and row.get("energy_pj") and plain.get("energy_pj"):
            out[f"clock gating: energy change of {plain['label']}"] = (
                row["energy_pj"] / plain["energy_pj"] - 1)
    gated8, gated16 = by.get(pe_key(PAPER, GATED)), by.get(pe_key(BASELINE, GATED))
    if gated8 and gated16 and gated8.get("energy_pj") and gated16.get("energy_pj"):
        out["PE energy per MAC baseline / FP8, both clock-gated"] = (gated16["energy_pj"]
                                                                     / gated8["energy_pj"])
    if (fp8 and base and not base.get("best_clock_ns") and fp8["critical_path_ns"]
            and base["critical_path_ns"]):
        out["PE fmax FP8 / baseline"] = base["critical_path_ns"] / fp8["critical_path_ns"]
    if fp8.get("energy_pj") and base.get("energy_pj"):
        out["PE energy per MAC baseline / FP8"] = base["energy_pj"] / fp8["energy_pj"]
        if plain_pe.get("energy_pj"):
            out["chunking overhead (PE energy)"] = fp8["energy_pj"] / plain_pe["energy_pj"] - 1
    for n in (4, 8, 16):
        a8, a16, plain = (by.get(array_key(dp, n)) for dp in (PAPER, BASELINE, PLAIN))
        if a8 and a16:
            out[f"MacArray {n}x{n} area per MAC baseline / FP8"] = a16["area_um2"] / a8["area_um2"]
        if a8 and plain:
            out[f"MacArray {n}x{n} chunking overhead (area per MAC)"] = (
                a8["area_um2"] / plain["area_um2"] - 1)
        for variant in ("", GATED):  # energy: simulated sides only, plain and clock-gated
            suffix = f", {variant}" if variant else ""
            chunked, base_arr, unchunked = (by.get(array_key(dp, n, variant), {})
                                            for dp in (PAPER, BASELINE, PLAIN))
            e8, e16, e_plain = (r.get("energy_pj") for r in (chunked, base_arr, unchunked))
            if e8 and e16:
                out[f"MacArray {n}x{n}{suffix} energy per MAC baseline / FP8"] = e16 / e8
            if e8 and e_plain:
                out[f"MacArray {n}x{n}{suffix} chunking overhead (energy per MAC)"] = (
                    e8 / e_plain - 1)
                # split: the same PEs doing different work (sums restarted every chunk), and
                # the hardware outside them (row-edge adders, rings)
                for part, field in (("in the PEs", "pe_energy_pj"),
                                    ("outside the PEs", "rest_energy_pj")):
                    if chunked.get(field) is not None and unchunked.get(field) is not None:
                        out[f"MacArray {n}x{n}{suffix} chunking overhead (energy per MAC), "
                            f"{part}"] = (chunked[field] - unchunked[field]) / e_plain
    rne16 = by.get(axpy_key(PAPER, Rounding.RNE))
    if rne16 and sr:
        for n in (1, 16):
            if lfsr_key(n) in by:
                out[f"SR overhead ({PAPER.update_fmt.name} lane SR + LFSR shared by {n}) / "
                    "RNE lane"] = ((sr["area_um2"] + by[lfsr_key(n)]["area_um2"])
                                   / rne16["area_um2"] - 1)
    if sr.get("energy_pj") and rne.get("energy_pj"):
        out[f"AXPY energy {BASELINE.update_fmt.name} / {PAPER.update_fmt.name} SR"] = (
            rne["energy_pj"] / sr["energy_pj"])
    return out


def _short_sources(rows: list[dict], key: str) -> str:
    """The tools behind one column, briefly (first word of each source)."""
    return "/".join(sorted({str(r[key]).split(" (")[0] for r in rows if r.get(key)}))


def compare_markdown(rows: list[dict]) -> str:
    timed = [r for r in rows if r.get("critical_path_ns") is not None]
    timing = _short_sources(timed, "timing_source") or "not available"
    simulated = _short_sources(rows, "energy_simulator")
    clock = next((r["clock_ns"] for r in rows if r.get("clock_ns")), None)
    mapping = (f"Mapping: timing-driven at a {clock:g} ns clock (ABC -D with buffering and "
               "sizing) for every row" if clock else
               "Mapping: area-oriented (no timing tool, so no clock target)")
    table = render(["unit", "area µm² (per lane)", "GE", "transistors",
                    f"critical path ns ({timing})", "slack ns",
                    "energy pJ/op" + (f" ({simulated})" if simulated else "")],
                   [[r["label"], f"{r['area_um2']:.0f}", f"{r['ge']:.0f}",
                     f"{r['transistors']:.0f}",
                     "" if r["critical_path_ns"] is None else f"{r['critical_path_ns']:.1f}",
                     "" if r.get("slack_ns") is None else f"{r['slack_ns']:.2f}",
                     "" if not r.get("energy_pj") else f"{r['energy_pj']:.2f}"]
                    for r in rows], markdown=True)
    parts = [mapping + ".", table]
    clocked = [r for r in rows if r.get("best_clock_ns")]
    if clocked:
        parts.append(clock_table(clocked))
    blocks = block_table(rows)
    if blocks:
        parts.append(blocks)
    array_energy = array_energy_table(rows)
    if array_energy:
        parts.append(array_energy)
    parts.append(render(["ratio", "value"], [[k, f"{v:.3f}"] for k, v in ratios(rows).items()],
                        markdown=True))
    return "\n\n".join(parts + [sources_note(rows)]) + "\n"


def clock_table(rows: list[dict]) -> str:
    """The PEs at the equal clock and at each one's best clock: throughput per area, energy."""
    def energy(value) -> str:
        return "" if not value else f"{value:.2f}"

    return render(["PE (one MAC per cycle)", "clock ns", "area µm²", "slack ns",
                   "GMAC/s per mm²", "pJ/MAC", "best clock ns", "area µm² at best",
                   "GMAC/s per mm² at best", "pJ/MAC at best"],
                  [[r["label"], f"{r['clock_ns']:g}", f"{r['area_um2']:.0f}",
                    "" if r.get("slack_ns") is None else f"{r['slack_ns']:.2f}",
                    f"{gmacs_per_mm2(r['clock_ns'], r['area_um2']):.2f}",
                    energy(r.get("energy_pj")), f"{r['best_clock_ns']:g}",
                    f"{r['best_area_um2']:.0f}",
                    f"{gmacs_per_mm2(r['best_clock_ns'], r['best_area_um2']):.2f}",
                    energy(r.get("best_energy_pj"))] for r in rows], markdown=True)


def array_energy_table(rows: list[dict]) -> str:
    """Energy per MAC of the simulated arrays by block (``scripts/array_blocks.py``); "" when
    no row has the split."""
    split = [r for r in rows if r.get("energy_blocks_pj")]
    if not split:
        return ""
    # the arithmetic behind the PEs' column: the same operands as the arrays' stimulus
    length = 4 * (PAPER.chunk or 64)
    plain, chunked = (accumulator_toggles_per_mac(PAPER.in_fmt, PAPER.acc_fmt, chunk, length)
                      for chunk in (None, PAPER.chunk))
    return ("Array energy by block (pJ per MAC; a register's block by the signal it holds, "
            "logic by the registers it feeds, logic feeding several blocks is control):\n\n"
            + render(["array", *BLOCK_NAMES, "whole array"],
                     [[r["label"], *(f"{r['energy_blocks_pj'].get(b, 0.0):.3f}"
                                     for b in BLOCK_NAMES), f"{r['energy_pj']:.3f}"]
                      for r in split], markdown=True)
            + f"\n\nThe PEs of chunked and unchunked arrays are the same netlist. On the "
            f"arrays' operands (N(0,1) in {PAPER.in_fmt.name}, K = {length}) the golden "
            f"model's {PAPER.acc_fmt.name} running sum flips {plain:.2f} bits per MAC without "
            f"chunking and {chunked:.2f} with chunk {PAPER.chunk} ({chunked / plain - 1:+.1%}): "
            "restarted sums stay small and keep the products' low bits.")


def block_table(rows: list[dict]) -> str:
    """Area of the one-adder PEs by block (standalone multiplier and adder, the PE's own
    registers, and the rest: the PE's area minus those), FP8 against the baseline; "" when
    the rows lack any of them."""
    by = index(rows)
    sides = []
    for dp in (PLAIN, BASELINE):
        mul, add, pe = (by.get(key) for key in (multiplier_key(dp), adder_key(dp), pe_key(dp)))
        if not (mul and add and pe and pe.get("sequential_area_um2") is not None):
            return ""
        regs = pe["sequential_area_um2"]
        sides.append({"multiplier (standalone)": mul["area_um2"],
                      "adder (standalone)": add["area_um2"], "registers (in the PE)": regs,
                      "rest: PE - the above (muxes, control, fusion savings)":
                      pe["area_um2"] - mul["area_um2"] - add["area_um2"] - regs,
                      "whole PE": pe["area_um2"]})
    fp8, base = sides
    return ("Area by block of the one-adder PEs (µm², each block synthesized alone at the "
            "same clock; in the FP8 PE the exact product is fused into the adder, so its "
            "standalone multiplier and adder overstate it):\n\n"
            + render(["block", f"FP8 PE {PAPER.in_fmt.name}->{PAPER.acc_fmt.name}",
                      f"baseline PE {BASELINE.in_fmt.name}->{BASELINE.acc_fmt.name}",
                      "baseline / FP8"],
                     [[name, f"{fp8[name]:.0f}", f"{base[name]:.0f}",
                       f"{base[name] / fp8[name]:.2f}" if fp8[name] > 0 else ""]
                      for name in fp8], markdown=True))


def sources_note(rows: list[dict]) -> str:
    """Which tool gave each kind of number in ``rows``, in words."""
    def named(key: str) -> str:
        return ", ".join(sorted({str(r[key]) for r in rows if r.get(key)})) or "none"

    timed = [r for r in rows if r.get("critical_path_ns") is not None]
    lines = [f"Tools: synthesis {named('yosys')}; critical path "
             + (named("timing_source") if timed else
                f"not available ({named('timing_source')})") + "."]
    energy = [r for r in rows if r.get("energy_pj")]
    if energy:
        r = energy[0]
        lines.append(f"Energy per operation at a {r['energy_clock_ns']:g} ns clock, simulated on "
                     f"{named('energy_simulator')}: {r['energy_method']}. Stimulus, e.g. "
                     f"{r['label']}: {r['energy_stimulus']}.")
    return "\n\n".join(lines)


def _chart(rows: list[dict], path: Path) -> None:
    from matplotlib.figure import Figure

    colors = {"PE": "#4c72b0", "PE chunk": "#8fa8d8", "PE pipelined": "#64b5cd",
              "MacArray": "#8172b2", "AXPY": "#dd8452", "LFSR": "#55a868", "block": "#c4ad66"}
    fig = Figure(figsize=(9, 4.5))
    ax = fig.subplots()
    ax.barh([r["label"] for r in rows], [r["ge"] for r in rows],
            color=[colors[r["group"]] for r in rows])
    ax.invert_yaxis()
    ax.set_xlabel("gate equivalents (NAND2 = 1); per lane for LFSR rows, per MAC for arrays")
    ax.set_title("fp8forge: FP8 datapath vs FP16 baseline (SKY130 HD, Yosys + ABC)")
    for y, r in enumerate(rows):
        ax.text(r["ge"], y, f" {r['ge']:.0f}", va="center", fontsize=8)
    save(fig, path)
