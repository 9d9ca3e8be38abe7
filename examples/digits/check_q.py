#!/usr/bin/env python3
"""Cross-check a quantized digits network against an independent numpy simulation.

    python3 examples/digits/check_q.py --levels DIR --act-bits 4 [--kiln PATH]

DIR holds the levels and scales written by `kiln quantize` (w1.npy, w1.scale.npy, ...),
with one scale per tensor or per output channel.
The script simulates digits_q.kiln in float64 numpy, which is exact here (levels are small
integers, activations and scales are binary fractions with few bits, every sum stays far
below 2^53), then runs the same network with kiln (a copy of digits_q.kiln pointed at DIR,
as accuracy.py makes it) and compares the 540 predictions one by one. Needs numpy.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(HERE, "data")
sys.path.insert(0, HERE)
import accuracy  # noqa: E402  (the script generator; standard library only)


def act(v, bits, ibits):
    """ufixed<bits, ibits, rnd, sat> of v: round half up to the step, saturate to [0, max]."""
    step = 2.0 ** (ibits - bits)
    return np.clip(np.floor(v / step + 0.5), 0, 2 ** bits - 1) * step


def conv(x, w):
    n, c, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((n, w.shape[0], h, wd))
    for ci in range(c):
        for u in range(3):
            for v in range(3):
                out += xp[:, None, ci, u:u + h, v:v + wd] * w[None, :, ci, u, v, None, None]
    return out


def pool(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max((3, 5))


def simulate(qdir, bits, ibits):
    L = {k: np.load(os.path.join(qdir, f"{k}.npy")).astype(np.float64) for k in accuracy.LAYERS}
    # One scale per tensor (shape []) or per output channel (shape [K]).
    s = {k: np.load(os.path.join(qdir, f"{k}.scale.npy")).astype(np.float64) for k in accuracy.LAYERS}
    sc = {k: v.reshape(1, -1, 1, 1) if v.ndim else v for k, v in s.items()}
    b = {k: np.load(os.path.join(DATA, f"b{k[1]}.npy")).astype(np.float64) for k in accuracy.LAYERS}
    x = np.load(os.path.join(DATA, "x_test.npy")).astype(np.float64)
    a1 = act(np.maximum(conv(x, L["w1"]) * sc["w1"] + b["w1"][None, :, None, None], 0), bits, ibits[0])
    a2 = act(np.maximum(conv(pool(a1), L["w2"]) * sc["w2"] + b["w2"][None, :, None, None], 0), bits, ibits[1])
    f = pool(a2).reshape(len(x), -1)
    a3 = act(np.maximum(f @ L["w3"].T * s["w3"] + b["w3"], 0), bits, ibits[2])
    logits = a3 @ L["w4"].T * s["w4"] + b["w4"]
    return logits.argmax(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--levels", required=True)
    ap.add_argument("--act-bits", type=int, choices=[8, 4], default=4)
    ap.add_argument("--kiln", default=os.environ.get("KILN", os.path.join(ROOT, "target", "release", "kiln")))
    args = ap.parse_args()
    with open(os.path.join(DATA, "summary.json")) as fh:
        summary = json.load(fh)
    ibits = summary["activation_int_bits"][str(args.act_bits)]
    qdir = os.path.abspath(args.levels)
    wtypes = []
    for k in accuracy.LAYERS:
        lv = np.load(os.path.join(qdir, f"{k}.npy"))
        lo, hi = int(lv.min()), int(lv.max())
        if lo >= -1 and hi <= 1 and not (lv == 0).any():
            wtypes.append("bin")
        elif lo >= -1 and hi <= 1:
            wtypes.append("tern")
        else:
            w = 1
            while not (-(2 ** (w - 1)) <= lo and hi <= 2 ** (w - 1) - 1):
                w += 1
            wtypes.append(f"int<{w}>")
    with open(accuracy.TEMPLATE) as fh:
        per_channel = np.load(os.path.join(qdir, "w1.scale.npy")).ndim == 1
        text = accuracy.make_script(fh.read(), qdir, wtypes, accuracy.act_types(summary, args.act_bits),
                                    per_channel)
    pred = simulate(qdir, args.act_bits, ibits)
    y = np.load(os.path.join(DATA, "y_test.npy"))
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "net.kiln")
        with open(script, "w") as fh:
            fh.write(text)
        p = subprocess.run([args.kiln, "run", script, "--out", tmp], capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(p.stderr)
        kpred = np.load(os.path.join(tmp, "predicted.npy"))
        kacc = float(np.load(os.path.join(tmp, "accuracy.npy")))
    same = int((kpred == pred).sum())
    print(f"weights {wtypes}, A{args.act_bits}: numpy {(pred == y).mean():.6f}, kiln {kacc:.6f}; "
          f"predictions identical on {same}/{len(y)}")
    sys.exit(0 if same == len(y) else 1)


if __name__ == "__main__":
    main()
