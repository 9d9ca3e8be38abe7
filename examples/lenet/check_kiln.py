#!/usr/bin/env python3
"""Run kiln on the LeNet example and compare with train.py's exact integer simulation.

    python3 examples/lenet/check_kiln.py [--kiln PATH] [--test-images N]

Runs `kiln run examples/lenet/lenet.kiln --input x=data/xK.npy --out DIR` for K = 0..9
(and, with --test-images N, on the first N images of data/test_images.npy), and checks that
the logits kiln writes (float64, exact) equal the simulation's bit for bit. The simulation
reads the weights and biases from data/ and the requantize scales from lenet.kiln, so it
checks the committed files as they are. Exit status 0 when every image matches.
Needs numpy only (scikit-learn is not imported).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # no __pycache__ in the example directory
from train import DATA, load_exported, simulate_int  # noqa: E402

SCRIPT = os.path.join(HERE, "lenet.kiln")
DEFAULT_KILN = os.path.join(HERE, "..", "..", "target", "release", "kiln")


def run_kiln(kiln, image_path, out_dir):
    """kiln's logits for one image file ([1, 28, 28] float32)."""
    os.makedirs(out_dir, exist_ok=True)
    subprocess.run([kiln, "run", SCRIPT, "--input", f"x={image_path}", "--out", out_dir],
                   check=True, stdout=subprocess.DEVNULL)
    files = [f for f in os.listdir(out_dir) if f.endswith(".npy")]
    assert len(files) == 1, f"expected one result in {out_dir}, got {files}"
    return np.load(os.path.join(out_dir, files[0]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--kiln", default=os.environ.get("KILN", DEFAULT_KILN))
    ap.add_argument("--test-images", type=int, default=0, metavar="N",
                    help="also compare on the first N images of data/test_images.npy")
    args = ap.parse_args()

    q = load_exported(SCRIPT)
    labels = np.load(os.path.join(DATA, "labels.npy"))
    cases = [(f"x{k}", os.path.join(DATA, f"x{k}.npy"), int(labels[k])) for k in range(10)]
    bad = 0
    correct = 0
    with tempfile.TemporaryDirectory() as tmp:
        if args.test_images:
            imgs = np.load(os.path.join(DATA, "test_images.npy"))[:args.test_images]
            tl = np.load(os.path.join(DATA, "test_labels.npy"))
            for i, img in enumerate(imgs):
                path = os.path.join(tmp, f"t{i}.npy")
                np.save(path, img)
                cases.append((f"test[{i}]", path, int(tl[i])))
        t0 = time.time()
        for n, (name, path, label) in enumerate(cases):
            got = run_kiln(args.kiln, path, os.path.join(tmp, f"out{n}"))
            want = simulate_int(np.load(path), q)[0]
            same = got.dtype == np.float64 and got.shape == want.shape and np.array_equal(got, want)
            pred = int(np.argmax(got))
            correct += pred == label
            bad += not same
            if not same or n < 10:
                print(f"{name:10s} label {label} kiln predicts {pred}  "
                      f"{'bit-exact' if same else 'MISMATCH'}")
            if not same:
                print(f"  kiln:       {got.tolist()}\n  simulation: {want.tolist()}")
        dt = time.time() - t0
    print(f"{len(cases) - bad}/{len(cases)} images bit-exact, {correct}/{len(cases)} "
          f"predicted correctly ({dt / len(cases) * 1000:.0f} ms per kiln run)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
