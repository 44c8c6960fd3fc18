"""cocotb benches (``sim/benches``), their runner and stream helpers, and the cycle-level
throughput model (``networks``, ``throughput``, ``scalesim``).

Contract: ``docs/contract.md`` sections 4 and 6.
"""
