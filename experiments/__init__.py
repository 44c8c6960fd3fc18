"""The paper's experiments on the golden arithmetic (``fp8forge experiment NAME``).

``accumulation`` (swamping and chunk size), ``gradients`` (weight-gradient fidelity, chunk 1 vs
64), ``update`` (RNE vs SR weight updates), ``train`` (small networks trained with every GEMM
and weight update in the bit-exact golden model) and ``lrsweep`` (SR vs RNE updates in training
across learning rates).
Each has a ``quick`` setting for the test suite and a full one for ``make experiments``.
"""
