"""Amaranth generators of fp8forge: floating-point units, accumulators, PEs, the MacArray.

Contract: ``docs/contract.md`` sections 2 and 3; the golden model (``fp8forge.golden``) defines
every result.
"""
