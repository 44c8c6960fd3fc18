"""``fp8forge sweep``: a design-space sweep, one synthesis-and-model run per point, on Dask.

A point (``SweepPoint``) is a datapath and its hardware: GEMM operand and accumulator formats,
chunk length, SR random bits of the weight update (0: round to nearest), MacArray side, clock
target and pipelining. ``evaluate`` measures one point:

* the PE (``MacPE``, dedicated chunk adder), the AXPY lane (``FpFma`` in the accumulator
  format, SR with ``rbits`` or RNE) and the ``side x side`` MacArray (area per MAC,
  hierarchical as in ``synth --compare``), each mapped timing-driven at the point's clock, or
  at the PE's best clock (``best_clock``) when the clock is ``best``;
* with ``energy``, the PE's energy per MAC and the lane's per update (gate-level simulation,
  as ``synth --compare``), and with ``array_energy`` the whole array's per MAC;
* the accumulation error of the accumulator format and chunk on the golden model
  (``accumulation_error``).

The projection of each point against the baseline point (``project_point``) is cheap and is
computed by the driver once every point has its figures.

Points run once. Each result is stored as ``<cache>/sweep/<key>.json``, keyed by content: the
point, the evaluation settings, the liberty's bytes and the Yosys build (``point_key``), and
written atomically by the worker that computed it. An interrupted sweep resumes where it
stopped, two sweeps sharing points share the work, and concurrent workers on one cache are safe
(the synthesis cache below it is safe the same way).

Engines: ``scheduler="local"`` evaluates the points one after another in this process;
``None`` (the default) starts a Dask ``LocalCluster`` with one single-threaded worker process
per core; ``"tcp://HOST:PORT"`` runs on an existing Dask cluster (whose workers must have
fp8forge installed and see the same cache folder). A failed point is reported with its reason
and does not stop the sweep.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from fp8forge import __version__
from fp8forge.errors import InputError, ToolError
from fp8forge.files import atomic_write
from fp8forge.golden import Rounding, chunked_sum, decode, mul, parse_format, quantize
from fp8forge.golden.design import BASELINE, DEFAULT_RBITS, PAPER

#: The axes of a sweep, in table order, with their defaults (the paper's point, 4x4 array).
AXES = ("in_fmt", "acc_fmt", "chunk", "rbits", "side", "clock", "pipelined")

#: Part of every point's key: raise it when ``evaluate`` measures differently.
EVALUATION_VERSION = 2

#: Dot-product lengths and trials of the accumulation-error figure (zero-mean products).
ERROR_LENGTHS = (1024, 16384)
ERROR_TRIALS = 16


class SweepError(InputError):
    """A sweep that cannot be run as given (bad axis values, an unreadable config file)."""


@dataclass(frozen=True)
class SweepPoint:
    """One design point. ``clock`` is a period in ns, or ``"best"`` (each unit at the PE's
    best clock); ``pipelined`` registers the product and interleaves two dot products
    (``MacPE(stages=1, interleave=2)``, ``MacArray(interleave=2)``)."""

    in_fmt: str = PAPER.in_fmt.name
    acc_fmt: str = PAPER.acc_fmt.name
    chunk: int | None = PAPER.chunk
    rbits: int = PAPER.rbits
    side: int = 4
    clock: float | str = "best"
    pipelined: bool = False

    def __post_init__(self):
        for name in ("in_fmt", "acc_fmt"):
            try:
                parse_format(getattr(self, name))
            except ValueError as exc:
                raise SweepError(f"{name}: {exc}") from None
        if self.chunk is not None and not (isinstance(self.chunk, int) and self.chunk >= 1):
            raise SweepError(f"chunk must be 'none' or an integer >= 1, not {self.chunk!r}")
        if not (isinstance(self.rbits, int) and 0 <= self.rbits <= 32):
            raise SweepError(f"rbits must be 0 (round to nearest) or 1..32, not {self.rbits!r}")
        if not (isinstance(self.side, int) and 1 <= self.side <= 64):
            raise SweepError(f"array side must be 1..64, not {self.side!r}")
        if self.clock != "best" and not (isinstance(self.clock, int | float) and self.clock > 0):
            raise SweepError(f"clock must be 'best' or a period in ns > 0, not {self.clock!r}")
        if self.pipelined and self.chunk is not None and self.chunk < 2:
            raise SweepError("a pipelined PE needs chunk >= 2 or none")

    @property
    def label(self) -> str:
        chunk = "no chunking" if self.chunk is None else f"chunk {self.chunk}"
        update = f"SR {self.rbits}" if self.rbits else "RNE"
        clock = "best clock" if self.clock == "best" else f"{self.clock:g} ns"
        pipe = ", pipelined" if self.pipelined else ""
        return (f"{self.in_fmt}->{self.acc_fmt} {chunk}, {update}, {self.side}x{self.side}, "
                f"{clock}{pipe}")

    def datapath(self) -> tuple:
        """(in format, acc format, update rounding) as golden objects."""
        return (parse_format(self.in_fmt), parse_format(self.acc_fmt),
                Rounding.SR if self.rbits else Rounding.RNE)


#: The fair baseline of every sweep by default: fp16 x fp16 -> fp32 without chunks, RNE
#: updates in fp32 (``--baseline`` names other formats).
BASELINE_FORMATS = (BASELINE.in_fmt.name, BASELINE.acc_fmt.name)


def baseline_point(like: SweepPoint, formats: tuple[str, str] = BASELINE_FORMATS) -> SweepPoint:
    """The baseline at ``like``'s array side, clock and pipelining (a point like any other):
    ``formats`` (operands, accumulator), no chunking, RNE updates."""
    return replace(like, in_fmt=formats[0], acc_fmt=formats[1], chunk=None, rbits=0)


def is_paper_point(p: SweepPoint) -> bool:
    return (p.in_fmt, p.acc_fmt, p.chunk, p.rbits) == (
        PAPER.in_fmt.name, PAPER.acc_fmt.name, PAPER.chunk, PAPER.rbits)


def is_baseline_point(p: SweepPoint, formats: tuple[str, str] = BASELINE_FORMATS) -> bool:
    return baseline_point(p, formats) == p


# -- the grid ---------------------------------------------------------------------------------

def parse_axis(name: str, values: Iterable) -> list:
    """Axis values from the command line or a config file (strings or numbers)."""
    out: list = []
    for raw in values:
        text = str(raw).strip().lower()
        if name in ("in_fmt", "acc_fmt"):
            out.append(str(raw).strip())
        elif name == "chunk":
            out.append(None if text in ("none", "no", "0") else _int(name, text))
        elif name == "clock":
            out.append("best" if text == "best" else _float(name, text))
        elif name == "pipelined":
            if text not in ("yes", "no", "true", "false", "1", "0"):
                raise SweepError(f"pipelined: use yes or no, not {raw!r}")
            out.append(text in ("yes", "true", "1"))
        else:
            out.append(_int(name, text))
    if not out:
        raise SweepError(f"axis {name} has no values")
    return list(dict.fromkeys(out))  # in order, once each


def _int(name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise SweepError(f"{name}: {text!r} is not an integer") from None


def _float(name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise SweepError(f"{name}: {text!r} is not a number") from None


def grid(axes: dict[str, list], *, baseline: tuple[str, str] = BASELINE_FORMATS
         ) -> list[SweepPoint]:
    """Every combination of the axes (missing axes at ``SweepPoint``'s defaults), after the
    baseline (``baseline_point``) at every array side, clock and pipelining in the grid."""
    unknown = set(axes) - set(AXES)
    if unknown:
        raise SweepError(f"unknown axis {', '.join(sorted(unknown))} (known: {', '.join(AXES)})")
    default = SweepPoint()
    values = [axes.get(name, [getattr(default, name)]) for name in AXES]
    points = [SweepPoint(**dict(zip(AXES, combo, strict=True)))
              for combo in itertools.product(*values)]
    # The baselines first: every other point's projection needs one, so a sweep stopped
    # early still projects what it finished.
    return list(dict.fromkeys([baseline_point(p, baseline) for p in points] + points))


def load_config(path: Path) -> dict[str, list]:
    """Axes from a TOML file: ``[axes]`` with one list per axis (``in_fmt = ["e5m2"]``, ...)."""
    import tomllib

    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SweepError(f"cannot read sweep config {path}: "
                         f"{exc.strerror if isinstance(exc, OSError) else exc}") from None
    axes = data.get("axes")
    if not isinstance(axes, dict):
        raise SweepError(f"{path}: no [axes] table (e.g. in_fmt = [\"e5m2\", \"e4m3fn\"])")
    return {name: parse_axis(name, v if isinstance(v, list) else [v]) for name, v in axes.items()}


# -- one point --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    """What an evaluation depends on besides the point (part of every point's key).
    ``liberty`` is a path every worker can read, or "" for the library shipped with
    fp8forge, which each worker finds in its own installation."""

    liberty: str = ""
    energy: bool = True
    #: also the whole array's energy per MAC (the composed array of ``scripts/hierarchy.py``
    #: simulated at gate level: minutes per point at 8x8)
    array_energy: bool = False
    error_lengths: tuple[int, ...] = ERROR_LENGTHS
    error_trials: int = ERROR_TRIALS
    timing: str = "auto"

    def liberty_path(self) -> Path:
        from fp8forge.pdk import DEFAULT_LIBERTY

        return Path(self.liberty) if self.liberty else DEFAULT_LIBERTY


def point_key(point: SweepPoint, settings: Settings, yosys_version: str) -> str:
    """Content key of a point's result: the point, the settings, the liberty's bytes, the
    Yosys build, fp8forge's version and ``EVALUATION_VERSION``."""
    h = hashlib.sha256()
    h.update(json.dumps([asdict(point), asdict(settings) | {"liberty": None}, yosys_version,
                         __version__, EVALUATION_VERSION], sort_keys=True).encode())
    h.update(settings.liberty_path().read_bytes())
    return h.hexdigest()[:20]


def accumulation_error(in_fmt, acc_fmt, chunk: int | None, lengths: Sequence[int],
                       trials: int, seed: int = 0) -> list[float]:
    """Median relative error (against the exact sum) of dot products of zero-mean normal
    operands rounded to ``in_fmt`` (saturating), multiplied into ``acc_fmt`` and summed there with
    ``chunk`` (RNE, SPEC's chunk order), at each length."""
    rng = np.random.default_rng(seed)
    n = max(lengths)
    # saturating: narrow formats (e2m1) would round the normal's tail to infinity
    a = quantize(rng.standard_normal((trials, n)), in_fmt, saturate=True)
    b = quantize(rng.standard_normal((trials, n)), in_fmt, saturate=True)
    exact_products = decode(a, in_fmt) * decode(b, in_fmt)  # exact in float64 up to fp16
    products = mul(a, b, in_fmt, acc_fmt)
    out = []
    for length in lengths:
        sums = decode(chunked_sum(products[:, :length], acc_fmt, chunk), acc_fmt)
        exact = np.array([math.fsum(row) for row in exact_products[:, :length]])
        with np.errstate(divide="ignore", invalid="ignore"):
            out.append(float(np.median(np.abs(sums - exact) / np.abs(exact))))
    return out


def evaluate(point: SweepPoint, settings: Settings, cache_dir: str | os.PathLike) -> dict:
    """The figures of one point (see the module docstring); raises on a failed tool run."""
    from fp8forge.hdl.accumulator import MacPE
    from fp8forge.hdl.arith import FpFma
    from fp8forge.hdl.generate import generate_verilog

    from .compare import best_clock
    from .hierarchy import array_timing, synthesize_array
    from .synth import synthesize

    cache = Path(cache_dir)
    liberty = settings.liberty_path()
    in_fmt, acc_fmt, update = point.datapath()
    kw: dict = dict(liberty=liberty, cache_dir=cache, timing=settings.timing)
    stages, interleave = (1, 2) if point.pipelined else (0, 1)
    pe_unit = MacPE(in_fmt, acc_fmt, chunk=point.chunk, stages=stages, interleave=interleave)
    pe_verilog = generate_verilog(pe_unit, "unit")
    if point.clock == "best":
        found = best_clock(pe_verilog, **kw)
        if found is None:
            raise ToolError("no timing tool: a best-clock sweep needs OpenSTA or ABC timing")
        clock_ns, pe = found
    else:
        clock_ns = float(point.clock)
        pe = synthesize(pe_verilog, "unit", clock_ns=clock_ns, **kw)
    lane_unit = FpFma(acc_fmt, rounding=update, rbits=point.rbits or DEFAULT_RBITS)
    lane_verilog = generate_verilog(lane_unit, "unit")
    lane = synthesize(lane_verilog, "unit", clock_ns=clock_ns, **kw)
    array = synthesize_array(in_fmt, acc_fmt, point.chunk, point.side, point.side,
                             liberty=liberty, cache_dir=cache, clock_ns=clock_ns,
                             timing=settings.timing, interleave=interleave)
    array_area_per_mac = array.total("area_um2") / array.macs
    # the whole array (row-edge adders included) timed when OpenSTA is there, else its PE
    whole = array_timing(array, liberty, cache, clock_ns, settings.timing)
    result: dict = {
        "clock_ns": clock_ns,
        "pe_area_um2": pe.area_um2, "pe_slack_ns": pe.slack_ns,
        "pe_critical_path_ns": pe.critical_path_ns,
        "lane_area_um2": lane.area_um2, "lane_slack_ns": lane.slack_ns,
        "array_area_per_mac_um2": array_area_per_mac,
        "array_slack_ns": (clock_ns - whole["critical_path_ns"] if whole
                           else array.pe.slack_ns),
        # one MAC per cycle per PE: GMAC/s per mm² of the array
        "gmacs_per_mm2": 1e6 / (clock_ns * array_area_per_mac),
        "pe_energy_pj": None, "lane_energy_pj": None, "array_energy_pj": None,
        "yosys": pe.yosys, "timing_source": pe.timing_source,
    }
    if settings.energy:
        from .energy import estimate_energy

        e = estimate_energy(pe_unit, pe_verilog, "unit", liberty=liberty,
                            cache_dir=cache, clock_ns=clock_ns, timing=settings.timing)
        lane_e = estimate_energy(lane_unit, lane_verilog, "unit", liberty=liberty,
                                 cache_dir=cache, clock_ns=clock_ns, timing=settings.timing)
        result.update(pe_energy_pj=e.energy_pj_per_op, lane_energy_pj=lane_e.energy_pj_per_op,
                      energy_simulator=e.simulator)
        if settings.array_energy:
            from .compare import array_energy_cycles
            from .energy import netlist_energy_report
            from .hierarchy import compose

            array_e = netlist_energy_report(
                array.unit, compose(array, liberty, cache), "unit", liberty=liberty,
                clock_ns=clock_ns, cycles=array_energy_cycles(point.side))
            result["array_energy_pj"] = array_e.energy_pj_per_op
    errors = accumulation_error(in_fmt, acc_fmt, point.chunk, settings.error_lengths,
                                settings.error_trials)
    result["accumulation_error"] = dict(zip(map(str, settings.error_lengths), errors,
                                            strict=True))
    return result


def run_point(point: SweepPoint, settings: Settings, cache_dir: str, key: str) -> dict:
    """Evaluate ``point`` unless its result is stored; store it. Runs on a worker: a failure
    comes back as a row with ``error`` (and is not stored, so a rerun tries again)."""
    path = Path(cache_dir) / "sweep" / f"{key}.json"
    if path.exists():
        return json.loads(path.read_text()) | {"cached": True}
    started = time.monotonic()
    try:
        figures = evaluate(point, settings, cache_dir)
    except Exception as exc:  # noqa: BLE001 - reported with the point, the sweep goes on
        return {"point": asdict(point), "key": key, "error": f"{type(exc).__name__}: {exc}"}
    row = {"point": asdict(point), "key": key, "seconds": round(time.monotonic() - started, 1),
           **figures}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(row, indent=1, sort_keys=True))
    return row | {"cached": False}


# -- the engine -------------------------------------------------------------------------------

@dataclass
class Progress:
    """Points done, running and failed; ``show`` prints one line per change."""

    total: int
    done: int = 0
    failed: int = 0
    running: int = 0
    show: Callable[[str], None] | None = print
    failures: list[str] = field(default_factory=list)

    def update(self, row: dict | None = None, label: str = "") -> None:
        if row is not None:
            self.done += 1
            if "error" in row:
                self.failed += 1
                self.failures.append(f"{label}: {row['error']}")
        if self.show:
            what = "" if row is None else (" failed: " if "error" in row else " done: ") + label
            self.show(f"[{self.done}/{self.total} done, {self.running} running, "
                      f"{self.failed} failed]{what}")


#: How long a sweep waits for a scheduler at an address to answer (``--connect-timeout``).
CONNECT_TIMEOUT_S = 5.0


def run_sweep(points: Sequence[SweepPoint], settings: Settings, cache_dir: Path, *,
              scheduler: str | None = None, workers: int | None = None,
              connect_timeout: float = CONNECT_TIMEOUT_S,
              show: Callable[[str], None] | None = print) -> list[dict]:
    """One row per point (in ``points`` order): stored results at once, the others computed
    on the chosen engine (module docstring); a scheduler at an address that does not answer
    within ``connect_timeout`` seconds is a ``SweepError``. Ctrl-C stops the sweep with
    ``SweepInterrupted`` (a KeyboardInterrupt carrying the rows); finished points stay
    stored."""
    from fp8forge import tools

    yosys = tools.yosys()  # ToolMissing, naming the install, when there is none
    cache_dir = Path(cache_dir).resolve()
    keys = [point_key(p, settings, yosys.version) for p in points]
    rows: dict[str, dict] = {}
    todo = []
    for p, key in zip(points, keys, strict=True):
        stored = cache_dir / "sweep" / f"{key}.json"
        if stored.exists():
            rows[key] = json.loads(stored.read_text()) | {"cached": True}
        else:
            todo.append((p, key))
    progress = Progress(len(points), done=len(rows), show=show)
    if show:
        show(f"sweep: {len(points)} points, {len(rows)} already stored, {len(todo)} to run")
    try:
        if todo and scheduler == "local":
            for p, key in todo:
                progress.running = 1
                row = run_point(p, settings, str(cache_dir), key)
                progress.running = 0
                rows[key] = row
                progress.update(row, p.label)
        elif todo:
            _run_on_dask(todo, settings, cache_dir, scheduler, workers, connect_timeout,
                         rows, progress)
    except KeyboardInterrupt:
        raise SweepInterrupted(_in_order(points, keys, rows)) from None
    return _in_order(points, keys, rows)


#: The ``error`` of a point a stopped sweep did not run.
NOT_RUN = "not run (interrupted)"


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) during a sweep; ``rows`` has every point, those not run with the
    error "not run (interrupted)", so a caller can still report what finished."""

    def __init__(self, rows: list[dict]):
        super().__init__("sweep interrupted")
        self.rows = rows


def _in_order(points: Sequence[SweepPoint], keys: list[str], rows: dict[str, dict]
              ) -> list[dict]:
    out = []
    for p, key in zip(points, keys, strict=True):
        row = rows.get(key) or {"point": asdict(p), "key": key, "error": NOT_RUN}
        out.append(row | {"label": p.label})
    return out


def _run_on_dask(todo, settings, cache_dir: Path, scheduler, workers, connect_timeout,
                 rows, progress) -> None:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        from fp8forge.tools import ToolMissing

        raise ToolMissing("fp8forge sweep runs on Dask: pip install 'fp8forge[sweep]' "
                          "(or --scheduler local)") from None
    cluster = None
    if scheduler is None:
        # Quiet: cancelling the running points on Ctrl-C (and the nannies then killing their
        # workers) is expected, not worth warnings.
        logging.getLogger("distributed").setLevel(logging.ERROR)
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                               processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR)
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout=f"{connect_timeout}s")
        except OSError as exc:
            raise SweepError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None
    by_key = dict((key, p) for p, key in todo)
    try:
        futures = [client.submit(run_point, p, settings, str(cache_dir), key, key=f"point-{key}",
                                 pure=False) for p, key in todo]
        slots = sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values())
        pending = len(futures)
        progress.running = min(slots, pending)
        progress.update()
        for future in as_completed(futures):
            key = future.key.removeprefix("point-")
            try:
                row = future.result()
            except Exception as exc:  # noqa: BLE001 - a worker lost, a pickling problem
                row = {"point": asdict(by_key[key]), "key": key,
                       "error": f"{type(exc).__name__}: {exc}"}
            rows[key] = row
            pending -= 1
            progress.running = min(slots, pending)
            progress.update(row, by_key[key].label)
    except KeyboardInterrupt:
        for f in futures:
            f.cancel()
        raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# -- the projection of each point -------------------------------------------------------------

def project_point(row: dict, base: dict, nets: Sequence[str], batch: int = 32,
                  baseline_macs: int = 1024, bandwidth_gbs: float = 64.0) -> dict[str, float]:
    """Training-step speedup of ``row``'s system over ``base``'s (each point's row) on each
    network: equal MAC-array area (the point gets as many PEs as fit the baseline's
    ``baseline_macs`` PEs, by the arrays' area per MAC), equal bandwidth, each at its own
    clock; the first and last layers of points with operands under 16 bits in the accumulator
    format, as in the paper. The baseline against itself is 1 exactly."""
    from fp8forge.model import throughput as model
    from fp8forge.model.networks import network
    from fp8forge.model.throughput import System, array_shape

    p, b = SweepPoint(**row["point"]), SweepPoint(**base["point"])
    (in8, acc8, _), (in16, acc16, _) = p.datapath(), b.datapath()
    ratio = base["array_area_per_mac_um2"] / row["array_area_per_mac_um2"]
    b_arrays, b_side = array_shape(baseline_macs)
    f_arrays, f_side = array_shape(max(1, int(b_arrays * b_side * b_side * ratio)))
    common = dict(bandwidth_gbs=bandwidth_gbs, interleave=2 if p.pipelined else 1)
    baseline = System("baseline", in16, acc16, in16, acc16, b.chunk, b_side, b_side, b_arrays,
                      clock_ghz=1 / base["clock_ns"], **common)
    # As in the paper, operands narrower than 16 bits keep the first and last layer in the
    # accumulator format, on the baseline's MACs per area; the baseline itself has none.
    wide = None
    if p != b and in8.width < 16:
        wide = replace(baseline, name="16-bit layers", in_fmt=acc8, acc_fmt=acc8,
                       act_fmt=acc8, update_fmt=acc8, chunk=p.chunk)
    system = System("point", in8, acc8, in8, acc8, p.chunk, f_side, f_side, f_arrays,
                    clock_ghz=1 / row["clock_ns"], wide=wide, **common)
    out = {}
    for name in nets:
        net = network(name)
        first_last = (frozenset({net.layers[0].name, net.layers[-1].name}) if wide
                      else frozenset())
        fast = model.step_seconds(model.training_step(system, net, batch, wide_layers=first_last))
        slow = model.step_seconds(model.training_step(baseline, net, batch))
        out[name] = slow / fast
    return out


def attach_projections(rows: list[dict], nets: Sequence[str],
                       baseline: tuple[str, str] = BASELINE_FORMATS) -> None:
    """Add ``speedup`` (per network, against the baseline at the same side, clock and
    pipelining) to every successful row."""
    by_point = {SweepPoint(**r["point"]): r for r in rows if "error" not in r}
    for row in rows:
        if "error" in row:
            continue
        base = by_point.get(baseline_point(SweepPoint(**row["point"]), baseline))
        row["speedup"] = project_point(row, base, nets) if base else {}

