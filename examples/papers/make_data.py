#!/usr/bin/env python3
"""Random weights of the right shapes for the papers' networks (examples/papers/*.kiln).

The estimate (`kiln report`) needs the shapes and types of the weights, not trained
values; the values only narrow the accumulators' inferred types. The data is
generated deterministically (seed 2018) into data/ next to this file, which git
ignores (VGG16's convolution weights alone are 14.7 M values).

    python3 examples/papers/make_data.py            # every network
    python3 examples/papers/make_data.py alexnet    # the networks whose name has "alexnet"
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")

# AlexNet's convolution layers (one tower: no channel groups): (K, C, R).
ALEXNET = [(96, 3, 11), (256, 96, 5), (384, 256, 3), (384, 384, 3), (256, 384, 3)]
# VGG16's thirteen 3x3 convolution layers: (K, C).
VGG16 = [(64, 3), (64, 64), (128, 64), (128, 128), (256, 128), (256, 256), (256, 256),
         (512, 256), (512, 512), (512, 512), (512, 512), (512, 512), (512, 512)]


def levels(rng, shape, kind):
    if kind == "bin":
        return rng.choice(np.array([-1, 1], dtype=np.int8), size=shape)
    if kind == "tern":
        return rng.choice(np.array([-1, 0, 1], dtype=np.int8), size=shape)
    bits = int(kind)
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    dtype = np.int8 if bits <= 8 else np.int16
    # Small weights, as trained ones are: a quarter of the range.
    return rng.integers(lo // 4, hi // 4 + 1, size=shape).astype(dtype)


def sets():
    """name -> list of (file, shape, kind)."""
    out = {}
    for bits in (16, 8):
        out[f"alexnet_w{bits}"] = [(f"alex_w{bits}_{i + 1}.npy", (k, c, r, r), str(bits))
                                   for i, (k, c, r) in enumerate(ALEXNET)]
        out[f"vgg16_w{bits}"] = [(f"vgg_w{bits}_{i + 1}.npy", (k, c, 3, 3), str(bits))
                                 for i, (k, c) in enumerate(VGG16)]
    for kind in ("bin", "tern"):
        layers = []
        for i, (k, c, r) in enumerate(ALEXNET):
            # 8-bit first layer; binary or ternary hidden layers (the 8-bit last layer
            # is FC8, which the scripts leave out with FC6 and FC7).
            layers.append((f"elb_{kind}_{i + 1}.npy", (k, c, r, r), "8" if i == 0 else kind))
        out[f"elbnn_alexnet_{kind}"] = layers
    return out


def main():
    want = sys.argv[1:]
    os.makedirs(DATA, exist_ok=True)
    for name, files in sets().items():
        if want and not any(w in name for w in want):
            continue
        rng = np.random.default_rng(2018)
        for f, shape, kind in files:
            path = os.path.join(DATA, f)
            if not os.path.exists(path):
                np.save(path, levels(rng, shape, kind))
    return 0


if __name__ == "__main__":
    sys.exit(main())
