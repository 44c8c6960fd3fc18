"""What each row of ``synth --compare`` measured, as a key: the one join between the
comparison (``compare.json``) and its readers (``project``, ``demo``, the ratios).

A row's ``key`` names the unit and the datapath fields it was built from (formats by name,
chunk length, array side, update rounding, variant); its ``label`` is only for people and is
derived from the key. Readers look rows up by the key of a ``golden.design.Datapath``
(``pe_key(PAPER)``, ``array_key(BASELINE, 8)``), so the paper's design point changes in one
place (``golden/design.py``) and every row, label and lookup follows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields, replace

from fp8forge.golden.design import BASELINE, PAPER, Datapath
from fp8forge.golden.formats import Rounding

__all__ = ["GATED", "PIPELINED", "SHARED_ADDER", "RowKey", "adder_key", "array_key",
           "axpy_key", "index", "label", "lfsr_key", "multiplier_key", "pe_key"]

#: Variants of a unit (``RowKey.variant``): the product registered and two dot products
#: interleaved; integrated clock gating; one adder for inner and outer sums.
PIPELINED = "pipelined"
GATED = "clock-gated"
SHARED_ADDER = "shared adder"


@dataclass(frozen=True)
class RowKey:
    """What one comparison row measured.

    ``unit``: "PE", "MacArray", "AXPY", "LFSR", "multiplier" or "adder". ``in_fmt`` and
    ``acc_fmt`` are format names (an AXPY lane's update format is its ``acc_fmt``); ``chunk``
    None means no chunking; ``side`` is a MacArray's side or the lanes sharing one LFSR;
    ``rounding`` and ``rbits`` describe an AXPY lane; ``variant`` is "" or one of
    ``PIPELINED``, ``GATED``, ``SHARED_ADDER``.
    """

    unit: str
    in_fmt: str | None = None
    acc_fmt: str | None = None
    chunk: int | None = None
    side: int | None = None
    rounding: str | None = None
    rbits: int | None = None
    variant: str = ""

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: object) -> RowKey | None:
        """The key stored in a row, or None if ``data`` is not one."""
        names = {f.name for f in fields(cls)}
        if not (isinstance(data, dict) and set(data) == names and isinstance(data["unit"], str)):
            return None
        return cls(**data)

    def with_variant(self, variant: str) -> RowKey:
        return replace(self, variant=variant)


def pe_key(dp: Datapath, variant: str = "") -> RowKey:
    """The MAC PE of a datapath (its operand and accumulation formats and chunk length)."""
    return RowKey("PE", dp.in_fmt.name, dp.acc_fmt.name, dp.chunk, variant=variant)


def array_key(dp: Datapath, side: int, variant: str = "") -> RowKey:
    """A side x side MacArray of a datapath (area and energy per MAC)."""
    return RowKey("MacArray", dp.in_fmt.name, dp.acc_fmt.name, dp.chunk, side=side,
                  variant=variant)


def axpy_key(dp: Datapath, rounding: Rounding | None = None) -> RowKey:
    """The weight-update lane of a datapath (its update format; ``rounding`` overrides the
    datapath's, e.g. the paper's lane rounding to nearest)."""
    rounding = dp.update_rounding if rounding is None else rounding
    return RowKey("AXPY", acc_fmt=dp.update_fmt.name, rounding=rounding.name,
                  rbits=dp.rbits if rounding is Rounding.SR else None)


def lfsr_key(shared_by: int, rbits: int = PAPER.rbits) -> RowKey:
    """The LFSR cost per lane when one LFSR feeds ``shared_by`` lanes of ``rbits`` bits."""
    return RowKey("LFSR", side=shared_by, rbits=rbits)


def multiplier_key(dp: Datapath) -> RowKey:
    """The datapath's multiplier synthesized alone (operands into the accumulation format)."""
    return RowKey("multiplier", dp.in_fmt.name, dp.acc_fmt.name)


def adder_key(dp: Datapath) -> RowKey:
    """The datapath's accumulation adder synthesized alone (RNE)."""
    return RowKey("adder", acc_fmt=dp.acc_fmt.name)


def _is_baseline(key: RowKey) -> bool:
    base = {"PE": pe_key(BASELINE), "AXPY": axpy_key(BASELINE),
            "multiplier": multiplier_key(BASELINE), "adder": adder_key(BASELINE)}.get(key.unit)
    if key.unit == "MacArray" and key.side is not None:
        base = array_key(BASELINE, key.side)
    return base is not None and key.with_variant("") == base


def label(key: RowKey) -> str:
    """The row's name for people, e.g. "PE e5m2->e6m9 chunk 64, pipelined",
    "MacArray 8x8 fp16->fp32 (baseline)", "AXPY lane e6m9 SR 12b"."""
    chunking = "no chunking" if key.chunk is None else f"chunk {key.chunk}"
    if key.unit == "PE":
        text = f"PE {key.in_fmt}->{key.acc_fmt} {chunking}"
    elif key.unit == "MacArray":
        text = f"MacArray {key.side}x{key.side} {key.in_fmt}->{key.acc_fmt} {chunking}"
    elif key.unit == "AXPY":
        text = f"AXPY lane {key.acc_fmt} {key.rounding}" + (f" {key.rbits}b" if key.rbits else "")
    elif key.unit == "LFSR":
        text = f"LFSR per lane, shared by {key.side}"
    elif key.unit == "multiplier":
        text = f"block: multiplier {key.in_fmt}->{key.acc_fmt}"
    else:
        text = f"block: {key.unit} {key.acc_fmt}"
    if _is_baseline(key):
        # The baseline never chunks; its label says what it is instead.
        text = text.removesuffix(" no chunking") + " (baseline)"
    return text + (f", {key.variant}" if key.variant else "")


def index(rows: Iterable[dict]) -> dict[RowKey, dict]:
    """The rows that carry a key, by key (rows without one, e.g. from an older comparison, are
    left out)."""
    out = {}
    for row in rows:
        key = RowKey.from_json(row.get("key"))
        if key is not None:
            out[key] = row
    return out
