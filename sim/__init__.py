"""cocotb benches (``sim/benches``), their runner and stream helpers; later the throughput model.

Contract: ``docs/contract.md`` sections 4 and 6.
"""
