#!/usr/bin/env python3
"""The quantization table over several training seeds (mean, min and max).

    cargo build --release && python3 examples/digits/seeds.py [--seeds 0,1,2,3,4]

One network is a single draw: at 2 and 3 bits, post-training quantization of a network this
small swings by tens of points from one training run to the next. This script trains the
network again with other seeds (`train.py --seed N --out DIR`: other initial weights and
batch order, the same split; seed 0 is the committed network in data/), runs accuracy.py on
each (every accuracy measured by kiln, as for the main table) and prints the mean over
the seeds with the range. Needs numpy and scikit-learn (for training); about 6 s per seed.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--kiln", help="the kiln binary (passed to accuracy.py)")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    results = []
    with tempfile.TemporaryDirectory(prefix="kiln-digits-seeds-") as tmp:
        for seed in seeds:
            data = os.path.join(HERE, "data")
            if seed != 0:
                data = os.path.join(tmp, f"seed{seed}")
                subprocess.run([sys.executable, os.path.join(HERE, "train.py"), "--seed", str(seed), "--out", data],
                               check=True, stdout=subprocess.DEVNULL)
            out = os.path.join(tmp, f"seed{seed}.json")
            cmd = [sys.executable, os.path.join(HERE, "accuracy.py"), "--data", data, "--json", out]
            if args.kiln:
                cmd += ["--kiln", args.kiln]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with open(out) as fh:
                results.append(json.load(fh))
            print(f"seed {seed}: float {100 * results[-1]['float']:.2f}", file=sys.stderr)

    def cell(vals):
        vals = [100 * v for v in vals]
        return f"{sum(vals) / len(vals):.1f} ({min(vals):.1f}–{max(vals):.1f})"

    cols = ["tensor A8", "tensor A4", "channel A8", "channel A4"]
    print(f"Mean held-out accuracy (%) over {len(seeds)} training seeds ({args.seeds}), "
          f"min–max in parentheses. Float: {cell([r['float'] for r in results])}.")
    print()
    print("| weights | " + " | ".join(c.replace(" ", ", ") for c in cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for group in ("uniform", "hybrid"):
        for name in results[0][group]:
            cells = [cell([r[group][name][c] for r in results]) for c in cols]
            label = name if group == "hybrid" else f"{name.split()[0]} {name.split()[1]}-bit"
            print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
