"""Binary floating-point formats: the single source of truth for golden, HDL, CLI and reports.

Contract: ``docs/contract.md`` section 1. A format is ``sign | exponent | mantissa`` with
``exp_bits`` exponent bits, ``man_bits`` stored mantissa bits and an exponent ``bias``.
``specials="ieee"`` reserves the top exponent code for infinities and NaNs; ``specials="fn"``
(OCP E4M3 style) has no infinities and only the all-ones magnitude is NaN. With
``subnormals=False`` subnormal encodings read as zero and tiny results flush to zero.

Every limit is derived from the parameters here, exactly, with integer arithmetic; nothing
else in fp8forge recomputes them.
"""

from __future__ import annotations

import enum
import operator
import re
from dataclasses import dataclass
from fractions import Fraction

__all__ = ["FloatFormat", "Rounding", "Specials", "PRESETS", "as_format", "parse_format"]


class Rounding(enum.Enum):
    """Rounding modes of contract section 2."""

    #: IEEE round to nearest, ties to even.
    RNE = "rne"
    #: Round toward zero (truncate the magnitude).
    RTZ = "rtz"
    #: Stochastic rounding with explicit random integers (see ``golden.arith``).
    SR = "sr"


class Specials(enum.Enum):
    """How the top of the encoding space is used."""

    #: Top exponent code: mantissa 0 is infinity, anything else NaN.
    IEEE = "ieee"
    #: No infinities; only the all-ones magnitude is NaN (OCP E4M3 "fn").
    FN = "fn"


@dataclass(frozen=True)
class FloatFormat:
    """A binary floating-point format.

    Parameters
    ----------
    exp_bits : int
        Exponent field width, 2..11.
    man_bits : int
        Stored mantissa (fraction) width, 0..52.
    bias : int, optional
        Exponent bias; default ``2**(exp_bits-1) - 1``.
    specials : Specials or str
        ``"ieee"`` or ``"fn"``.
    subnormals : bool
        True for gradual underflow, False to flush subnormal inputs and results to zero.

    Raises
    ------
    ValueError
        For any parameter outside its range or a combination that leaves no normal numbers or
        no room for NaN; the message names the parameter and the value.
    """

    exp_bits: int
    man_bits: int
    # None selects 2**(exp_bits-1) - 1; __post_init__ replaces it, so readers always see an int.
    bias: int = None  # type: ignore[assignment]
    specials: Specials = Specials.IEEE
    subnormals: bool = True

    def __post_init__(self) -> None:
        exp_bits = _coerce_int("exp_bits", self.exp_bits)
        man_bits = _coerce_int("man_bits", self.man_bits)
        if not 2 <= exp_bits <= 11:
            raise ValueError(f"exp_bits must be in 2..11, not {self.exp_bits!r}")
        if not 0 <= man_bits <= 52:
            raise ValueError(f"man_bits must be in 0..52, not {self.man_bits!r}")
        bias = 2 ** (exp_bits - 1) - 1 if self.bias is None else _coerce_int("bias", self.bias)
        try:
            specials = Specials(self.specials)
        except ValueError:
            raise ValueError(
                f"specials must be 'ieee' or 'fn', not {self.specials!r}"
            ) from None
        if not isinstance(self.subnormals, bool):
            raise ValueError(f"subnormals must be a bool, not {self.subnormals!r}")
        object.__setattr__(self, "exp_bits", exp_bits)
        object.__setattr__(self, "man_bits", man_bits)
        object.__setattr__(self, "bias", bias)
        object.__setattr__(self, "specials", specials)
        if specials is Specials.IEEE and man_bits == 0:
            raise ValueError("man_bits must be at least 1 for ieee specials (NaN needs a mantissa)")
        if specials is Specials.FN and exp_bits + man_bits < 2:
            raise ValueError(
                f"fn formats need exp_bits + man_bits >= 2 to hold NaN, not {exp_bits + man_bits}"
            )
        # Keep every value inside float64's range so that decode() is exact.
        if self.emax > 1023 or self.emin - man_bits < -1074:
            raise ValueError(
                f"bias {bias} puts e{exp_bits}m{man_bits} outside float64's exponent range"
            )

    # -- layout ----------------------------------------------------------------------------------

    @property
    def width(self) -> int:
        """Total bits: ``1 + exp_bits + man_bits``."""
        return 1 + self.exp_bits + self.man_bits

    @property
    def precision(self) -> int:
        """Significand precision in bits, including the hidden bit."""
        return self.man_bits + 1

    @property
    def sign_mask(self) -> int:
        return 1 << (self.exp_bits + self.man_bits)

    @property
    def exp_mask(self) -> int:
        """Mask of the exponent field in place."""
        return ((1 << self.exp_bits) - 1) << self.man_bits

    @property
    def man_mask(self) -> int:
        return (1 << self.man_bits) - 1

    @property
    def emax_field(self) -> int:
        """Largest exponent field value that encodes finite normal numbers."""
        top = (1 << self.exp_bits) - 1
        return top - 1 if self.specials is Specials.IEEE else top

    # -- exponent range --------------------------------------------------------------------------

    @property
    def emin(self) -> int:
        """Unbiased exponent of the smallest normal number."""
        return 1 - self.bias

    @property
    def emax(self) -> int:
        """Unbiased exponent of the largest finite number."""
        return self.emax_field - self.bias

    # -- encodings (magnitudes, sign bit clear) --------------------------------------------------

    @property
    def max_finite_bits(self) -> int:
        """Encoding of +max_finite."""
        if self.specials is Specials.IEEE:
            return (self.emax_field << self.man_bits) | self.man_mask
        return (1 << (self.exp_bits + self.man_bits)) - 2  # all-ones magnitude is NaN

    @property
    def inf_bits(self) -> int | None:
        """Encoding of +inf, or None for ``fn`` formats."""
        if self.specials is Specials.FN:
            return None
        return self.exp_mask

    @property
    def nan_bits(self) -> int:
        """Canonical NaN: sign 0, exponent all ones, mantissa MSB set (all ones for ``fn``)."""
        if self.specials is Specials.FN:
            return (1 << (self.exp_bits + self.man_bits)) - 1
        if self.man_bits == 0:
            raise ValueError(f"{self.name} has man_bits=0 and so cannot encode NaN")
        return self.exp_mask | (1 << (self.man_bits - 1))

    # -- derived limits (exact) ------------------------------------------------------------------

    @property
    def max_finite(self) -> Fraction:
        """Largest finite value, exactly."""
        man = self.max_finite_bits & self.man_mask
        return _pow2(self.emax) * (1 + Fraction(man, 1 << self.man_bits))

    @property
    def min_normal(self) -> Fraction:
        return _pow2(self.emin)

    @property
    def min_subnormal(self) -> Fraction:
        """Smallest positive value: the subnormal ulp, or min_normal without subnormals."""
        if not self.subnormals:
            return self.min_normal
        return _pow2(self.emin - self.man_bits)

    @property
    def eps(self) -> Fraction:
        """Distance from 1.0 to the next larger value (``2**-man_bits``)."""
        return _pow2(-self.man_bits)

    @property
    def name(self) -> str:
        """Preset name if this is a preset, else ``eXmY`` / ``eXmYfn`` with extras spelled out."""
        for preset_name, preset in PRESETS.items():
            if preset == self:
                return preset_name
        base = f"e{self.exp_bits}m{self.man_bits}"
        if self.specials is Specials.FN:
            base += "fn"
        extras = []
        if self.bias != 2 ** (self.exp_bits - 1) - 1:
            extras.append(f"bias={self.bias}")
        if not self.subnormals:
            extras.append("ftz")
        return base + (f"[{','.join(extras)}]" if extras else "")

    def __str__(self) -> str:
        return self.name


def _coerce_int(name: str, value: object) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer, not {value!r}")
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise ValueError(f"{name} must be an integer, not {value!r}") from None


def _pow2(e: int) -> Fraction:
    return Fraction(2) ** e


PRESETS: dict[str, FloatFormat] = {
    "e5m2": FloatFormat(5, 2),
    "e4m3fn": FloatFormat(4, 3, specials=Specials.FN),
    "e6m9": FloatFormat(6, 9),
    "dlfloat16": FloatFormat(6, 9, subnormals=False),
    "fp16": FloatFormat(5, 10),
    "bf16": FloatFormat(8, 7),
    "fp32": FloatFormat(8, 23),
}

#: Role of each preset, as in the contract's table (used by ``fp8forge formats``).
PRESET_ROLES: dict[str, str] = {
    "e5m2": "the paper's FP8; identical to OCP E5M2",
    "e4m3fn": "OCP E4M3 (HFP8 forward pass)",
    "e6m9": "the paper's FP16 (1,6,9) accumulator",
    "dlfloat16": "IBM DLFloat16 variant",
    "fp16": "IEEE binary16 (baseline)",
    "bf16": "bfloat16",
    "fp32": "IEEE binary32 (baseline accumulator)",
}

_EXMY = re.compile(r"e(\d+)m(\d+)(fn)?(?:\[([^\]]*)\])?")


def parse_format(text: str | FloatFormat) -> FloatFormat:
    """Return the format named ``text``.

    Accepts a preset name, ``eXmY``, ``eXmYfn``, and the extras ``FloatFormat.name`` writes
    for non-default parameters, e.g. ``e6m9[bias=30,ftz]``, so every name round-trips.
    Raises ``ValueError`` naming the text when it is none of these.
    """
    if isinstance(text, FloatFormat):
        return text
    key = str(text).strip().lower()
    if key in PRESETS:
        return PRESETS[key]
    match = _EXMY.fullmatch(key)
    if match is None:
        known = ", ".join(PRESETS)
        raise ValueError(f"unknown format {text!r}: use one of {known}, or eXmY / eXmYfn")
    specials = Specials.FN if match.group(3) else Specials.IEEE
    # None selects 2**(exp_bits-1) - 1; __post_init__ replaces it, so readers always see an int.
    bias: int = None  # type: ignore[assignment]
    subnormals = True
    for extra in filter(None, (match.group(4) or "").split(",")):
        if extra == "ftz":
            subnormals = False
        elif extra.startswith("bias=") and re.fullmatch(r"-?\d+", extra[5:]):
            bias = int(extra[5:])
        else:
            raise ValueError(f"unknown format option {extra!r} in {text!r}: use bias=N or ftz")
    return FloatFormat(int(match.group(1)), int(match.group(2)), bias, specials, subnormals)


def as_format(fmt: object, name: str = "fmt") -> FloatFormat:
    """``fmt`` as a ``FloatFormat``: every golden function takes a format object or any name
    ``parse_format`` reads (``"e5m2"``, ``"e6m9[bias=30,ftz]"``). Raises ``TypeError`` for
    anything else and ``ValueError`` for an unknown name."""
    if isinstance(fmt, FloatFormat):
        return fmt
    if isinstance(fmt, str):
        return parse_format(fmt)
    raise TypeError(f"{name} must be a FloatFormat or a format name, not {fmt!r}")
