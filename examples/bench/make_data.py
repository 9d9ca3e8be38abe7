"""Deterministic inputs for the benchmark kernels in examples/bench/kernels (needs numpy).

    python3 examples/bench/make_data.py

Writes data/*.npy (the full-size inputs the kernels load by default, about 4 MB) and
data/small/*.npy (small variants, run through the generic kernel with --kernel and
--input; benches/jit.rs checks every engine on them). Fixed seeds: the files are
reproducible (numpy's default_rng / PCG64).
"""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
SMALL = os.path.join(DATA, "small")


def save(d, name, a):
    os.makedirs(d, exist_ok=True)
    np.save(os.path.join(d, name + ".npy"), np.ascontiguousarray(a))


def conv_fixed(d, rng, c, k, h):
    # fixed<8, 4> activations: 8-bit mantissas m, value m / 16, exactly representable
    # in float32; int<2> weights in -2..1.
    x = rng.integers(-128, 128, (c, h, h)).astype(np.float32) / np.float32(16)
    w = rng.integers(-2, 2, (k, c, 3, 3)).astype(np.int8)
    save(d, "conv_fixed_x", x.astype(np.float32))
    save(d, "conv_fixed_w", w)


def conv_fixed_wrap(d, rng, c, k, h):
    # Data that overflows the fixed<24, 12> accumulator (|sum| > 2048) and the fixed<8, 4>
    # result, to check that every implementation wraps the same way.
    x = np.where(rng.random((c, h, h)) < 0.7, -8.0,
                 rng.integers(-128, 128, (c, h, h)) / 16).astype(np.float32)
    p_minus2 = np.linspace(1.0, 0.0, k)[:, None, None, None]
    w = np.where(rng.random((k, c, 3, 3)) < p_minus2, -2,
                 rng.integers(-2, 2, (k, c, 3, 3))).astype(np.int8)
    save(d, "conv_fixed_wrap_x", x)
    save(d, "conv_fixed_wrap_w", w)


def conv_f32(d, rng, c, k, h):
    save(d, "conv_f32_x", rng.uniform(-1, 1, (c, h, h)).astype(np.float32))
    save(d, "conv_f32_w", rng.uniform(-0.25, 0.25, (k, c, 3, 3)).astype(np.float32))


def conv_bin(d, rng, c, k, h):
    # bin: -1 / +1 as int8.
    save(d, "conv_bin_x", (rng.integers(0, 2, (c, h, h)) * 2 - 1).astype(np.int8))
    save(d, "conv_bin_w", (rng.integers(0, 2, (k, c, 3, 3)) * 2 - 1).astype(np.int8))


def conv_tern(d, rng, c, k, h):
    # tern: -1 / 0 / +1 as int8.
    save(d, "conv_tern_x", (rng.integers(-1, 2, (c, h, h))).astype(np.int8))
    save(d, "conv_tern_w", (rng.integers(-1, 2, (k, c, 3, 3))).astype(np.int8))


def dense_bin(d, rng, m, k, n):
    # bin: -1 / +1 as int8; x: [batch, inputs], w: [outputs, inputs].
    save(d, "dense_bin_x", (rng.integers(0, 2, (m, k)) * 2 - 1).astype(np.int8))
    save(d, "dense_bin_w", (rng.integers(0, 2, (n, k)) * 2 - 1).astype(np.int8))


def gemm_i8(d, rng, m, k, n):
    save(d, "gemm_i8_a", rng.integers(-128, 128, (m, k)).astype(np.int8))
    save(d, "gemm_i8_b", rng.integers(-128, 128, (k, n)).astype(np.int8))


def gemm_f32(d, rng, m, k, n):
    save(d, "gemm_f32_a", rng.uniform(-1, 1, (m, k)).astype(np.float32))
    save(d, "gemm_f32_b", rng.uniform(-1, 1, (k, n)).astype(np.float32))


def main():
    # Full sizes (what the kernels' `main` loads by default).
    conv_fixed(DATA, np.random.default_rng(101), 32, 32, 34)
    conv_f32(DATA, np.random.default_rng(102), 64, 64, 58)
    conv_bin(DATA, np.random.default_rng(103), 128, 128, 30)
    gemm_i8(DATA, np.random.default_rng(104), 512, 512, 512)
    gemm_f32(DATA, np.random.default_rng(105), 512, 512, 512)
    dense_bin(DATA, np.random.default_rng(106), 64, 4096, 1024)
    conv_tern(DATA, np.random.default_rng(107), 128, 128, 30)
    # Small variants (run the generic kernel with --kernel and --input).
    conv_fixed(SMALL, np.random.default_rng(201), 4, 5, 10)
    conv_fixed_wrap(SMALL, np.random.default_rng(206), 32, 6, 6)
    conv_f32(SMALL, np.random.default_rng(202), 4, 5, 10)
    conv_bin(SMALL, np.random.default_rng(203), 70, 3, 7)
    gemm_i8(SMALL, np.random.default_rng(204), 9, 17, 5)
    gemm_f32(SMALL, np.random.default_rng(205), 9, 17, 5)
    # 133 inputs: two full words and a partial third (an odd word count).
    dense_bin(SMALL, np.random.default_rng(207), 5, 133, 7)
    conv_tern(SMALL, np.random.default_rng(208), 70, 3, 7)


if __name__ == "__main__":
    main()
