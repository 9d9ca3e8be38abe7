#!/usr/bin/env python3
"""Generate ap_fixed/ap_int conformance data with the real Xilinx headers.

Python chooses (deterministically, fixed seeds) the type combinations and the
operand values; it writes several C++ translation units that instantiate one
template function per type combination, compiles them with g++ against the
ap_types headers, feeds each binary its operand values, and collects the
result lines into numeric/conformance/data/*.txt.

Every C++ output line echoes its inputs (types printed from the instantiated
template parameters, values read back from the objects), and the echo is
checked against what Python asked for, so type spelling and the raw-bit I/O
(including types wider than 64 bits) are verified on every case.

Stdlib only.  See README.md next to this file for the line format.
"""

import argparse
import concurrent.futures
import datetime
import hashlib
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from fractions import Fraction

HEADER_VERSION = "hls4ml 1.3.0 (PyPI wheel), hls4ml/templates/vivado/ap_types"
SEED = 20240607

CXXFLAGS = ["-std=c++14", "-O1", "-w"]

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

Q_MODES = ["trn", "trn_zero", "rnd", "rnd_zero", "rnd_min_inf", "rnd_inf", "rnd_conv"]
O_MODES = ["wrap", "sat", "sat_zero", "sat_sym", "wrap_sm"]
QCPP = {q: "AP_" + q.upper() for q in Q_MODES}
OCPP = {o: "AP_" + o.upper() for o in O_MODES}

# Interesting widths for destinations (plus random ones).
DEST_WIDTHS = [1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128]
SMALL_WIDTHS = [1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 24, 31, 32, 33]
MAX_SRC_W = 256


# ---------------------------------------------------------------------------
# Types
# ---------------------------------------------------------------------------

class Fx:
    """ap_fixed / ap_ufixed."""

    is_int = False

    def __init__(self, w, i, s=True, q="trn", o="wrap", n=0):
        assert 1 <= w <= 1024, w
        assert q in Q_MODES and o in O_MODES
        assert s or o != "wrap_sm", "ap_ufixed with AP_WRAP_SM is rejected by the headers"
        assert 0 <= n <= w, "N > W: the wrap code indexes bits below 0 (see README)"
        self.w, self.i, self.s, self.q, self.o, self.n = w, i, s, q, o, n

    @property
    def f(self):
        return self.w - self.i

    def cpp(self):
        return "ap_%sfixed<%d,%d,%s,%s,%d>" % ("" if self.s else "u", self.w, self.i,
                                              QCPP[self.q], OCPP[self.o], self.n)

    def kiln(self):
        return "%s<%d,%d,%s,%s,%d>" % ("fixed" if self.s else "ufixed", self.w, self.i,
                                      self.q, self.o, self.n)

    def __repr__(self):
        return self.kiln()


class In:
    """ap_int / ap_uint."""

    is_int = True

    def __init__(self, w, s=True):
        assert 1 <= w <= 1024, w
        self.w, self.s = w, s

    @property
    def i(self):
        return self.w

    @property
    def f(self):
        return 0

    def cpp(self):
        return "ap_%sint<%d>" % ("" if self.s else "u", self.w)

    def kiln(self):
        return "%sint<%d>" % ("" if self.s else "u", self.w)

    def __repr__(self):
        return self.kiln()


def rmin(t):
    return -(1 << (t.w - 1)) if t.s else 0


def rmax(t):
    return (1 << (t.w - 1)) - 1 if t.s else (1 << t.w) - 1


def in_range(t, r):
    return rmin(t) <= r <= rmax(t)


def hexv(t, r):
    """Raw W-bit pattern of raw value r, lowercase hex, no leading zeros."""
    assert in_range(t, r), (t, r)
    return format(r & ((1 << t.w) - 1), "x")


def value(t, r):
    """Exact rational value of raw r in type t."""
    return Fraction(r) * (Fraction(1, 1 << t.f) if t.f >= 0 else (1 << -t.f))


def raw_of(t, v):
    """Raw value for rational v in type t if exactly representable, else None."""
    x = v * ((1 << t.f) if t.f >= 0 else Fraction(1, 1 << -t.f))
    if x.denominator != 1:
        return None
    r = x.numerator
    return r if in_range(t, r) else None


def wrap_into(t, r):
    """Reduce an arbitrary integer into t's raw range (two's complement wrap)."""
    r &= (1 << t.w) - 1
    if t.s and r >> (t.w - 1):
        r -= 1 << t.w
    return r


def edge_raws(t):
    """0, +-1 LSB, max, min, max-1, min+1, all-ones and sign-bit-only patterns."""
    c = [0, 1, -1, rmax(t), rmin(t), rmax(t) - 1, rmin(t) + 1,
         wrap_into(t, -1), wrap_into(t, 1 << (t.w - 1))]
    return dedupe(r for r in c if in_range(t, r))


def small_edges(t):
    return dedupe(r for r in [0, 1, -1, rmax(t), rmin(t)] if in_range(t, r))


def rand_raw(t, rng):
    """Random raw value; magnitude spread over all bit lengths."""
    k = rng.randint(1, t.w)
    r = rng.getrandbits(k)
    if t.s and rng.random() < 0.5:
        r = -r
    return wrap_into(t, r)


def dedupe(seq):
    seen = set()
    out = []
    for x in seq:
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out


def mk_i(w, cat, rng):
    if cat == "typ":
        return rng.randint(1, w - 1) if w >= 2 else 1
    if cat == "zero":
        return 0
    if cat == "eqw":
        return w
    if cat == "gtw":
        return w + rng.randint(1, 6)
    if cat == "neg":
        return -rng.randint(1, 5)
    raise ValueError(cat)


I_CATS = ["typ", "typ", "typ", "zero", "eqw", "gtw", "neg"]


def rand_qon(rng, signed, w):
    o = rng.choice(O_MODES if signed else O_MODES[:4])
    n = rng.randint(0, min(3, w)) if o in ("wrap", "wrap_sm") else 0
    return rng.choice(Q_MODES), o, n


def qons_combos():
    """All (signed, Q, O, N) destination mode combinations (126)."""
    out = []
    for s in (True, False):
        for q in Q_MODES:
            for o in O_MODES:
                if o == "wrap_sm" and not s:
                    continue  # rejected by the headers at run time
                for n in ((0, 1, 2, 3) if o in ("wrap", "wrap_sm") else (0,)):
                    out.append((s, q, o, n))
    return out


# ---------------------------------------------------------------------------
# Float helpers
# ---------------------------------------------------------------------------

def f64_bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def f32_bits(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


def bits_f64(b):
    return struct.unpack("<d", struct.pack("<Q", b))[0]


def bits_f32(b):
    return struct.unpack("<f", struct.pack("<I", b))[0]


def exact_fbits(v, fmt):
    """IEEE bits of rational v if exactly representable in fmt ('f32'/'f64')."""
    try:
        x = v.numerator / v.denominator  # correctly rounded to double
    except OverflowError:
        return None
    if x == float("inf") or x == float("-inf") or Fraction(x) != v:
        return None
    if fmt == "f64":
        return f64_bits(x)
    try:
        b = f32_bits(x)
    except OverflowError:
        return None
    if Fraction(bits_f32(b)) != v:
        return None
    return b


def fhex(b, fmt):
    return format(b, "08x" if fmt == "f32" else "016x")


# ---------------------------------------------------------------------------
# Combos: one C++ template instantiation each, with its list of cases
# ---------------------------------------------------------------------------

class Combo:
    def __init__(self, op, types, cases):
        self.op = op          # output op name
        self.types = types    # template arguments (Fx/In)
        self.cases = cases    # list of token lists (what the C++ reads)

    def cpp_fn(self):
        fn = {"and": "op_band", "or": "op_bor", "xor": "op_bxor"}.get(self.op, "op_" + self.op)
        return "%s<%s >" % (fn, ", ".join(t.cpp() for t in self.types))

    def expect_prefix(self, case):
        """Tokens the C++ line must start with (echo of the inputs)."""
        op, T = self.op, self.types
        if op == "cast":
            return [op, T[0].kiln(), case[0], T[1].kiln()]
        if op in ("neg", "tof32", "tof64"):
            return [op, T[0].kiln(), case[0]]
        if op in ("shl", "shr"):
            return [op, T[0].kiln(), case[0], case[1]]
        if op in ("fromf32", "fromf64"):
            return [op, case[0], T[0].kiln()]
        return [op, T[0].kiln(), case[0], T[1].kiln(), case[1]]

    def n_fields(self):
        return {"cast": 5, "neg": 5, "tof32": 4, "tof64": 4, "shl": 6, "shr": 6,
                "fromf32": 4, "fromf64": 4, "cmp": 7}.get(self.op, 7)


def mk_bin(op, ta, tb, pairs):
    return Combo(op, (ta, tb), [[hexv(ta, a), hexv(tb, b)] for a, b in pairs])


# ---------------------------------------------------------------------------
# Casts
# ---------------------------------------------------------------------------

def cast_raws(src, dst, rng, n_rand=5):
    """Source raw values interesting for a conversion src -> dst."""
    out = []

    def add(r):
        if in_range(src, r):
            out.append(r)

    for r in edge_raws(src):
        add(r)
    k = src.f - dst.f  # number of source fraction bits dropped by the conversion
    dmax, dmin = rmax(dst), rmin(dst)
    core = [0, 1, -1, dmax, dmin, dmax + 1, dmin - 1]
    extra = [2, -2, 3, -3, dmax - 1, dmin + 1, dmax + 2, dmin - 2,
             rng.randint(dmin, dmax), rng.randint(dmin, dmax),
             dmax + (1 << max(dst.w - 1, 0)), dmin - (1 << max(dst.w - 1, 0))]
    if k > 0:
        full = 1 << k
        h = full >> 1
        core_offs = dedupe([0, 1, h - 1, h, h + 1, full - 1])
        for m in core:
            for off in core_offs:
                add(m * full + off)
        for m in extra:
            for off in dedupe([0, h]):
                add(m * full + off)
    else:
        sc = 1 << -k  # one source LSB is sc destination LSBs
        for m in core + extra:
            add(m // sc)
            add(-((-m) // sc))
    for _ in range(n_rand):
        add(rand_raw(src, rng))
    add(rng.randint(rmin(src), rmax(src)))
    return dedupe(out)


def pick_src(dst, rng, kind):
    """A source type for a fixed-point destination, by kind of conversion."""
    fd, idst = dst.f, dst.i
    if kind == "qo":        # rounding and overflow
        fs, isrc = fd + rng.randint(1, 6), idst + rng.randint(1, 4)
    elif kind == "q":       # rounding, (mostly) no overflow
        fs, isrc = fd + rng.randint(1, 12), idst - rng.randint(0, 2)
    elif kind == "o":       # overflow, source not finer
        fs, isrc = fd - rng.randint(0, 3), idst + rng.randint(1, 8)
    elif kind == "wide":    # wide source, up to 256 bits
        fs, isrc = fd + rng.randint(8, 64), idst + rng.randint(4, 48)
    elif kind == "same":    # same format (maybe other signedness)
        fs, isrc = fd, idst
    else:                   # "any": unrelated small type
        w = rng.choice(SMALL_WIDTHS)
        return Fx(w, mk_i(w, rng.choice(I_CATS), rng), rng.random() < 0.6)
    w = isrc + fs
    if w < 1:
        isrc += 1 - w
        w = 1
    if w > MAX_SRC_W:
        cut = w - MAX_SRC_W
        cf = min(cut, max(fs - fd - 1, 0))
        fs -= cf
        isrc -= cut - cf
        w = MAX_SRC_W
    s = rng.random() < 0.65
    q, o, n = ("trn", "wrap", 0)
    if rng.random() < 0.15:  # source modes must not matter for a conversion
        q, o, n = rand_qon(rng, s, w)
    return Fx(w, isrc, s, q, o, n)


def gen_casts():
    combos = []
    rng = random.Random(SEED + 101)
    kinds = ["qo", "qo", "qo", "q", "o", "wide", "same", "any"]
    # fixed -> fixed: every destination mode combination, 4 shapes each
    idx = 0
    for (s, q, o, n) in qons_combos():
        for _ in range(4):
            if idx % 3 == 2:
                w = rng.randint(1, 128)
            else:
                w = DEST_WIDTHS[(idx - idx // 3) % len(DEST_WIDTHS)]
            w = max(w, n)
            idx += 1
            dst = Fx(w, mk_i(w, rng.choice(I_CATS), rng), s, q, o, n)
            src = pick_src(dst, rng, rng.choice(kinds))
            raws = cast_raws(src, dst, rng)
            combos.append(Combo("cast", (src, dst), [[hexv(src, r)] for r in raws]))

    # identity conversions of wide types: checks the raw-bit I/O round trip
    rng = random.Random(SEED + 102)
    for t in [Fx(256, 128), Fx(200, 77, False), Fx(129, -3), Fx(65, 70, False),
              In(256), In(129, False), In(64), Fx(1, 1), Fx(1, 0, False)]:
        raws = dedupe(edge_raws(t) + [rand_raw(t, rng) for _ in range(6)])
        combos.append(Combo("cast", (t, t), [[hexv(t, r)] for r in raws]))

    # fixed -> ap_int / ap_uint   (I < 0 sources excluded: see README)
    rng = random.Random(SEED + 103)
    for j in range(70):
        wd = DEST_WIDTHS[j % len(DEST_WIDTHS)] if j % 2 == 0 else rng.choice(SMALL_WIDTHS + [64, 65, 128])
        dst = In(wd, rng.random() < 0.6)
        cat = ["typ", "typ", "zero", "eqw", "gtw", "typ"][j % 6]
        ws = rng.choice([1, 2, 3, 4, 8, 9, 16, 17, 24, 33, 40, 64, 65, 80, 100, 128, 200])
        if j % 9 == 4:
            ws = max(ws, wd + 4)
        isrc = mk_i(ws, cat, rng)
        s = rng.random() < 0.65
        q, o, n = ("trn", "wrap", 0) if rng.random() < 0.8 else rand_qon(rng, s, ws)
        src = Fx(ws, isrc, s, q, o, n)
        raws = cast_raws(src, dst, rng, n_rand=6)
        combos.append(Combo("cast", (src, dst), [[hexv(src, r)] for r in raws]))

    # ap_int / ap_uint -> fixed
    rng = random.Random(SEED + 104)
    qons = qons_combos()
    for j in range(84):
        s, q, o, n = qons[(j * 37) % len(qons)]
        wd = DEST_WIDTHS[j % len(DEST_WIDTHS)] if j % 3 else rng.randint(1, 128)
        wd = max(wd, n)
        dst = Fx(wd, mk_i(wd, rng.choice(I_CATS + ["gtw"]), rng), s, q, o, n)
        ws = rng.choice([1, 2, 3, 7, 8, 9, 16, 17, 32, 33, 63, 64, 65, 100, 128, 129, 256])
        src = In(ws, rng.random() < 0.6)
        raws = cast_raws(src, dst, rng)
        combos.append(Combo("cast", (src, dst), [[hexv(src, r)] for r in raws]))

    # ap_int -> ap_int
    rng = random.Random(SEED + 105)
    for j in range(30):
        wd = DEST_WIDTHS[j % len(DEST_WIDTHS)] if j % 2 == 0 else rng.randint(1, 128)
        ws = rng.choice([1, 2, 7, 8, 9, 16, 31, 32, 33, 64, 65, 100, 128, 200])
        src, dst = In(ws, rng.random() < 0.5), In(wd, rng.random() < 0.5)
        raws = cast_raws(src, dst, rng, n_rand=3)
        combos.append(Combo("cast", (src, dst), [[hexv(src, r)] for r in raws]))
    return combos


# ---------------------------------------------------------------------------
# Arithmetic
# ---------------------------------------------------------------------------

def rand_operand_type(rng, allow_int=True, kind=None, wide=0.12):
    kind = kind or rng.choice(["f", "f", "f", "i"] if allow_int else ["f"])
    if rng.random() < wide:
        w = rng.choice([48, 63, 64, 65, 96, 100, 127, 128])
    else:
        w = rng.choice(SMALL_WIDTHS)
    s = rng.random() < 0.65
    if kind == "i":
        return In(w, s)
    q, o, n = ("trn", "wrap", 0) if rng.random() < 0.8 else rand_qon(rng, s, w)
    return Fx(w, mk_i(w, rng.choice(I_CATS), rng), s, q, o, n)


def bin_pairs(ta, tb, rng, n_rand, nonzero_b=False):
    ea = small_edges(ta) + [rand_raw(ta, rng)]
    eb = small_edges(tb) + [rand_raw(tb, rng)]
    pairs = [(a, b) for a in ea for b in eb]
    pairs += [(rand_raw(ta, rng), rand_raw(tb, rng)) for _ in range(n_rand)]
    if nonzero_b:
        pairs = [(a, b) for a, b in pairs if b != 0]
    return dedupe(pairs)


def arith_pairs():
    F, I = Fx, In
    fixed = [
        (F(8, 4), F(8, 4)), (F(8, 4), I(2)), (I(2), F(8, 4)),
        (F(8, 4, True, "rnd", "sat"), F(8, 4, True, "rnd_conv", "sat_sym")),
        (F(16, 8), F(8, 4, False)), (F(8, 4, False), F(16, 8)), (F(8, 4, False), F(8, 4, False)),
        (F(128, 64), F(128, 64)), (F(128, 0, False), F(128, 127)), (F(128, 128), F(128, 1, False)),
        (I(128), I(128)), (I(128, False), I(128)), (I(64), I(64, False)), (I(65), I(63)),
        (F(1, 1), F(1, 1, False)), (I(1), I(1, False)), (F(1, 0), F(1, 1)),
        (F(4, 8), F(8, -2)), (F(8, -2, False), F(4, 8, False)), (F(16, 0), F(16, 16)),
        (F(32, 16), I(32)), (I(32, False), F(32, 16)), (F(64, 32), F(64, 32, False)),
        (F(33, 17), F(31, 3)), (F(100, 50), I(28)), (I(7, False), F(9, -3, False)),
    ]
    rng = random.Random(SEED + 201)
    for _ in range(64):
        a = rand_operand_type(rng)
        b = rand_operand_type(rng, kind="i" if a.is_int and rng.random() < 0.5 else None)
        fixed.append((a, b))
    return fixed


def gen_arith():
    combos = []
    rng = random.Random(SEED + 202)
    for ta, tb in arith_pairs():
        for op in ("add", "sub", "mul"):
            combos.append(mk_bin(op, ta, tb, bin_pairs(ta, tb, rng, 5)))
    # unary minus
    rng = random.Random(SEED + 203)
    types = [Fx(8, 4), Fx(8, 4, False), Fx(1, 1), Fx(1, 1, False), Fx(1, 0), Fx(4, 8), Fx(8, -2),
             Fx(8, -2, False), Fx(16, 16, False), Fx(128, 64), Fx(128, 3, False), Fx(200, 100),
             In(1), In(1, False), In(8), In(8, False), In(64), In(64, False), In(65), In(128),
             In(128, False), Fx(8, 4, True, "rnd", "sat"), Fx(5, 2, True, "trn", "wrap_sm", 2)]
    types += [rand_operand_type(rng) for _ in range(25)]
    for t in types:
        raws = dedupe(edge_raws(t) + [rand_raw(t, rng) for _ in range(5)])
        combos.append(Combo("neg", (t,), [[hexv(t, r)] for r in raws]))
    return combos


def gen_div():
    combos = []
    F, I = Fx, In
    pairs = [(F(8, 4), F(8, 4)), (F(8, 4), F(8, 4, False)), (F(8, 4, False), F(8, 4)),
             (F(16, 8), F(8, 2)), (F(8, 4), I(4)), (I(4), F(8, 4)), (F(8, 4), I(4, False)),
             (I(8, False), F(6, 3)), (F(4, 8), F(8, -2)), (F(8, -2), F(4, 8)),
             (F(1, 1), F(1, 1)), (F(64, 32), F(64, 32)), (F(100, 50), F(60, 30)),
             (F(128, 64), F(64, 32, False)), (F(32, 0, False), F(16, 16)), (I(128), F(30, 10))]
    rng = random.Random(SEED + 301)
    for _ in range(54):
        a = rand_operand_type(rng, wide=0.08)
        b = rand_operand_type(rng, kind="f" if a.is_int else None, wide=0.08)
        pairs.append((a, b))
    for ta, tb in pairs:
        combos.append(mk_bin("div", ta, tb, bin_pairs(ta, tb, rng, 10, nonzero_b=True)))
    return combos


def gen_int_ops():
    combos = []
    I = In
    pairs = [(I(8), I(8)), (I(8), I(8, False)), (I(8, False), I(8)), (I(8, False), I(4)),
             (I(4), I(8, False)), (I(1), I(1)), (I(1, False), I(1)), (I(64), I(64)),
             (I(64, False), I(64)), (I(64), I(64, False)), (I(65), I(3)), (I(128), I(128)),
             (I(128, False), I(7)), (I(7), I(128, False)), (I(100), I(33, False)),
             (I(32), I(32)), (I(32, False), I(16)), (I(16), I(32, False))]
    rng = random.Random(SEED + 401)
    for _ in range(30):
        pairs.append((rand_operand_type(rng, kind="i", wide=0.2),
                      rand_operand_type(rng, kind="i", wide=0.2)))
    for ta, tb in pairs:
        for op in ("idiv", "imod"):
            combos.append(mk_bin(op, ta, tb, bin_pairs(ta, tb, rng, 8, nonzero_b=True)))
        for op in ("and", "or", "xor"):
            ps = dedupe([(a, b) for a in small_edges(ta) for b in small_edges(tb)][:9]
                        + [(rand_raw(ta, rng), rand_raw(tb, rng)) for _ in range(6)])
            combos.append(mk_bin(op, ta, tb, ps))
    return combos


def gen_shift():
    combos = []
    rng = random.Random(SEED + 501)
    types = [Fx(8, 4), Fx(8, 4, False), Fx(1, 1), In(1), In(1, False), Fx(4, 8), Fx(8, -2, False),
             Fx(8, 4, True, "rnd", "sat"), Fx(8, 4, False, "rnd", "sat"), Fx(6, 3, True, "trn", "wrap_sm", 1),
             Fx(64, 32), In(64), In(64, False), Fx(65, 1), In(65, False), Fx(128, 64), In(128),
             Fx(128, 0, False), In(200), Fx(16, 16), In(8), In(8, False), In(32), In(32, False)]
    types += [rand_operand_type(rng, wide=0.2) for _ in range(26)]
    for t in types:
        vals = dedupe(small_edges(t) + [rand_raw(t, rng) for _ in range(3)])
        shs = dedupe([0, 1, t.w - 1, rng.randrange(t.w), rng.randrange(t.w)])
        shs = [s for s in shs if 0 <= s < t.w]
        cases = [[hexv(t, v), str(s)] for v in vals for s in shs]
        combos.append(Combo("shl", (t,), cases))
        combos.append(Combo("shr", (t,), cases))
    return combos


def gen_cmp():
    combos = []
    F, I = Fx, In
    pairs = [(F(8, 4), F(8, 4)), (F(8, 4), F(16, 8)), (F(16, 8), F(8, 4)), (F(8, 4), F(8, 4, False)),
             (F(8, 4, False), F(8, 4)), (F(8, 4), I(4)), (I(4), F(8, 4)), (F(8, 4), I(4, False)),
             (I(8), I(8, False)), (I(8, False), I(8)), (I(64), I(64, False)), (I(128), I(65, False)),
             (F(4, 8), F(8, -2)), (F(8, -2, False), F(4, 8)), (F(1, 1), F(1, 1, False)),
             (F(128, 64), F(128, 64, False)), (F(100, 0), F(30, 30)), (F(8, 0, False), I(1)),
             (F(8, 4, True, "rnd", "sat"), F(12, 2))]
    rng = random.Random(SEED + 601)
    for _ in range(50):
        pairs.append((rand_operand_type(rng), rand_operand_type(rng)))
    for ta, tb in pairs:
        ps = []
        avals = dedupe(small_edges(ta) + [rand_raw(ta, rng) for _ in range(6)])
        for a in avals:
            v = value(ta, a)
            b = raw_of(tb, v)
            if b is not None:
                ps += [(a, b), (a, b + 1), (a, b - 1)]
            else:
                ps.append((a, rand_raw(tb, rng)))
        for b in small_edges(tb):
            ps.append((rng.choice(avals), b))
        ps = dedupe((a, b) for a, b in ps if in_range(tb, b))
        combos.append(mk_bin("cmp", ta, tb, ps))
    return combos


# ---------------------------------------------------------------------------
# Floats
# ---------------------------------------------------------------------------

def round_raws(t, mant, rng):
    """Raw values whose magnitude needs rounding to a `mant`-bit significand."""
    out = []
    magbits = t.w - (1 if t.s else 0)
    if magbits <= mant:
        return out
    for variant in ["tie_even", "tie_odd", "above", "below", "carry", "tie_even", "tie_odd",
                    "sticky_only", "above", "below"]:
        top = rng.randint(mant, magbits - 1)  # index of the leading one
        drop = top + 1 - mant
        m = rng.getrandbits(mant - 1) | (1 << (mant - 1))
        half = 1 << (drop - 1)
        rest = half
        if variant == "tie_even":
            m &= ~1
        elif variant == "tie_odd":
            m |= 1
        elif variant == "above":
            rest = half + 1 if drop >= 2 else half
        elif variant == "below":
            rest = half - 1
        elif variant == "carry":
            m = (1 << mant) - 1
        elif variant == "sticky_only":
            rest = 1
        mag = (m << drop) | rest
        r = -mag if t.s and rng.random() < 0.5 else mag
        if in_range(t, r):
            out.append(r)
    return out


def gen_tof():
    combos = []
    rng = random.Random(SEED + 701)
    F, I = Fx, In
    base = [F(8, 4), F(8, 4, False), F(1, 1), F(1, 0, False), F(4, 8), F(8, -2), F(8, -2, False),
            F(16, 0), F(24, 12), F(25, 1), F(26, 26, False), F(32, 16), F(33, 33), F(53, 0, False),
            F(54, 20), F(60, 30), F(60, 0, False), F(60, 60), F(64, 32), F(64, 64, False), F(65, 10),
            F(100, 50), F(128, 64), F(128, 100, False), F(128, 127), F(8, 4, True, "rnd", "sat"),
            I(1), I(8), I(8, False), I(24), I(25), I(32), I(32, False), I(53), I(54), I(60),
            I(63), I(64), I(64, False), I(65), I(100), I(127, False)]
    extra = []
    for _ in range(20):
        w = rng.choice([rng.randint(1, 40), rng.randint(41, 128)])
        extra.append(F(w, mk_i(w, rng.choice(I_CATS), rng), rng.random() < 0.6))
    for fmt, mant, fmax, imax in (("f32", 24, 126, 127), ("f64", 53, 1022, 1023)):
        types = list(base) + list(extra)
        if fmt == "f64":
            types += [F(128, 0), F(128, 0, False), I(128), I(128, False), F(200, 100)]
        for t in types:
            if t.f > fmax or t.i > imax:
                continue
            raws = dedupe(edge_raws(t) + round_raws(t, mant, rng)
                          + [rand_raw(t, rng) for _ in range(8)])
            combos.append(Combo("to" + fmt, (t,), [[hexv(t, r)] for r in raws]))
    return combos


def special_fbits(fmt):
    if fmt == "f32":
        return [0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000,
                0x7f800001, 0x7f7fffff, 0xff7fffff, 0x00800000, 0x80800000, 0x00000001,
                0x80000001, 0x007fffff, 0x00400000, 0x80400000]
    return [0x0000000000000000, 0x8000000000000000, 0x7ff0000000000000, 0xfff0000000000000,
            0x7ff8000000000000, 0xfff8000000000000, 0x7ff0000000000001, 0x7fefffffffffffff,
            0xffefffffffffffff, 0x0010000000000000, 0x8010000000000000, 0x0000000000000001,
            0x8000000000000001, 0x000fffffffffffff, 0x0008000000000000, 0x8008000000000000]


def fromf_bits(dst, fmt, rng):
    out = []

    def addv(v):
        b = exact_fbits(v, fmt)
        if b is not None:
            out.append(b)
            return b
        return None

    def addx(x):  # python float, rounded to fmt
        try:
            out.append(f64_bits(x) if fmt == "f64" else f32_bits(x))
        except OverflowError:
            pass

    lsb = value(dst, 1)
    dmax, dmin = rmax(dst), rmin(dst)
    r1, r2 = rng.randint(dmin, dmax), rng.randint(dmin, dmax)
    for m in (1, -1, dmax, dmin, dmax + 1, dmin - 1, r1):
        addv(m * lsb)
    for m in (0, -1, 1, dmax, dmin - 1, dmin, r2):  # ties, and their float neighbours
        b = addv((m + Fraction(1, 2)) * lsb)
        if b is not None:
            out += [b + 1, b - 1]
    for m in (2, -3):
        addv((m + Fraction(1, 4)) * lsb)
        addv((m + Fraction(3, 4)) * lsb)
    for x in (0.3, -0.3, 0.7, -0.7, -0.5, -1.5, 2.5, 1e30, -1e30, -1e-30):
        addx(x)
    # beyond the range, and far below the LSB
    hi = value(dst, dmax) + lsb
    for scale in (Fraction(2), Fraction(1 << 20)):
        addv(hi * scale)
        addv(-hi * scale)
    addv(lsb / 4)
    addv(-lsb / 4)
    addv(lsb / (1 << 30))
    for _ in range(4):
        x = float(value(dst, rng.randint(dmin, dmax))) * (1 + rng.random() / 7)
        addx(x)
    out += special_fbits(fmt)
    # drop bit patterns that are not valid for the format (e.g. tie neighbour of max)
    lim = 1 << (32 if fmt == "f32" else 64)
    return dedupe(b for b in out if 0 <= b < lim)


def gen_fromf():
    combos = []
    for fmt, seed in (("f32", 801), ("f64", 802)):
        rng = random.Random(SEED + seed)
        dsts = []
        for j, (s, q, o, n) in enumerate(qons_combos()):
            if fmt == "f32" and j % 2:
                continue  # same code path as double after (double)f: fewer cases
            w = DEST_WIDTHS[(j * 7) % len(DEST_WIDTHS)] if j % 2 == 0 else rng.randint(1, 70)
            w = max(w, n)
            dsts.append(Fx(w, mk_i(w, rng.choice(I_CATS), rng), s, q, o, n))
        for k, w in enumerate([1, 2, 3, 8, 16, 24, 25, 31, 32, 33, 53, 54, 63, 64, 65, 100, 128]):
            if fmt == "f64" or k % 2 == 0:
                dsts.append(In(w, True))
                dsts.append(In(w, False))
        for d in dsts:
            cases = [[fhex(b, fmt)] for b in fromf_bits(d, fmt, rng)]
            combos.append(Combo("from" + fmt, (d,), cases))
    return combos


# ---------------------------------------------------------------------------
# Domain facts (checked after generation)
# ---------------------------------------------------------------------------

FACTS = []  # (description, op, predicate on output tokens)


def gen_facts():
    combos = []
    f84 = Fx(8, 4)
    f84rs = Fx(8, 4, True, "rnd", "sat")
    f84conv = Fx(8, 4, True, "rnd_conv", "wrap")
    f44sym = Fx(4, 4, True, "trn", "sat_sym")
    items = [(3.3, f84, "34", "3.3 -> ap_fixed<8,4> is 3.25"),
             (9.0, f84, "90", "9.0 wraps to -7.0 in ap_fixed<8,4>"),
             (100.0, f84rs, "7f", "100.0 -> ap_fixed<8,4,AP_RND,AP_SAT> is 7.9375"),
             (-2.71, f84rs, "d5", "-2.71 -> ap_fixed<8,4,AP_RND,AP_SAT> is -2.6875"),
             (0.09375, f84conv, None, "0.09375 -> ap_fixed<8,4,AP_RND_CONV>"),
             (-100.0, f44sym, "9", "-100 -> ap_fixed<4,4,AP_TRN,AP_SAT_SYM> is -7")]
    for fmt in ("f64", "f32"):
        for x, t, want, desc in items:
            b = f64_bits(x) if fmt == "f64" else f32_bits(x)
            combos.append(Combo("from" + fmt, (t,), [[fhex(b, fmt)]]))
            if want is not None:
                FACTS.append(("%s (from %s)" % (desc, fmt), ["from" + fmt, fhex(b, fmt), t.kiln(), want]))
    # the same through a fixed-point source holding the value (rounded to 24 fraction bits)
    src = Fx(32, 8)
    for x, t, want, desc in items:
        r = round(x * (1 << 24))
        combos.append(Combo("cast", (src, t), [[hexv(src, r)]]))
        if want is not None and float(r) / (1 << 24) in (9.0, 100.0, -100.0):
            FACTS.append(("%s (cast from %s)" % (desc, src.kiln()), ["cast", src.kiln(), hexv(src, r), t.kiln(), want]))
    i8 = In(8)
    combos.append(Combo("cast", (i8, f44sym), [[hexv(i8, -100)]]))
    FACTS.append(("int<8> -100 -> ap_fixed<4,4,AP_TRN,AP_SAT_SYM> is -7",
                  ["cast", i8.kiln(), hexv(i8, -100), f44sym.kiln(), "9"]))
    # result types
    a, b = hexv(f84, 0x1c), hexv(f84, -0x25)  # 1.75, -2.3125
    for op, tb, bv, rt in (("mul", f84, b, "fixed<16,8,trn,wrap,0>"),
                           ("add", f84, b, "fixed<9,5,trn,wrap,0>"),
                           ("mul", In(2), "1", "fixed<10,6,trn,wrap,0>")):
        combos.append(Combo(op, (f84, tb), [[a, bv]]))
        FACTS.append(("ap_fixed<8,4> %s %s has type %s" % (op, tb.kiln(), rt),
                      [op, f84.kiln(), a, tb.kiln(), bv, rt]))
    return combos


# ---------------------------------------------------------------------------
# C++ generation
# ---------------------------------------------------------------------------

CPP_PRELUDE = r'''// Generated by numeric/conformance/gen.py -- do not edit.
#include <ap_fixed.h>
#include <ap_int.h>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

const char* qname(ap_q_mode q) {
  switch (q) {
    case AP_TRN: return "trn";
    case AP_TRN_ZERO: return "trn_zero";
    case AP_RND: return "rnd";
    case AP_RND_ZERO: return "rnd_zero";
    case AP_RND_MIN_INF: return "rnd_min_inf";
    case AP_RND_INF: return "rnd_inf";
    case AP_RND_CONV: return "rnd_conv";
  }
  return "?";
}

const char* oname(ap_o_mode o) {
  switch (o) {
    case AP_WRAP: return "wrap";
    case AP_SAT: return "sat";
    case AP_SAT_ZERO: return "sat_zero";
    case AP_SAT_SYM: return "sat_sym";
    case AP_WRAP_SM: return "wrap_sm";
  }
  return "?";
}

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  fprintf(stderr, "bad hex digit '%c'\n", c);
  exit(3);
}

// Raw bit I/O on the underlying ap_private (the same get_bit/set_bit the
// headers use for _AP_ROOT_op_get_bit/_AP_ROOT_op_set_bit).
template <class P>
void set_bits(P& v, int w, const char* h) {
  int len = (int)strlen(h);
  if (len * 4 - 3 > w + 3) { fprintf(stderr, "hex too long for W=%d: %s\n", w, h); exit(3); }
  for (int i = 0; i < w; ++i) {
    int d = i / 4;
    int nib = d < len ? hexval(h[len - 1 - d]) : 0;
    v.set_bit(i, (nib >> (i % 4)) & 1);
  }
  for (int i = w; i < len * 4; ++i) {
    if ((hexval(h[len - 1 - i / 4]) >> (i % 4)) & 1) {
      fprintf(stderr, "hex has bits beyond W=%d: %s\n", w, h); exit(3);
    }
  }
}

template <class P>
void put_bits(std::string& o, const P& v, int w) {
  bool started = false;
  for (int d = (w + 3) / 4 - 1; d >= 0; --d) {
    int nib = 0;
    for (int b = 3; b >= 0; --b) {
      int i = d * 4 + b;
      if (i < w && v.get_bit(i)) nib |= 1 << b;
    }
    if (nib || started) {
      o += "0123456789abcdef"[nib];
      started = true;
    }
  }
  if (!started) o += '0';
}

template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N>
void put(std::string& o, const ap_fixed_base<W, I, S, Q, O, N>& x) {
  char buf[128];
  snprintf(buf, sizeof buf, " %s<%d,%d,%s,%s,%d> ", S ? "fixed" : "ufixed", W, I, qname(Q), oname(O), N);
  o += buf;
  put_bits(o, x.V, W);
}

template <int W, bool S>
void put(std::string& o, const ap_int_base<W, S>& x) {
  char buf[64];
  snprintf(buf, sizeof buf, " %s<%d> ", S ? "int" : "uint", W);
  o += buf;
  put_bits(o, x.V, W);
}

template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N>
void set_hex(ap_fixed_base<W, I, S, Q, O, N>& x, const char* h) { set_bits(x.V, W, h); }

template <int W, bool S>
void set_hex(ap_int_base<W, S>& x, const char* h) { set_bits(x.V, W, h); }

void put_int(std::string& o, long v) {
  char buf[32];
  snprintf(buf, sizeof buf, " %ld", v);
  o += buf;
}

typedef void (*Fn)(char** v, std::string& o);

template <class S, class D>
void op_cast(char** v, std::string& o) {
  S s;
  set_hex(s, v[0]);
  D r = s;
  o += "cast"; put(o, s); put(o, r);
}

#define BINOP(FN, NAME, SYM)                   \
  template <class A, class B>                  \
  void FN(char** v, std::string& o) {          \
    A a;                                       \
    B b;                                       \
    set_hex(a, v[0]);                          \
    set_hex(b, v[1]);                          \
    auto r = a SYM b;                          \
    o += NAME; put(o, a); put(o, b); put(o, r); \
  }
BINOP(op_add, "add", +)
BINOP(op_sub, "sub", -)
BINOP(op_mul, "mul", *)
BINOP(op_div, "div", /)
BINOP(op_idiv, "idiv", /)
BINOP(op_imod, "imod", %)
BINOP(op_band, "and", &)
BINOP(op_bor, "or", |)
BINOP(op_bxor, "xor", ^)
#undef BINOP

template <class A>
void op_neg(char** v, std::string& o) {
  A a;
  set_hex(a, v[0]);
  auto r = -a;
  o += "neg"; put(o, a); put(o, r);
}

template <class A>
void op_shl(char** v, std::string& o) {
  A a;
  set_hex(a, v[0]);
  int sh = atoi(v[1]);
  auto r = a << sh;
  o += "shl"; put(o, a); put_int(o, sh); put(o, r);
}

template <class A>
void op_shr(char** v, std::string& o) {
  A a;
  set_hex(a, v[0]);
  int sh = atoi(v[1]);
  auto r = a >> sh;
  o += "shr"; put(o, a); put_int(o, sh); put(o, r);
}

template <class A, class B>
void op_cmp(char** v, std::string& o) {
  A a;
  B b;
  set_hex(a, v[0]);
  set_hex(b, v[1]);
  int lt = (a < b) ? 1 : 0;
  int eq = (a == b) ? 1 : 0;
  o += "cmp"; put(o, a); put(o, b); put_int(o, lt); put_int(o, eq);
}

template <class A>
void op_tof32(char** v, std::string& o) {
  A a;
  set_hex(a, v[0]);
  float f = a.to_float();
  uint32_t b;
  memcpy(&b, &f, 4);
  char buf[48];
  snprintf(buf, sizeof buf, " %08x", (unsigned)b);
  o += "tof32"; put(o, a); o += buf;
}

template <class A>
void op_tof64(char** v, std::string& o) {
  A a;
  set_hex(a, v[0]);
  double d = a.to_double();
  uint64_t b;
  memcpy(&b, &d, 8);
  char buf[48];
  snprintf(buf, sizeof buf, " %016llx", (unsigned long long)b);
  o += "tof64"; put(o, a); o += buf;
}

template <class D>
void op_fromf32(char** v, std::string& o) {
  uint32_t b = (uint32_t)strtoul(v[0], 0, 16);
  float f;
  memcpy(&f, &b, 4);
  D r = f;
  char buf[48];
  snprintf(buf, sizeof buf, "fromf32 %08x", (unsigned)b);
  o += buf; put(o, r);
}

template <class D>
void op_fromf64(char** v, std::string& o) {
  uint64_t b = (uint64_t)strtoull(v[0], 0, 16);
  double d;
  memcpy(&d, &b, 8);
  D r = d;
  char buf[48];
  snprintf(buf, sizeof buf, "fromf64 %016llx", (unsigned long long)b);
  o += buf; put(o, r);
}

}  // namespace
'''

CPP_MAIN = r'''
int main(int argc, char** argv) {
  if (argc != 2) { fprintf(stderr, "usage: %s CASES\n", argv[0]); return 2; }
  FILE* in = fopen(argv[1], "r");
  if (!in) { perror(argv[1]); return 2; }
  const int nfns = (int)(sizeof(FNS) / sizeof(FNS[0]));
  static char line[8192];
  std::string out;
  while (fgets(line, sizeof line, in)) {
    char* tok[8];
    int nt = 0;
    for (char* p = strtok(line, " \n"); p && nt < 8; p = strtok(0, " \n")) tok[nt++] = p;
    if (nt == 0) continue;
    int idx = atoi(tok[0]);
    if (idx < 0 || idx >= nfns) { fprintf(stderr, "bad combo index %d\n", idx); return 3; }
    out.clear();
    FNS[idx](tok + 1, out);
    out += '\n';
    fwrite(out.data(), 1, out.size(), stdout);
    fflush(stdout);  // keep completed lines if a later case aborts
  }
  return 0;
}
'''


def write_tu(path, combos):
    with open(path, "w") as f:
        f.write(CPP_PRELUDE)
        f.write("\nstatic const Fn FNS[] = {\n")
        for c in combos:
            f.write("  &%s,\n" % c.cpp_fn())
        f.write("};\n")
        f.write(CPP_MAIN)


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------

OP_FILES = [
    ("cast.txt", ["cast"], "conversions between ap_fixed/ap_ufixed/ap_int/ap_uint"),
    ("arith.txt", ["add", "sub", "mul", "neg"], "a+b, a-b, a*b, -a"),
    ("div.txt", ["div"], "fixed-point division a/b (fixed/fixed, fixed/int, int/fixed)"),
    ("int.txt", ["idiv", "imod", "and", "or", "xor"], "ap_int/ap_uint /, %, &, |, ^"),
    ("shift.txt", ["shl", "shr"], "a << sh, a >> sh with int sh in [0, W)"),
    ("cmp.txt", ["cmp"], "a < b and a == b"),
    ("float.txt", ["tof32", "tof64", "fromf32", "fromf64"], "to_float/to_double and construction from float/double"),
]


def find_ap_types(arg):
    if arg:
        d = arg
    else:
        script = os.path.join(REPO, "scripts", "fetch-ap-types.sh")
        d = subprocess.run(["bash", script], check=True, stdout=subprocess.PIPE,
                           universal_newlines=True).stdout.strip()
    if not os.path.isfile(os.path.join(d, "ap_fixed.h")):
        sys.exit("gen.py: no ap_fixed.h in %s" % d)
    return d


def headers_digest(inc):
    h = hashlib.sha256()
    for name in ["ap_common.h", "ap_decl.h", "ap_fixed.h", "ap_fixed_base.h", "ap_fixed_ref.h",
                 "ap_fixed_special.h", "ap_int.h", "ap_int_base.h", "ap_int_ref.h",
                 "ap_int_special.h", os.path.join("etc", "ap_private.h")]:
        with open(os.path.join(inc, name), "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:16]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ap-types", help="include dir with ap_fixed.h (default: scripts/fetch-ap-types.sh)")
    ap.add_argument("--out", default=os.path.join(HERE, "data"), help="output dir for *.txt")
    ap.add_argument("--build-dir", help="where to write C++ sources/binaries (default: a temp dir)")
    ap.add_argument("--keep-build", action="store_true", help="do not delete the build dir")
    ap.add_argument("--cxx", default=os.environ.get("CXX", "g++"))
    ap.add_argument("--tus", type=int, default=8, help="number of translation units")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--no-ndebug", action="store_true",
                    help="compile without -DNDEBUG (header asserts on; some conversions then abort)")
    ap.add_argument("--dry-run", action="store_true", help="only print case counts")
    args = ap.parse_args()

    t0 = time.time()
    if args.dry_run:
        combos = []
        for gen in (gen_facts, gen_casts, gen_arith, gen_div, gen_int_ops, gen_shift, gen_cmp,
                    gen_tof, gen_fromf):
            combos += gen()
        cnt, size = {}, {}
        for c in combos:
            cnt[c.op] = cnt.get(c.op, 0) + len(c.cases)
            n = cnt.setdefault("combos:" + c.op, 0)
            cnt["combos:" + c.op] = n + 1
            est = sum(len(" ".join(x)) for x in c.cases) + len(c.cases) * (
                len(c.op) + 2 * len(c.types[-1].kiln()) + 12)
            size[c.op] = size.get(c.op, 0) + est
        for k in sorted(cnt):
            print(k, cnt[k], size.get(k, ""))
        print("total", sum(v for k, v in cnt.items() if ":" not in k), "est bytes", sum(size.values()))
        return
    inc = find_ap_types(args.ap_types)
    cxx_version = subprocess.run([args.cxx, "-dumpfullversion", "-dumpversion"], check=True,
                                 stdout=subprocess.PIPE, universal_newlines=True).stdout.split()[0]

    combos = []
    for gen in (gen_facts, gen_casts, gen_arith, gen_div, gen_int_ops, gen_shift, gen_cmp,
                gen_tof, gen_fromf):
        combos += gen()
    combos = [c for c in combos if c.cases]
    ncases = sum(len(c.cases) for c in combos)
    print("gen.py: %d type combinations, %d cases, %d translation units"
          % (len(combos), ncases, args.tus), file=sys.stderr)

    build = args.build_dir or tempfile.mkdtemp(prefix="kiln-conformance-")
    os.makedirs(build, exist_ok=True)
    try:
        # distribute combos round-robin; remember where each case went
        tus = [[] for _ in range(args.tus)]
        for k, c in enumerate(combos):
            tus[k % args.tus].append(c)
        jobs = []
        for t, tcombos in enumerate(tus):
            src = os.path.join(build, "tu%d.cpp" % t)
            exe = os.path.join(build, "tu%d" % t)
            inp = os.path.join(build, "tu%d.in" % t)
            write_tu(src, tcombos)
            with open(inp, "w") as f:
                for li, c in enumerate(tcombos):
                    for case in c.cases:
                        f.write("%d %s\n" % (li, " ".join(case)))
            jobs.append((t, src, exe, inp, tcombos))

        def build_and_run(job):
            t, src, exe, inp, _ = job
            ts = time.time()
            cmd = [args.cxx] + CXXFLAGS + ([] if args.no_ndebug else ["-DNDEBUG"]) + ["-I", inc, src, "-o", exe]
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
            if p.returncode != 0:
                return t, None, "compile failed: %s\n%s" % (" ".join(cmd), p.stderr[-6000:]), 0, 0
            tc = time.time() - ts
            p = subprocess.run([exe, inp], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               universal_newlines=True)
            return t, p.stdout, p.stderr if p.returncode != 0 else None, tc, p.stderr

        results = {}
        warnings = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
            for t, out, err, tc, stderr in ex.map(build_and_run, jobs):
                if out is None:
                    sys.exit("gen.py: TU %d: %s" % (t, err))
                print("gen.py: tu%d compiled in %.1fs" % (t, tc), file=sys.stderr)
                results[t] = (out, err)
                if isinstance(stderr, str):
                    for wl in stderr.splitlines():
                        warnings[wl] = warnings.get(wl, 0) + 1

        # check the echoes and collect lines per combo
        lines_of = {}
        for t, src, exe, inp, tcombos in jobs:
            out, err = results[t]
            olines = out.splitlines()
            pos = 0
            for c in tcombos:
                got = []
                for case in c.cases:
                    if pos >= len(olines):
                        sys.exit("gen.py: tu%d stopped before case %s %s %s\n%s"
                                 % (t, c.op, c.cpp_fn(), case, err or ""))
                    line = olines[pos]
                    pos += 1
                    toks = line.split(" ")
                    want = c.expect_prefix(case)
                    if toks[:len(want)] != want or len(toks) != c.n_fields():
                        sys.exit("gen.py: unexpected output for %s %s:\n  got  %s\n  want %s ..."
                                 % (c.cpp_fn(), case, line, " ".join(want)))
                    if c.op == "cast" and c.types[0].kiln() == c.types[1].kiln() and toks[4] != toks[2]:
                        sys.exit("gen.py: identity conversion changed the bits: " + line)
                    got.append(line)
                lines_of[id(c)] = got
            if err:
                sys.exit("gen.py: tu%d failed: %s" % (t, err))

        # domain facts
        all_lines = set()
        for v in lines_of.values():
            all_lines.update(v)
        for desc, toks in FACTS:
            prefix = " ".join(toks[:-1]) + " "
            hit = [l for l in all_lines if l.startswith(prefix)]
            if not hit:
                sys.exit("gen.py: domain fact missing: %s (%s)" % (desc, prefix))
            if hit[0].split(" ")[len(toks) - 1] != toks[-1]:
                sys.exit("gen.py: domain fact does not hold: %s\n  got %s" % (desc, hit[0]))
            print("gen.py: fact ok: %s" % desc, file=sys.stderr)

        # write the data files
        os.makedirs(args.out, exist_ok=True)
        date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
        digest = headers_digest(inc)
        counts = {}
        for fname, ops, what in OP_FILES:
            body = []
            for c in combos:
                if c.op in ops:
                    body += lines_of[id(c)]
                    counts[c.op] = counts.get(c.op, 0) + len(c.cases)
            with open(os.path.join(args.out, fname), "w") as f:
                f.write("# kiln ap_types conformance data: %s -- %s\n" % (fname, what))
                f.write("# headers: %s; sha256(ap_*.h, etc/ap_private.h) prefix %s\n" % (HEADER_VERSION, digest))
                f.write("# generator: numeric/conformance/gen.py (seed %d), g++ %s %s\n"
                        % (SEED, cxx_version, " ".join(CXXFLAGS + ([] if args.no_ndebug else ["-DNDEBUG"]))))
                f.write("# date: %s\n" % date)
                f.write("# format: numeric/conformance/README.md; %d cases\n" % len(body))
                for l in body:
                    f.write(l + "\n")
        total = sum(counts.values())
        print("gen.py: wrote %d cases to %s in %.0fs" % (total, args.out, time.time() - t0), file=sys.stderr)
        for fname, ops, _ in OP_FILES:
            sz = os.path.getsize(os.path.join(args.out, fname))
            print("gen.py:   %-10s %7d bytes  %s" % (fname, sz,
                  ", ".join("%s=%d" % (o, counts.get(o, 0)) for o in ops)), file=sys.stderr)
        for wl, n in sorted(warnings.items()):
            print("gen.py: header printed %dx on stderr: %s" % (n, wl), file=sys.stderr)
    finally:
        if not args.keep_build and not args.build_dir:
            shutil.rmtree(build, ignore_errors=True)


if __name__ == "__main__":
    main()
