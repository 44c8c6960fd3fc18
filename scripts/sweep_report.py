"""The outputs of ``fp8forge sweep``: a table file per point row (CSV and JSON), a Markdown
summary, and Pareto plots (throughput per area against accumulation error, energy per MAC
against projected speedup) with the paper's point and the baseline marked."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

from fp8forge.files import atomic_write
from fp8forge.plotting import save, subplots
from fp8forge.table import render

from .sweep import (
    AXES,
    BASELINE_FORMATS,
    NOT_RUN,
    SweepPoint,
    is_baseline_point,
    is_paper_point,
)

#: The figures of a point, in table order after the axes and the label.
FIGURES = ("clock_ns", "pe_area_um2", "pe_slack_ns", "lane_area_um2", "lane_slack_ns",
           "array_area_per_mac_um2", "array_slack_ns", "gmacs_per_mm2", "pe_energy_pj",
           "lane_energy_pj", "array_energy_pj")


def flat_rows(rows: Sequence[dict], nets: Sequence[str], lengths: Sequence[int]) -> list[dict]:
    """One flat dict per point: the axes, the figures, the error per length, the speedup per
    network, and ``error`` for a failed point."""
    out = []
    for row in rows:
        flat: dict = dict(row["point"])
        flat["label"] = row.get("label", "")
        for name in FIGURES:
            flat[name] = row.get(name)
        for n in lengths:
            flat[f"accumulation_error_{n}"] = (row.get("accumulation_error") or {}).get(str(n))
        for net in nets:
            flat[f"speedup_{net}"] = (row.get("speedup") or {}).get(net)
        flat["failed"] = row.get("error", "")
        out.append(flat)
    return out


def write_tables(flat: list[dict], out_dir: Path) -> None:
    """``sweep.csv`` (one row per point, for spreadsheets and pandas) and ``sweep.json``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(flat[0]), lineterminator="\n")
    writer.writeheader()
    for row in flat:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    atomic_write(out_dir / "sweep.csv", buffer.getvalue())
    atomic_write(out_dir / "sweep.json", json.dumps(flat, indent=1))


def _num(value, digits: int = 1) -> str:
    if value is None:
        return ""
    return f"{value:,.{digits}f}" if abs(value) >= 0.01 or value == 0 else f"{value:.2e}"


def _slack(r: dict, keys: tuple[str, ...] = ("pe_slack_ns", "array_slack_ns")) -> str:
    """The worst slack of the MAC datapath (PE and in-array PE; or of ``keys``) at the
    point's clock, and whether it meets."""
    slacks = [r[k] for k in keys if r[k] is not None]
    if not slacks:
        return "n/a"
    worst = min(slacks)
    return f"{worst:.2f}" + ("" if worst >= 0 else " (misses)")


def markdown(flat: list[dict], nets: Sequence[str], lengths: Sequence[int], command: str,
             baseline: tuple[str, str] = BASELINE_FORMATS) -> str:
    """A readable summary: every point with its main figures; failures with their reasons."""
    n = max(lengths)
    head = ["point", "clock ns", "MAC slack ns", "lane slack ns", "array µm²/MAC", "GMAC/s/mm²",
            "PE pJ/MAC", f"acc. error at {n}", *[f"speedup {net}" for net in nets]]
    body = []
    for r in flat:
        if r["failed"]:
            continue
        p = SweepPoint(**{k: r[k] for k in AXES})
        mark = " (paper)" if is_paper_point(p) else (
            " (baseline)" if is_baseline_point(p, baseline) else "")
        body.append([r["label"] + mark, _num(r["clock_ns"]), _slack(r),
                     _slack(r, ("lane_slack_ns",)),
                     _num(r["array_area_per_mac_um2"], 0),
                     _num(r["gmacs_per_mm2"], 2), _num(r["pe_energy_pj"], 2),
                     _num(r[f"accumulation_error_{n}"], 4),
                     *[_num(r[f"speedup_{net}"], 2) for net in nets]])
    lines = ["# Design-space sweep", "", f"Command: `{command}`", "",
             "Each point: PE, AXPY lane and MacArray synthesized timing-driven at the point's "
             "clock (`best`: the PE's best clock), the accumulation error (median relative "
             f"error of zero-mean dot products of length {', '.join(map(str, lengths))}, golden "
             "model), and the training-step speedup against the baseline at the same array "
             "side, clock setting and pipelining (equal MAC-array area and bandwidth, each at "
             "its own clock). MAC slack: the worst of the PE and the array's PE at the clock; lane "
             "slack: the AXPY lane's (an unpipelined fused multiply-add, longer than the MAC "
             "loop). A negative slack means a unit misses the clock: its figures are those of "
             "the netlist that came closest.", "", render(head, body, markdown=True)]
    not_run = [r for r in flat if r["failed"] == NOT_RUN]
    failed = [r for r in flat if r["failed"] and r["failed"] != NOT_RUN]
    if not_run:
        lines += ["", f"The sweep was stopped: {len(not_run)} of {len(flat)} points not run yet "
                  "(the same command resumes)."]
    if failed:
        lines += ["", f"## Failed points ({len(failed)})", ""]
        lines += [f"- {r['label']}: {r['failed']}" for r in failed]
    lines += ["", "Pareto plots: `pareto.png`. Every figure per point: `sweep.csv`, "
              "`sweep.json`."]
    return "\n".join(lines) + "\n"


def front_table(flat: list[dict], lengths: Sequence[int]) -> str:
    """The points on the throughput-per-area vs accumulation-error front, as a text table (what
    the command prints: the candidates worth building)."""
    n = max(lengths)
    key = f"accumulation_error_{n}"
    ok = [r for r in flat if not r["failed"] and r[key] is not None
          and r["gmacs_per_mm2"] is not None]
    if not ok:
        return "no point finished"
    front = pareto_front([(r[key], r["gmacs_per_mm2"]) for r in ok], lower_x=True, higher_y=True)
    groups: dict[tuple, list[int]] = {}
    for i in front:  # points with the same figures (e.g. differing in SR bits only): one row
        groups.setdefault((ok[i][key], ok[i]["gmacs_per_mm2"]), []).append(i)
    rows = []
    for members in groups.values():
        r = ok[members[0]]
        more = f" (and {len(members) - 1} alike)" if len(members) > 1 else ""
        rows.append([r["label"] + more, _num(r["gmacs_per_mm2"], 2), _num(r[key], 4),
                     _num(r["pe_energy_pj"], 2), _slack(r)])
    return render(["Pareto front: point", "GMAC/s/mm²", f"acc. error at {n}", "PE pJ/MAC",
                   "MAC slack ns"], rows)


def pareto_front(points: list[tuple[float, float]], lower_x: bool, higher_y: bool
                 ) -> list[int]:
    """Indices of the points no other point beats on both coordinates, sorted by x."""
    def better(a, b) -> bool:
        x_ok = a[0] <= b[0] if lower_x else a[0] >= b[0]
        y_ok = a[1] >= b[1] if higher_y else a[1] <= b[1]
        return x_ok and y_ok and a != b
    front = [i for i, p in enumerate(points) if not any(better(q, p) for q in points)]
    return sorted(front, key=lambda i: points[i][0])


def plot_pareto(flat: list[dict], nets: Sequence[str], lengths: Sequence[int], path: Path,
                baseline: tuple[str, str] = BASELINE_FORMATS) -> None:
    """Two panels: GMAC/s per mm² against accumulation error (lower is better), and PE pJ per
    MAC against the speedup on the first network; fronts drawn, paper and baseline marked."""
    n = max(lengths)
    ok = [r for r in flat if not r["failed"]]
    fig, axes = subplots(1, 2, figsize=(11, 4.4), squeeze=False)
    panels = [
        (axes[0][0], f"accumulation_error_{n}", "gmacs_per_mm2",
         f"accumulation error at length {n} (median relative)", "GMAC/s per mm² (array)",
         True, True),
    ]
    if nets:
        panels.append((axes[0][1], "pe_energy_pj", f"speedup_{nets[0]}", "PE energy (pJ/MAC)",
                       f"training-step speedup, {nets[0]}", True, True))
    for ax, xkey, ykey, xlabel, ylabel, lower_x, higher_y in panels:
        pts = [(r[xkey], r[ykey], r) for r in ok if r[xkey] is not None and r[ykey] is not None]
        if not pts:
            ax.text(0.5, 0.5, "no data (e.g. energy off)", ha="center", transform=ax.transAxes)
            continue
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=14, color="#4c72b0", alpha=0.7,
                   label="points")
        front = pareto_front([(p[0], p[1]) for p in pts], lower_x, higher_y)
        ax.plot([pts[i][0] for i in front], [pts[i][1] for i in front], "-", color="#4c72b0",
                lw=1, label="Pareto front")
        for x, y, r in pts:
            p = SweepPoint(**{k: r[k] for k in AXES})
            if is_paper_point(p):
                ax.scatter([x], [y], s=80, marker="*", color="#c44e52", zorder=3)
                ax.annotate("paper", (x, y), textcoords="offset points", xytext=(5, 5),
                            fontsize=8)
            elif is_baseline_point(p, baseline):
                ax.scatter([x], [y], s=50, marker="s", color="#dd8452", zorder=3)
                ax.annotate("baseline", (x, y), textcoords="offset points", xytext=(5, -10),
                            fontsize=8)
        if xkey.startswith("accumulation_error") and min(p[0] for p in pts) > 0:
            ax.set_xscale("log")
            ax.minorticks_off()
            ax.xaxis.set_major_formatter(_plain())
        ax.set_xlabel(xlabel, fontsize=9)
        ax.set_ylabel(ylabel, fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if len(panels) == 1:
        axes[0][1].set_visible(False)
    fig.suptitle(f"design-space sweep: {len(ok)} points", fontsize=10)
    save(fig, path, margins=dict(left=0.07, right=0.98, top=0.9, bottom=0.13, wspace=0.25))


def _plain():
    from matplotlib.ticker import FuncFormatter

    # plain labels: the default 10^k ones go through mathtext (slow to set up)
    return FuncFormatter(lambda v, _: f"{v:g}")


def write_report(rows: Sequence[dict], nets: Sequence[str], lengths: Sequence[int],
                 out_dir: Path, command: str, baseline: tuple[str, str] = BASELINE_FORMATS,
                 plots: bool = True) -> list[dict]:
    """Write sweep.csv, sweep.json, sweep.md and (with ``plots``) pareto.png; return the flat
    rows."""
    flat = flat_rows(rows, nets, lengths)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_tables(flat, out_dir)
    atomic_write(out_dir / "sweep.md", markdown(flat, nets, lengths, command, baseline))
    if plots:
        plot_pareto(flat, nets, lengths, out_dir / "pareto.png", baseline)
    return flat
