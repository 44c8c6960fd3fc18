"""``make demo`` / ``fp8forge demo``: the whole flow on the default design point.

Formats, the swamping example, Verilog of the default units, a short MacArray GEMM on
Verilator against the golden model, synthesis of the PE pair (and the rest of the comparison),
and the training-step projection for ResNet-50 and AlexNet. Everything is printed and also
collected into ``BUILD/report.md``, which a newcomer reads top to bottom: what was built, that
it was verified, how big it is, how fast it would train, and why.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fp8forge.files import atomic_write

from .formats_table import formats_table
from .generate import write_default_units
from .swamping import swamping_example

DEMO_NETS = ("resnet50", "alexnet")
DEMO_BATCH = 32


def run_demo(build: Path, *, length: int = 4096, rtl: bool = True, synth: bool = True,
             liberty: str | Path | None = None, echo: Callable[[str], None] = print) -> Path:
    """Run the flow, echo each section as it completes, write ``build/report.md``.

    ``liberty`` defaults as ``fp8forge.pdk.resolve_liberty`` says (the shipped library)."""
    from fp8forge.pdk import resolve_liberty

    sections: list[str] = ["# fp8forge demo report", "",
                           "Produced by `make demo` (`fp8forge demo`); every number below "
                           "comes from the commands named next to it.", ""]

    def emit(*lines: str) -> None:
        for line in lines:
            echo(line)
            sections.append(line)

    emit("## 1. Formats", "", "The paper's formats among the presets (`fp8forge formats`):", "",
         "```", formats_table(), "```", "")
    swamp = swamping_example(length)
    emit("## 2. Why chunk-based accumulation", "",
         f"An e5m2 dot product of length {swamp.length} (positive operands, as after a ReLU) "
         "accumulated in e6m9 by the golden model, which the RTL matches bit for bit. Plain "
         "accumulation stalls once the running sum dwarfs the addends (swamping); chunks of 64 "
         "keep it close to float64:", "", "```", swamp.table(), "```", "")
    emit("## 3. What was built", "",
         f"Verilog of the default design point (`fp8forge generate`), in `{build}/rtl/`:", "",
         "```", *write_default_units(build), "```", "")
    if rtl:
        from .rtl_demo import macarray_demo

        echo("(RTL simulation: Verilator builds once, then cached under build/sim/)")
        emit("## 4. Verified on the simulator", "",
             "The generated MacArray runs a GEMM in cocotb on Verilator; every output is compared "
             "bit for bit with the golden `gemm`, and the measured cycles with "
             "`MacArray.cycles()`, the formula the throughput model uses (the full suite, "
             "`make test`, does this on Verilator and Icarus for many shapes under stalls):", "",
             "```", macarray_demo(), "```", "")
    synth_json = build / "synth" / "compare" / "compare.json"
    if synth:
        from fp8forge.pdk import DEFAULT_LIBERTY

        from .compare import compare_markdown, run_compare

        library = resolve_liberty(liberty)
        echo(f"(synthesis with {library.name}; a few minutes the first time, cached after)")
        out = synth_json.parent
        rows = run_compare(library, out, cache_dir=out.parent / "cache", progress=echo)
        option = "" if library == DEFAULT_LIBERTY else f" --liberty {library}"
        emit("## 5. How big it is", "",
             f"Yosys + ABC on `{library.name}` (`fp8forge synth --compare{option}`); the "
             "table names the tool behind each column:", "", compare_markdown(rows),
             f"![synthesis comparison]({out.relative_to(build)}/compare.png)", "")
    if synth_json.exists():
        sections += _projection(build, synth_json, echo)
    else:
        emit("## 6. How fast it would train", "",
             "Skipped: the projection needs the synthesis comparison (section 5).", "")
    report = build / "report.md"
    atomic_write(report, "\n".join(sections) + "\n")
    echo(f"\nreport: {report}")
    return report


def _projection(build: Path, synth_json: Path, echo: Callable[[str], None]) -> list[str]:
    from .project import DesignPoint, run_project, summary_markdown, text_progress, why_markdown

    out = build / "project"
    command = (f"fp8forge project --net {','.join(DEMO_NETS)} --batch {DEMO_BATCH} "
               f"--synth {synth_json} -o {out}")
    data = run_project(DesignPoint(synth_json=synth_json), DEMO_NETS, DEMO_BATCH, out,
                       command=command, progress=text_progress())
    table = summary_markdown(data)
    lines = ["## 6. How fast it would train", "",
             f"The cycle-level model (`{command}`) runs a whole training step of each network "
             "on the FP8 system and the fp16/fp32 baseline built into the same MAC-array area "
             "with the same off-chip bandwidth:", "",
             f"- FP8: {data['systems']['fp8']}", f"- baseline: {data['systems']['baseline']}",
             f"- areas: {data['calibration']['source']}", "", table, ""]
    lines += ["## 7. Why", "", *why_markdown(data, image_dir="project/")]
    lines += [f"Full per-layer tables and the model's assumptions: `{out}/project.md`.", ""]
    for line in lines:
        echo(line)
    return lines
