#!/usr/bin/env python3
"""The quantization accuracy table of examples/digits, computed by kiln.

    cargo build --release && python3 examples/digits/accuracy.py

Python's standard library only: this script only drives the kiln binary (KILN=PATH or
--kiln PATH; default target/release/kiln). For each configuration it

  1. quantizes the float weights of digits.kiln with `kiln quantize --script` (all four
     weight layers, or the layers of an ELB-NN hybrid with `--only`) into a directory;
  2. writes a copy of digits_q.kiln whose configuration block (`type W1 = ...`,
     `type A1 = ...`) holds the weight level types of the method and the activation types
     (8 or 4 bits, integer bits from train.py's calibration, data/summary.json) and whose
     loads point at that directory and at data/;
  3. runs it with `kiln run` (the JIT unless --engine says otherwise) on the 540 held-out
     images and reads the accuracy it prints.

Every configuration is run twice: with one weight scale per layer (per tensor, the
default of kiln quantize) and with one per output channel (`kiln quantize --per-channel`;
the script then declares the scales s1..s4 as vectors and passes them to the layers).

It prints a markdown table (the one in README.md). Any kiln failure, or a warning W0802
(levels that do not fit the declared type), stops it with the message. `--data DIR` uses
another network trained by `train.py --seed N --out DIR`; `--json FILE` also writes the
accuracies as JSON.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(HERE, "data")
FLOAT_SCRIPT = os.path.join(HERE, "digits.kiln")
TEMPLATE = os.path.join(HERE, "digits_q.kiln")
LAYERS = ("w1", "w2", "w3", "w4")
METHODS = ("vecq", "round", "bwn", "twn")
BITS = (1, 2, 3, 4, 8)
ACT_BITS = (8, 4)

# ELB-NN hybrids: (name, [(method, bits, layers)]).
HYBRIDS = [
    ("round 8 / bwn 1 / round 8", [("round", 8, "w1,w4"), ("bwn", 1, "w2,w3")]),
    ("round 8 / twn 2 / round 8", [("round", 8, "w1,w4"), ("twn", 2, "w2,w3")]),
    ("round 8 / vecq 1 / round 8", [("round", 8, "w1,w4"), ("vecq", 1, "w2,w3")]),
    ("round 8 / vecq 2 / round 8", [("round", 8, "w1,w4"), ("vecq", 2, "w2,w3")]),
    ("vecq 8 / vecq 2 / vecq 8", [("vecq", 8, "w1,w4"), ("vecq", 2, "w2,w3")]),
]


def defined(method, bits):
    """Whether the method has a b-bit version: BWN is 1-bit, TWN 2-bit (ternary)."""
    if method == "bwn":
        return bits == 1
    if method == "twn":
        return bits == 2
    return True


def weight_type(method, bits):
    """The kiln type of the levels `kiln quantize` writes (its documented contract)."""
    if method == "bwn":
        return "bin"
    if method == "twn":
        return "tern"
    if method == "round":
        return f"int<{bits}>"
    if method == "vecq":
        return "bin" if bits == 1 else f"int<{bits + 1}>"
    raise ValueError(method)


class KilnError(Exception):
    pass


def run(kiln, args):
    p = subprocess.run([kiln] + args, capture_output=True, text=True)
    if p.returncode != 0:
        raise KilnError(f"kiln {' '.join(args)} failed (status {p.returncode}):\n{p.stdout}{p.stderr}")
    if "W0802" in p.stderr:
        raise KilnError(f"kiln {' '.join(args)}: levels changed by their declared type:\n{p.stderr}")
    return p.stdout


def accuracy_of(out):
    m = re.search(r"^accuracy: f32\s*\n\s*\[([-+0-9.eE]+)\]", out, re.M)
    if not m:
        raise KilnError(f"no accuracy in kiln's output:\n{out}")
    return float(m.group(1))


def make_script(template, qdir, wtypes, atypes, per_channel=False, data=DATA):
    """digits_q.kiln with the configuration block and the load paths replaced; with
    per_channel, the scales s1..s4 are vectors (one per output channel)."""
    text = template
    if per_channel:
        for i, k in re.findall(r"\[s(\d) for k in range\((\d+)\)\]", template):
            text, n = re.subn(rf"^param s{i}: Scale = ", f"param s{i}: Scale[{k}] = ", text, flags=re.M)
            assert n == 1, f"param s{i} not found in the template"
            text = text.replace(f"[s{i} for k in range({k})]", f"s{i}")
    for i, t in enumerate(wtypes, 1):
        text, n = re.subn(rf"^type W{i} = [^#\n]*?(\s*#|$)", rf"type W{i} = {t}\1", text, count=1, flags=re.M)
        assert n == 1, f"W{i} not found in the template"
    for i, t in enumerate(atypes, 1):
        text, n = re.subn(rf"^type A{i} = [^#\n]*?(\s*#|$)", rf"type A{i} = {t}\1", text, count=1, flags=re.M)
        assert n == 1, f"A{i} not found in the template"
    text = text.replace('load("q/', f'load("{qdir}/').replace('load("data/', f'load("{data}/')
    return text


def act_types(summary, bits):
    ibits = summary["activation_int_bits"][str(bits)]
    return [f"ufixed<{bits}, {i}, rnd, sat>" for i in ibits]


def quantize(kiln, float_script, steps, qdir, per_channel):
    for method, bits, only in steps:
        args = ["quantize", "--script", float_script, "--method", method, "--bits", str(bits), "-o", qdir]
        if only:
            args += ["--only", only]
        if per_channel:
            args.append("--per-channel")
        run(kiln, args)


SCALINGS = ("tensor", "channel")


def evaluate(kiln, float_script, data, work, name, steps, wtypes, summary, engine, template):
    """Quantizes once per scaling, runs with each activation width;
    {(scaling, act_bits): accuracy}."""
    res = {}
    for scaling in SCALINGS:
        per_channel = scaling == "channel"
        base = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_") + ("_pc" if per_channel else "")
        qdir = os.path.join(work, base, "q")
        os.makedirs(qdir, exist_ok=True)
        quantize(kiln, float_script, steps, qdir, per_channel)
        for ab in ACT_BITS:
            script = os.path.join(os.path.dirname(qdir), f"a{ab}.kiln")
            with open(script, "w") as fh:
                fh.write(make_script(template, qdir, wtypes, act_types(summary, ab), per_channel, data))
            res[(scaling, ab)] = accuracy_of(run(kiln, ["run", script, "--engine", engine]))
    return res


def pct(a):
    return f"{100 * a:.2f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kiln", default=os.environ.get("KILN", os.path.join(ROOT, "target", "release", "kiln")))
    ap.add_argument("--engine", default="jit", choices=["jit", "interp"])
    ap.add_argument("--keep", metavar="DIR", help="write the levels and scripts to DIR and keep them")
    ap.add_argument("--data", default=DATA, help="the trained network (default: data/ next to this script)")
    ap.add_argument("--json", metavar="FILE", help="also write the accuracies to FILE as JSON")
    args = ap.parse_args()
    data = os.path.abspath(args.data)
    kiln = args.kiln
    if not os.path.isfile(kiln):
        sys.exit(f"no kiln binary at {kiln}: run `cargo build --release` or pass --kiln")
    with open(os.path.join(data, "summary.json")) as fh:
        summary = json.load(fh)
    with open(TEMPLATE) as fh:
        template = fh.read()
    work = args.keep or tempfile.mkdtemp(prefix="kiln-digits-")
    os.makedirs(work, exist_ok=True)
    t0 = time.time()
    n = summary["n_test"]
    float_script = FLOAT_SCRIPT
    if data != DATA:
        # digits.kiln loads data/ next to it: a copy that loads the other network.
        float_script = os.path.join(work, "digits.kiln")
        with open(FLOAT_SCRIPT) as fh, open(float_script, "w") as out:
            out.write(fh.read().replace('load("data/', f'load("{data}/'))
    try:
        float_acc = accuracy_of(run(kiln, ["run", float_script, "--engine", args.engine]))
        uniform = {}
        for m in METHODS:
            for b in BITS:
                if not defined(m, b):
                    continue
                wt = weight_type(m, b)
                uniform[(m, b)] = evaluate(kiln, float_script, data, work, f"{m}{b}", [(m, b, None)], [wt] * 4,
                                           summary, args.engine, template)
                print(f"{m} {b}-bit: {uniform[(m, b)]}", file=sys.stderr)
        hybrid = {}
        for name, steps in HYBRIDS:
            wt = [None] * 4
            for m, b, only in steps:
                for layer in only.split(","):
                    wt[LAYERS.index(layer)] = weight_type(m, b)
            hybrid[name] = (wt, evaluate(kiln, float_script, data, work, name, steps, wt, summary, args.engine,
                                         template))
            print(f"{name}: {hybrid[name][1]}", file=sys.stderr)
    except KilnError as e:
        sys.exit(str(e))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    if args.json:
        with open(args.json, "w") as fh:
            json.dump({
                "float": float_acc,
                "uniform": {f"{m} {b}": {f"{sc} A{ab}": v for (sc, ab), v in r.items()} for (m, b), r in uniform.items()},
                "hybrid": {name: {f"{sc} A{ab}": v for (sc, ab), v in r.items()} for name, (_, r) in hybrid.items()},
            }, fh, indent=1)
    a8, a4 = (", ".join(str(i) for i in summary["activation_int_bits"][str(b)]) for b in ACT_BITS)
    lines = []
    lines.append(f"Held-out accuracy (%) on the {n} test images, every network run by kiln "
                 f"(`--engine {args.engine}`). Float model: **{pct(float_acc)}** "
                 f"(numpy float64: {pct(summary['float64_accuracy'])}).")
    lines.append("")
    lines.append("All four weight layers quantized with one method; columns: weight bits; "
                 "A8 / A4: 8-bit / 4-bit activations; scales: one per layer (tensor) or one "
                 "per output channel (channel).")
    lines.append("")
    lines.append("| method | scales | activations | " + " | ".join(f"{b} bit" for b in BITS) + " |")
    lines.append("|---|---|---|" + "---:|" * len(BITS))
    for scaling in SCALINGS:
        for m in METHODS:
            for ab in ACT_BITS:
                cells = []
                for b in BITS:
                    if (m, b) in uniform:
                        cells.append(pct(uniform[(m, b)][(scaling, ab)]))
                    else:
                        cells.append("—")
                lines.append(f"| {m} | {scaling} | A{ab} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("— : not defined (BWN is binary, 1 bit; TWN is ternary, 2 bits). Weight level types: "
                 "round b bits `int<b>`, vecq b bits `int<b+1>` (odd levels; `bin` at 1 bit), bwn `bin`, "
                 "twn `tern`.")
    lines.append("")
    lines.append("ELB-NN hybrids: first and last layer (conv1, fc2) / hidden layers (conv2, fc1) / "
                 "as before.")
    lines.append("")
    lines.append("| first / hidden / last | weight types | A8, tensor | A4, tensor | A8, channel | A4, channel |")
    lines.append("|---|---|---:|---:|---:|---:|")
    for name, (wt, res) in hybrid.items():
        cells = " | ".join(pct(res[(sc, ab)]) for sc in SCALINGS for ab in ACT_BITS)
        lines.append(f"| {name} | `{wt[0]}`, `{wt[1]}`, `{wt[2]}`, `{wt[3]}` | {cells} |")
    lines.append("")
    lines.append(f"Activation types (integer bits per layer from the calibration in train.py): "
                 f"A8 = `ufixed<8, I, rnd, sat>` with I = {a8}; A4 = `ufixed<4, I, rnd, sat>` with I = {a4}.")
    print("\n".join(lines))
    print(f"({len(uniform) + len(hybrid)} weight configurations x {len(SCALINGS)} scalings x "
          f"{len(ACT_BITS)} activation widths in {time.time() - t0:.1f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
