#!/usr/bin/env python3
"""Train, quantize and export the hybrid-quantized LeNet of examples/lenet.

Run once from anywhere:  python3 examples/lenet/train.py
Needs numpy and scikit-learn only. Deterministic (fixed seeds, float64 numpy on CPU).
Writes examples/lenet/data/*.npy and examples/lenet/lenet.kiln (the scale constants and
bias types in the script come from this training run).

Data: sklearn's 8x8 digits (values 0..16) / 16, upsampled to 28x28 bilinearly (half-pixel
centres, edge clamped, i.e. like OpenCV INTER_LINEAR / torch align_corners=False), then
quantized to the kiln input type a8 = ufixed<8, 0, rnd, sat>: x = min(round_half_up(v * 256),
255) / 256. The stored float32 pixels are exact multiples of 1/256 in [0, 255/256], so
kiln's float -> a8 conversion is the identity on them.

Network (channel-major, one image):
    conv1 1->6 5x5 (28->24) + bias, relu, 4-bit requantize, maxpool 2 (->12)   8-bit weights
    conv2 6->16 5x5 (12->8) + bias, relu, 4-bit requantize, maxpool 2 (->4)    ternary weights
    flatten (256), fc1 256->64 + bias, relu, 4-bit requantize                 ternary weights
    fc2 64->10 + bias (logits)                                                8-bit weights

Quantization (ELB-NN style):
  * conv1 and fc2 weights: w ~= s * W, W an int8 level, s = 2^-e a power of two per layer
    (so w is a fixed<8, 8 - e>).
  * conv2 and fc1 weights: TWN ternary, W in {-1, 0, 1} with threshold 0.7 * mean|w| and
    s = mean of |w| over the weights above the threshold.
  * activations after each relu: a ~= alpha * q, q an a4 = ufixed<4, 2, rnd, sat> value
    (0 .. 3.75 step 0.25).
  For layer l the float pre-activation is z = s_l * alpha_{l-1} * (sum W q_{l-1} + B_l) with
  B_l = b_l / (s_l * alpha_{l-1}), so the quantized network computes
      q_l = a4(relu(sum W q_{l-1} + B_l) * S_l),   S_l = s_l * alpha_{l-1} / alpha_l
  which is exactly kiln's requantize[a4](relu(...), S_l). S_l is rounded to a binary
  fraction with 4 significant bits and alpha_l is then *defined* as s_l alpha_{l-1} / S_l,
  so nothing is approximated beyond the weight/activation/bias grids. B_l is rounded to the
  grid 1/256 for conv1 (whose accumulator has that grid, the input being a8) and 1/16 for
  the others (finer than their accumulators' 1/4), so it is exact in a fixed<W, I> with 8
  (resp. 4) fractional bits. The logits kiln returns are sum W4 q3 + B4 (a positive
  multiple of the float logits).

Training: float Adam (softmax cross-entropy), then quantization-aware fine-tuning whose
forward pass is the quantized network above (straight-through estimator for weights and
activations, scales recomputed every step, activation scales alpha_l fixed from a
calibration on the float network). The reported quantized accuracy comes from an exact
integer simulation (`simulate_int`), which kiln must match bit for bit (check_kiln.py).
"""
import json
import os
import sys
import time
from decimal import Decimal
from fractions import Fraction

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")

N_TRAIN = 1500          # after a fixed permutation of the 1797 digits; the rest is the test set
SEED = 0
SIG_BITS = 4            # significant bits of the requantize scales S_l
A4_LEVELS = 15          # a4 = ufixed<4, 2>: q = Q / 4, Q in 0..15
IN_FRAC = 8             # a8 = ufixed<8, 0>: x = X / 256, X in 0..255
ACT_FRAC = 2            # a4 has 2 fractional bits
BIAS_FRAC = {1: 8, 2: 4, 3: 4, 4: 4}   # fractional bits of the bias levels B_l


# ----------------------------------------------------------------------------- data

def upsample_bilinear(imgs, out=28):
    """[N, n, n] -> [N, out, out], bilinear with half-pixel centres and clamped edges."""
    n = imgs.shape[-1]
    src = np.clip((np.arange(out) + 0.5) * n / out - 0.5, 0, n - 1)
    i0 = np.floor(src).astype(int)
    i1 = np.minimum(i0 + 1, n - 1)
    f = src - i0
    m = np.zeros((out, n))
    m[np.arange(out), i0] += 1 - f
    m[np.arange(out), i1] += f
    return np.einsum("ij,njk,lk->nil", m, imgs, m)


def quantize_input(v):
    """Reals in [0, 1] -> a8 = ufixed<8, 0, rnd, sat> values (round half up, saturate)."""
    return np.clip(np.floor(v * 256 + 0.5), 0, 255) / 256


def load_data():
    from sklearn.datasets import load_digits
    d = load_digits()
    x = quantize_input(upsample_bilinear(d.images / 16.0))[:, None].astype(np.float64)
    y = d.target.astype(np.int64)
    perm = np.random.RandomState(SEED).permutation(len(y))
    x, y = x[perm], y[perm]
    return (x[:N_TRAIN], y[:N_TRAIN]), (x[N_TRAIN:], y[N_TRAIN:])


# ----------------------------------------------------------------------------- float layers

def im2col(x, r, s):
    """[N, C, H, W] -> [N, Ho, Wo, C*r*s] (stride 1, no padding)."""
    v = np.lib.stride_tricks.sliding_window_view(x, (r, s), axis=(2, 3))  # N C Ho Wo r s
    n, c, ho, wo = v.shape[:4]
    return v.transpose(0, 2, 3, 1, 4, 5).reshape(n, ho, wo, c * r * s)


def conv_fwd(x, w):
    k, c, r, s = w.shape
    cols = im2col(x, r, s)
    y = cols @ w.reshape(k, -1).T                      # N Ho Wo K
    return y.transpose(0, 3, 1, 2), cols


def conv_bwd(dy, cols, x_shape, w, need_dx):
    k, c, r, s = w.shape
    dyt = dy.transpose(0, 2, 3, 1)                     # N Ho Wo K
    dw = np.einsum("nhwk,nhwp->kp", dyt, cols).reshape(w.shape)
    dx = None
    if need_dx:
        n, _, ho, wo = dy.shape
        dcols = (dyt @ w.reshape(k, -1)).reshape(n, ho, wo, c, r, s)
        dx = np.zeros(x_shape)
        for u in range(r):
            for v in range(s):
                dx[:, :, u:u + ho, v:v + wo] += dcols[:, :, :, :, u, v].transpose(0, 3, 1, 2)
    return dw, dx


def pool_fwd(x):
    n, c, h, w = x.shape
    v = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4)
    idx = v.argmax(-1)
    return np.take_along_axis(v, idx[..., None], -1)[..., 0], idx


def pool_bwd(dy, idx, shape):
    n, c, h, w = shape
    d = np.zeros(dy.shape + (4,))
    np.put_along_axis(d, idx[..., None], dy[..., None], -1)
    return d.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(shape)


def softmax_ce(logits, y):
    z = logits - logits.max(1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(1, keepdims=True)
    loss = -np.log(p[np.arange(len(y)), y] + 1e-12).mean()
    d = p.copy()
    d[np.arange(len(y)), y] -= 1
    return loss, d / len(y)


# ----------------------------------------------------------------------------- quantizers

def q_int8_pow2(w):
    """8-bit levels with a power-of-two scale: w ~= s * W, |W| <= 127, s = 2^-e."""
    e = -int(np.ceil(np.log2(np.abs(w).max() / 127)))
    s = 2.0 ** -e
    return np.clip(np.round(w / s), -128, 127), s, e


def q_ternary(w):
    """TWN: W = sign(w) [|w| > 0.7 mean|w|], s = mean |w| over the kept weights."""
    delta = 0.7 * np.abs(w).mean()
    keep = np.abs(w) > delta
    return np.sign(w) * keep, float(np.abs(w)[keep].mean())


def round_sig(v, bits=SIG_BITS):
    """The binary fraction with `bits` significant bits nearest to v > 0, as a Fraction."""
    e = int(np.floor(np.log2(v))) - (bits - 1)
    m = int(np.floor(v / 2.0 ** e + 0.5))
    return Fraction(m) * Fraction(2) ** e


def round_grid(v, frac):
    return np.floor(v * 2 ** frac + 0.5) / 2 ** frac


def act_q(v):
    """a4 = ufixed<4, 2, rnd, sat> of a real >= 0 (round half up, saturate at 3.75)."""
    return np.clip(np.floor(v * 4 + 0.5), 0, A4_LEVELS) / 4


# ----------------------------------------------------------------------------- the model

KINDS = ("int8", "tern", "tern", "int8")


def init_params(rng):
    def he(shape, fan_in):
        return rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
    return {
        "w1": he((6, 1, 5, 5), 25), "b1": np.zeros(6),
        "w2": he((16, 6, 5, 5), 150), "b2": np.zeros(16),
        "w3": he((64, 256), 256), "b3": np.zeros(64),
        "w4": he((10, 64), 64) * 0.5, "b4": np.zeros(10),
    }


def quant_spec(p, alpha_target):
    """Weights levels, scales, requantize factors S_l and bias levels B_l of the quantized
    network for float parameters p and target activation scales alpha_target[1..3]."""
    spec = {}
    alpha_prev = 1.0                      # the input is used as is (a8 values)
    for l, kind in enumerate(KINDS, 1):
        w = p[f"w{l}"]
        if kind == "int8":
            W, s, e = q_int8_pow2(w)
            spec[f"e{l}"] = e
        else:
            W, s = q_ternary(w)
        unit = s * alpha_prev             # real value of one unit of the accumulator
        B = round_grid(p[f"b{l}"] / unit, BIAS_FRAC[l])
        spec[f"W{l}"], spec[f"s{l}"], spec[f"B{l}"], spec[f"unit{l}"] = W, s, B, unit
        if l < 4:
            S = round_sig(unit / alpha_target[l])
            spec[f"S{l}"] = S
            alpha_prev = unit / float(S)  # alpha_l, defined by the chosen S_l
            spec[f"alpha{l}"] = alpha_prev
    return spec


def forward(p, x, qat=None, alpha_target=None):
    """Float forward pass; with qat (a spec), the forward pass of the quantized network in
    real units (straight-through gradients). Returns logits and the cache for backward."""
    cache = {}
    spec = quant_spec(p, alpha_target) if qat else None
    h = x
    for l in (1, 2):
        w, b = p[f"w{l}"], p[f"b{l}"]
        if qat:
            w = spec[f"W{l}"] * spec[f"s{l}"]
            b = spec[f"B{l}"] * spec[f"unit{l}"]
        z, cols = conv_fwd(h, w)
        z = z + b[None, :, None, None]
        if qat:
            a_l = spec[f"alpha{l}"]
            a = act_q(z / a_l) * a_l
            mask = (z > 0) & (z < 3.75 * a_l)
        else:
            a = np.maximum(z, 0)
            mask = z > 0
        hp, idx = pool_fwd(a)
        cache[l] = (h, cols, mask, idx, a.shape, w)
        h = hp
    cache["flat_shape"] = h.shape
    h = h.reshape(len(h), -1)
    for l in (3, 4):
        w, b = p[f"w{l}"], p[f"b{l}"]
        if qat:
            w = spec[f"W{l}"] * spec[f"s{l}"]
            b = spec[f"B{l}"] * spec[f"unit{l}"]
        z = h @ w.T + b
        if l == 3:
            if qat:
                a_l = spec["alpha3"]
                a = act_q(z / a_l) * a_l
                mask = (z > 0) & (z < 3.75 * a_l)
            else:
                a = np.maximum(z, 0)
                mask = z > 0
            cache[l] = (h, mask, w)
            h = a
        else:
            cache[l] = (h, None, w)
            return z, cache


def backward(dlogits, cache):
    g = {}
    h, _, w = cache[4]
    g["w4"], g["b4"] = dlogits.T @ h, dlogits.sum(0)
    dh = dlogits @ w
    h, mask, w = cache[3]
    dz = dh * mask
    g["w3"], g["b3"] = dz.T @ h, dz.sum(0)
    dh = (dz @ w).reshape(cache["flat_shape"])
    for l in (2, 1):
        h, cols, mask, idx, ashape, w = cache[l]
        dz = pool_bwd(dh, idx, ashape) * mask
        g[f"b{l}"] = dz.sum((0, 2, 3))
        g[f"w{l}"], dh = conv_bwd(dz, cols, h.shape, w, need_dx=(l > 1))
    return g


def predict(p, x, qat=False, alpha_target=None, bs=500):
    out = [forward(p, x[i:i + bs], qat, alpha_target)[0] for i in range(0, len(x), bs)]
    return np.concatenate(out).argmax(1)


def train(p, x, y, epochs, lr, rng, qat=False, alpha_target=None, log=""):
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v2 = {k: np.zeros_like(v) for k, v in p.items()}
    t = 0
    bs = 32
    for ep in range(epochs):
        perm = rng.permutation(len(y))
        tot = 0.0
        lr_ep = lr * 0.5 * (1 + np.cos(np.pi * ep / epochs))   # cosine decay
        for i in range(0, len(y), bs):
            b = perm[i:i + bs]
            logits, cache = forward(p, x[b], qat, alpha_target)
            loss, dl = softmax_ce(logits, y[b])
            tot += loss * len(b)
            g = backward(dl, cache)
            t += 1
            for k in p:
                m[k] = 0.9 * m[k] + 0.1 * g[k]
                v2[k] = 0.999 * v2[k] + 0.001 * g[k] ** 2
                mh = m[k] / (1 - 0.9 ** t)
                vh = v2[k] / (1 - 0.999 ** t)
                p[k] -= lr_ep * mh / (np.sqrt(vh) + 1e-8)
        print(f"  {log} epoch {ep + 1:2d}: loss {tot / len(y):.4f}", flush=True)
    return p


def calibrate(p, x, pct=99.9):
    """Target activation scales: the pct-th percentile of each positive float activation
    maps to the top a4 level 3.75."""
    h = x
    targets = {}
    for l in (1, 2):
        z = conv_fwd(h, p[f"w{l}"])[0] + p[f"b{l}"][None, :, None, None]
        a = np.maximum(z, 0)
        targets[l] = np.percentile(a[a > 0], pct) / 3.75
        h = pool_fwd(a)[0]
    h = h.reshape(len(h), -1)
    a = np.maximum(h @ p["w3"].T + p["b3"], 0)
    targets[3] = np.percentile(a[a > 0], pct) / 3.75
    return targets


# ----------------------------------------------------------------------------- exact simulation

def conv_int(x, w):
    """Exact integer convolution: x int64 [N, C, H, W], w int64 [K, C, R, S] -> [N, K, Ho, Wo]."""
    k = w.shape[0]
    cols = im2col(x, w.shape[2], w.shape[3])
    return (cols @ w.reshape(k, -1).T).transpose(0, 3, 1, 2)


def requant_a4(acc, frac, S):
    """a4(relu(acc / 2^frac) * S) as an integer Q (a4 value = Q / 4); S = m / 2^k > 0 exactly.
    Round half up (rnd), saturate to 0..15 (sat); all in int64, exact."""
    S = Fraction(S)
    m, den = S.numerator, S.denominator
    assert den & (den - 1) == 0, "scale must be a binary fraction"
    k = den.bit_length() - 1
    r = np.maximum(acc, 0)
    sh = frac + k - ACT_FRAC                       # Q = floor(r * m / 2^sh + 1/2)
    if sh <= 0:
        q = r * m * 2 ** (-sh)
    else:
        q = (2 * r * m + 2 ** sh) // 2 ** (sh + 1)
    return np.minimum(q, A4_LEVELS)


def pool_int(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max((3, 5))


def simulate_int(x, q):
    """The quantized network in exact integer arithmetic, as kiln computes it.
    x: a8 pixels, float [N, 1, 28, 28] (multiples of 1/256) or [1, 28, 28].
    q: dict with int levels W1..W4, biases B1..B4 (reals on the accumulator grid) and the
    requantize scales S1..S3 (Fractions). Returns the logits as float64 [N, 10] (exact:
    multiples of 2^-BIAS_FRAC[4] of small magnitude), the values kiln's main returns."""
    x = np.asarray(x, np.float64)
    if x.ndim == 3:
        x = x[None]
    X = x * 2 ** IN_FRAC
    assert np.all(X == np.round(X)) and X.min() >= 0 and X.max() <= 255, "x is not an a8 tensor"
    X = X.astype(np.int64)

    def levels(b, frac):
        v = np.asarray(b, np.float64) * 2 ** frac
        assert np.all(v == np.round(v)), "bias is not on the accumulator grid"
        return v.astype(np.int64)

    W = {l: np.asarray(q[f"W{l}"]).astype(np.int64) for l in (1, 2, 3, 4)}
    F = {l: max(IN_FRAC if l == 1 else ACT_FRAC, BIAS_FRAC[l]) for l in (1, 2, 3, 4)}

    def acc(l, prod, in_frac):
        """Sum of products (units 2^-in_frac) plus bias, as integers in units 2^-F[l]."""
        b = levels(q[f"B{l}"], F[l])
        b = b[None, :, None, None] if prod.ndim == 4 else b[None]
        return prod * 2 ** (F[l] - in_frac) + b

    a1 = acc(1, conv_int(X, W[1]), IN_FRAC)
    h1 = pool_int(requant_a4(a1, F[1], q["S1"]))               # a4 levels (units 1/4)
    a2 = acc(2, conv_int(h1, W[2]), ACT_FRAC)
    h2 = pool_int(requant_a4(a2, F[2], q["S2"]))
    f = h2.reshape(len(h2), -1)
    a3 = acc(3, f @ W[3].T, ACT_FRAC)
    h3 = requant_a4(a3, F[3], q["S3"])
    a4 = acc(4, h3 @ W[4].T, ACT_FRAC)
    return a4.astype(np.float64) / 2 ** F[4]


def load_exported(script=os.path.join(HERE, "lenet.kiln")):
    """The quantized network as exported: levels and biases from data/, S1..S3 from the
    `const S1..S3` lines of the kiln script (so the simulation uses exactly what kiln runs)."""
    q = {}
    for l in (1, 2, 3, 4):
        q[f"W{l}"] = np.load(os.path.join(DATA, f"w{l}.npy"))
        q[f"B{l}"] = np.load(os.path.join(DATA, f"b{l}.npy"))
    with open(script) as f:
        for line in f:
            parts = line.split("#")[0].split()
            if len(parts) == 4 and parts[0] == "const" and parts[2] == "=":   # const S1 = 0.5
                q[parts[1]] = Fraction(Decimal(parts[3]))
    return q


# ----------------------------------------------------------------------------- export

def bias_type(B, frac):
    """The narrowest fixed<W, I> with `frac` fractional bits holding every value of B."""
    lv = np.round(np.asarray(B) * 2 ** frac).astype(np.int64)
    bits = 1
    while not (lv.min() >= -(2 ** (bits - 1)) and lv.max() <= 2 ** (bits - 1) - 1):
        bits += 1
    return f"fixed<{bits}, {bits - frac}>"


def scale_type(fr):
    """The exact ufixed<W, I> of a binary fraction m / 2^k (m odd)."""
    m, k = fr.numerator, fr.denominator.bit_length() - 1
    w = m.bit_length()
    return f"ufixed<{w}, {w - k}>"


def dec(fr):
    """Exact decimal literal of a binary fraction."""
    s = format(Decimal(fr.numerator) / Decimal(fr.denominator), "f")
    assert Fraction(Decimal(s)) == fr
    return s


KILN_TEMPLATE = '''\
# Hybrid-quantized LeNet for 28x28 digits (ELB-NN style): 8-bit first and last layers,
# ternary hidden layers, 4-bit activations. Generated by train.py, which chose the
# scales below and wrote the weights to data/ (see README.md).
#
#   kiln run examples/lenet/lenet.kiln                                     # image data/x0.npy
#   kiln run examples/lenet/lenet.kiln --input x=examples/lenet/data/x3.npy
#
# The result is the 10 logits (exact fixed point); the prediction is the largest one.

from stdlib.nn import conv2d, maxpool2d, relu, flatten, dense_bias, bias_add, requantize

type a8 = ufixed<8, 0, rnd, sat>      # input pixels in [0, 1)
type a4 = ufixed<4, 2, rnd, sat>      # activations: 0 .. 3.75 in steps of 0.25

# Requantize scales: S_l = s_l * alpha_(l-1) / alpha_l, where s_l is the real scale of
# layer l's integer/ternary weights and alpha_l the real value of one a4 unit after layer l.
const S1 = {S1:<12} # exactly a {TS1}
const S2 = {S2:<12} # exactly a {TS2}
const S3 = {S3:<12} # exactly a {TS3}

# conv1: 8-bit levels; real weights are w1 * 2^-{e1}, i.e. fixed<8, {I1}>. The biases are
# in units of the accumulator (real bias / (weight scale * input scale)).
param w1: int<8>[6, 1, 5, 5] = load("data/w1.npy")
param b1: {T1}[6] = load("data/b1.npy")
# conv2: ternary, real scale {s2:.6g} (folded into S2)
param w2: tern[16, 6, 5, 5] = load("data/w2.npy")
param b2: {T2}[16] = load("data/b2.npy")
# fc1: ternary, real scale {s3:.6g} (folded into S3)
param w3: tern[64, 256] = load("data/w3.npy")
param b3: {T3}[64] = load("data/b3.npy")
# fc2: 8-bit levels; real weights are w4 * 2^-{e4}, i.e. fixed<8, {I4}> (a positive
# factor of the logits, left out)
param w4: int<8>[10, 64] = load("data/w4.npy")
param b4: {T4}[10] = load("data/b4.npy")

kernel main(x: a8[1, 28, 28] = load("data/x0.npy")) -> [10]:
    c1 = maxpool2d(requantize[a4](relu(bias_add(conv2d(x, w1), b1)), S1))     # [6, 12, 12]
    c2 = maxpool2d(requantize[a4](relu(bias_add(conv2d(c1, w2), b2)), S2))    # [16, 4, 4]
    f1 = requantize[a4](relu(dense_bias(flatten(c2), w3, b3)), S3)            # [64]
    return dense_bias(f1, w4, b4)                                              # [10] logits
'''


def export(spec, xte, yte):
    os.makedirs(DATA, exist_ok=True)
    for l in (1, 2, 3, 4):
        W = spec[f"W{l}"]
        assert np.all(W == np.round(W)) and np.abs(W).max() <= 128
        np.save(os.path.join(DATA, f"w{l}.npy"), W.astype(np.int8))
        B = spec[f"B{l}"].astype(np.float32)
        assert np.all(B.astype(np.float64) == spec[f"B{l}"])
        np.save(os.path.join(DATA, f"b{l}.npy"), B)
    # one held-out image per class (the first of each in the test order)
    idx = [int(np.flatnonzero(yte == c)[0]) for c in range(10)]
    for c, i in enumerate(idx):
        np.save(os.path.join(DATA, f"x{c}.npy"), xte[i].astype(np.float32))
    np.save(os.path.join(DATA, "labels.npy"), np.arange(10, dtype=np.int64))
    np.save(os.path.join(DATA, "test_images.npy"), xte[:100].astype(np.float32))
    np.save(os.path.join(DATA, "test_labels.npy"), yte[:100].astype(np.int64))
    fields = dict(
        S1=dec(spec["S1"]), S2=dec(spec["S2"]), S3=dec(spec["S3"]),
        TS1=scale_type(spec["S1"]), TS2=scale_type(spec["S2"]), TS3=scale_type(spec["S3"]),
        e1=spec["e1"], I1=8 - spec["e1"], e4=spec["e4"], I4=8 - spec["e4"],
        s2=spec["s2"], s3=spec["s3"],
        T1=bias_type(spec["B1"], BIAS_FRAC[1]), T2=bias_type(spec["B2"], BIAS_FRAC[2]),
        T3=bias_type(spec["B3"], BIAS_FRAC[3]), T4=bias_type(spec["B4"], BIAS_FRAC[4]),
    )
    with open(os.path.join(HERE, "lenet.kiln"), "w") as f:
        f.write(KILN_TEMPLATE.format(**fields))
    return fields


def main():
    t0 = time.time()
    (xtr, ytr), (xte, yte) = load_data()
    print(f"data: {len(ytr)} train / {len(yte)} test images, 28x28, a8 pixels")
    rng = np.random.default_rng(SEED)
    p = init_params(rng)

    print("float training")
    p = train(p, xtr, ytr, epochs=15, lr=2e-3, rng=rng, log="float")
    acc_float = (predict(p, xte) == yte).mean()
    print(f"float accuracy (test): {acc_float:.4f}")

    targets = calibrate(p, xtr)
    spec0 = quant_spec(p, targets)
    acc_ptq = (simulate_int(xte, spec0).argmax(1) == yte).mean()
    print(f"quantized accuracy before fine-tuning (test): {acc_ptq:.4f}")

    print("quantization-aware fine-tuning")
    p = train(p, xtr, ytr, epochs=10, lr=5e-4, rng=rng, qat=True, alpha_target=targets, log="qat")
    spec = quant_spec(p, targets)
    logits = simulate_int(xte, spec)
    acc_q = (logits.argmax(1) == yte).mean()
    acc_q_fake = (predict(p, xte, qat=True, alpha_target=targets) == yte).mean()
    acc_q_train = (simulate_int(xtr, spec).argmax(1) == ytr).mean()
    print(f"quantized accuracy (test, exact integer simulation): {acc_q:.4f}"
          f"  [fake-quant float: {acc_q_fake:.4f}; train: {acc_q_train:.4f}]")

    fields = export(spec, xte, yte)
    q = load_exported()
    assert np.array_equal(simulate_int(xte, q), logits)
    acc100 = (simulate_int(np.load(os.path.join(DATA, "test_images.npy")), q).argmax(1)
              == np.load(os.path.join(DATA, "test_labels.npy"))).mean()
    print(f"quantized accuracy on data/test_images.npy (100 images): {acc100:.4f}")

    print("scales:")
    print(f"  conv1 weights: int8 levels * 2^-{spec['e1']} (fixed<8, {8 - spec['e1']}>)")
    print(f"  conv2 weights: ternary * {spec['s2']:.6g}")
    print(f"  fc1 weights:   ternary * {spec['s3']:.6g}")
    print(f"  fc2 weights:   int8 levels * 2^-{spec['e4']} (fixed<8, {8 - spec['e4']}>)")
    for l in (1, 2, 3):
        print(f"  S{l} = {fields[f'S{l}']:<12} (alpha{l} = {spec[f'alpha{l}']:.6g}, "
              f"target {targets[l]:.6g})")
    print(f"  bias types: b1 {fields['T1']}, b2 {fields['T2']}, b3 {fields['T3']}, b4 {fields['T4']}")
    print(f"  logits = real float logits / {spec['unit4']:.6g}")
    lx = simulate_int(np.stack([np.load(os.path.join(DATA, f"x{c}.npy")) for c in range(10)]), q)
    print(f"x0..x9 predictions: {lx.argmax(1).tolist()} (labels 0..9)")
    summary = dict(float_accuracy=float(acc_float), quantized_accuracy=float(acc_q),
                   ptq_accuracy=float(acc_ptq), test_images=int(len(yte)), **{
                       k: (v if not isinstance(v, (np.floating, np.integer)) else v.item())
                       for k, v in fields.items()})
    with open(os.path.join(DATA, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(f"done in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
