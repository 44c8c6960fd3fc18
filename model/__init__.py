"""The cycle-level throughput model of a training step: network layer lists and their GEMMs
(``networks``), systems of MacArrays and the per-GEMM cycles and bytes (``throughput``), and
SCALE-Sim's cycle convention for comparison (``scalesim``). Imports no Amaranth: the array's
cycle formulas come from ``hdl.array_timing``.

Contract: ``docs/contract.md`` section 6.
"""
