"""The one pipeline-register helper of fp8forge's generators."""

from __future__ import annotations

from dataclasses import fields, is_dataclass, replace
from typing import Any

from amaranth.hdl import Module, Signal, Value

from .fp import Exp, Fields

__all__ = ["register", "register_fields"]


def register(m: Module, value: Value, name: str, cycles: int = 1) -> Value:
    """``value`` delayed by ``cycles`` registers in the ``sync`` domain (0: unchanged)."""
    for i in range(cycles):
        reg = Signal.like(Value.cast(value), name=f"{name}_p{i}" if cycles > 1 else f"{name}_p")
        m.d.sync += reg.eq(value)
        value = reg
    return value


def register_fields(m: Module, f: Fields, name: str) -> Fields:
    """Register every member of an exact value (one pipeline cut between datapath phases)."""
    assert is_dataclass(f)
    changes: dict[str, Any] = {}
    for field in fields(f):
        member = getattr(f, field.name)
        if isinstance(member, int):  # elaboration-time bounds travel unchanged
            continue
        if isinstance(member, Exp):
            changes[field.name] = Exp(register(m, member.value, f"{name}_{field.name}"),
                                      member.lo, member.hi)
        else:
            changes[field.name] = register(m, member, f"{name}_{field.name}")
    return replace(f, **changes)
