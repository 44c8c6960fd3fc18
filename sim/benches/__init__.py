"""cocotb test modules; each reads its parameters from ``FP8FORGE_BENCH`` (see sim/runner.py)."""
