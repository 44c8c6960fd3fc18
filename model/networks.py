"""Training workloads as GEMMs: networks as layer lists, lowered by im2col.

A convolution with C input channels, Kout filters of R x S, producing a P x Q output map for a
batch of B images is, per training step, three GEMMs (``C = A @ B`` with A of M x K and B of
K x N):

========  =============  ===========  ==========  ======================================
pass      M              N            K           operands
========  =============  ===========  ==========  ======================================
fwd       B*P*Q          Kout         C*R*S       activations (im2col) x weights
dgrad     B*P*Q          C*R*S        Kout        output gradients x weights^T (then col2im)
wgrad     C*R*S          Kout         B*P*Q       activations^T x output gradients
========  =============  ===========  ==========  ======================================

The first layer has no ``dgrad`` (nothing upstream needs its input gradient). A fully
connected layer is a 1 x 1 convolution on a 1 x 1 map. Pooling, batch normalisation, ReLU,
residual additions and biases are not GEMMs and are left out (they are a few per cent of the
work and run on other units); the weight count is that of conv and fc weights only, which is
what the three AXPYs per weight (L2, momentum, update) touch.

Networks (``NETWORKS``): CIFAR-10 ResNet-20 (He et al. 2016, option-A shortcuts without
weights, 32 x 32 inputs), AlexNet (the single-tower torchvision variant, 224 x 224),
ResNet-18 and ResNet-50 v1.5 (stride in the 3 x 3 convolution, 224 x 224). ResNet-50 comes
to 4.09 GMAC forward and 12.15 GMAC per training step per image.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

PASSES = ("fwd", "dgrad", "wgrad")


@dataclass(frozen=True)
class Layer:
    """One conv (or fc: ``kernel=1`` on a 1 x 1 map) layer of a network."""

    name: str
    in_ch: int
    out_ch: int
    kernel: int
    stride: int
    padding: int
    in_hw: int

    @property
    def out_hw(self) -> int:
        return (self.in_hw + 2 * self.padding - self.kernel) // self.stride + 1

    @property
    def weights(self) -> int:
        return self.out_ch * self.in_ch * self.kernel * self.kernel

    def macs(self, batch: int = 1) -> int:
        """Multiply-accumulates of the forward pass for ``batch`` images."""
        return batch * self.out_hw ** 2 * self.weights

    def gemms(self, batch: int, *, first: bool = False) -> list[Gemm]:
        """The training step's GEMMs of this layer (no ``dgrad`` for the first layer)."""
        pq = batch * self.out_hw ** 2
        crs = self.in_ch * self.kernel * self.kernel
        out = [Gemm(self, "fwd", pq, self.out_ch, crs)]
        if not first:
            out.append(Gemm(self, "dgrad", pq, crs, self.out_ch))
        out.append(Gemm(self, "wgrad", crs, self.out_ch, pq))
        return out


@dataclass(frozen=True)
class Gemm:
    """``C[M x N] = A[M x K] @ B[K x N]`` for one pass of one layer."""

    layer: Layer | None  # None for a bare GEMM
    pass_: str
    m: int
    n: int
    k: int

    @property
    def macs(self) -> int:
        return self.m * self.n * self.k


@dataclass(frozen=True)
class Network:
    name: str
    layers: tuple[Layer, ...]

    @property
    def weights(self) -> int:
        return sum(layer.weights for layer in self.layers)

    def macs(self, batch: int = 1) -> int:
        """Forward multiply-accumulates for ``batch`` images."""
        return sum(layer.macs(batch) for layer in self.layers)

    def gemms(self, batch: int) -> list[Gemm]:
        """Every GEMM of one training step, layer by layer, in pass order fwd, dgrad, wgrad."""
        return [g for i, layer in enumerate(self.layers) for g in layer.gemms(batch, first=i == 0)]

    def step_macs(self, batch: int = 1) -> int:
        return sum(g.macs for g in self.gemms(batch))


class _Builder:
    """Tracks the feature-map size while layers are appended."""

    def __init__(self, hw: int):
        self.hw = hw
        self.layers: list[Layer] = []

    def conv(self, name: str, cin: int, cout: int, k: int, stride: int = 1,
             pad: int | None = None, *, advance: bool = True) -> Layer:
        layer = Layer(name, cin, cout, k, stride, k // 2 if pad is None else pad, self.hw)
        self.layers.append(layer)
        if advance:
            self.hw = layer.out_hw
        return layer

    def pool(self, k: int, stride: int, pad: int = 0) -> None:
        self.hw = (self.hw + 2 * pad - k) // stride + 1

    def fc(self, name: str, fin: int, fout: int) -> None:
        self.layers.append(Layer(name, fin, fout, 1, 1, 0, 1))


def resnet20() -> Network:
    b = _Builder(32)
    b.conv("conv1", 3, 16, 3)
    cin = 16
    for stage, width in enumerate((16, 32, 64), 1):
        for block in range(3):
            stride = 2 if stage > 1 and block == 0 else 1
            b.conv(f"s{stage}b{block}.conv1", cin, width, 3, stride)
            b.conv(f"s{stage}b{block}.conv2", width, width, 3)
            cin = width
    b.fc("fc", 64, 10)
    return Network("resnet20", tuple(b.layers))


def alexnet() -> Network:
    b = _Builder(224)
    b.conv("conv1", 3, 64, 11, 4, 2)
    b.pool(3, 2)
    b.conv("conv2", 64, 192, 5, 1, 2)
    b.pool(3, 2)
    b.conv("conv3", 192, 384, 3)
    b.conv("conv4", 384, 256, 3)
    b.conv("conv5", 256, 256, 3)
    b.pool(3, 2)
    b.fc("fc6", 256 * b.hw * b.hw, 4096)
    b.fc("fc7", 4096, 4096)
    b.fc("fc8", 4096, 1000)
    return Network("alexnet", tuple(b.layers))


def _resnet_stem(b: _Builder) -> None:
    b.conv("conv1", 3, 64, 7, 2, 3)
    b.pool(3, 2, 1)


def resnet18() -> Network:
    b = _Builder(224)
    _resnet_stem(b)
    cin = 64
    for stage, width in enumerate((64, 128, 256, 512), 1):
        for block in range(2):
            stride = 2 if stage > 1 and block == 0 else 1
            name = f"layer{stage}.{block}"
            if stride != 1 or cin != width:
                b.conv(f"{name}.downsample", cin, width, 1, stride, 0, advance=False)
            b.conv(f"{name}.conv1", cin, width, 3, stride)
            b.conv(f"{name}.conv2", width, width, 3)
            cin = width
    b.fc("fc", 512, 1000)
    return Network("resnet18", tuple(b.layers))


def resnet50() -> Network:
    """ResNet-50 v1.5: the stride of a downsampling bottleneck is in its 3 x 3 convolution."""
    b = _Builder(224)
    _resnet_stem(b)
    cin = 64
    for stage, (width, blocks) in enumerate(zip((64, 128, 256, 512), (3, 4, 6, 3), strict=True), 1):
        for block in range(blocks):
            stride = 2 if stage > 1 and block == 0 else 1
            name = f"layer{stage}.{block}"
            if block == 0:
                b.conv(f"{name}.downsample", cin, 4 * width, 1, stride, 0, advance=False)
            b.conv(f"{name}.conv1", cin, width, 1)
            b.conv(f"{name}.conv2", width, width, 3, stride)
            b.conv(f"{name}.conv3", width, 4 * width, 1)
            cin = 4 * width
    b.fc("fc", 2048, 1000)
    return Network("resnet50", tuple(b.layers))


NETWORKS: dict[str, Callable[[], Network]] = {
    "resnet20": resnet20, "alexnet": alexnet, "resnet18": resnet18, "resnet50": resnet50,
}


def network(name: str) -> Network:
    """The network called ``name`` (one of ``NETWORKS``); ValueError otherwise."""
    try:
        return NETWORKS[name]()
    except KeyError:
        raise ValueError(f"unknown network {name!r} (known: {', '.join(NETWORKS)})") from None
