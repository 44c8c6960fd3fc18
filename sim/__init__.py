"""cocotb verification: the benches (``sim/benches``), their runner and stream helpers.

Contract: ``docs/contract.md`` section 4.
"""
