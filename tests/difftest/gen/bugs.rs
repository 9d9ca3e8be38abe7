//! The compiler bugs this generator found: the open ones, whose constructs it avoids, and
//! the fixed ones.

/// Open compiler bugs found by this generator: (id, what triggers it, minimal program).
/// While a bug is listed here the generator avoids its construct (unless the test is
/// told to generate it: `KILN_DIFF_KNOWN_BUGS`), so the differential test stays a useful
/// gate; move the entry to `FIXED_BUGS` when the bug is fixed (its construct is then
/// generated again).
pub const KNOWN_BUGS: &[(&str, &str, &str)] = &[];

/// Bugs this generator found that are fixed (all JIT bugs were found against the JIT of
/// commit 7ed7202 and no longer reproduce at c5c50ef; `interp-shift-repr` and
/// `declared-tensor-self-update` were fixed at the same time; the first five, front-end
/// bugs, were fixed after that). Their constructs are
/// generated again: the code that avoided them stays, switched on by putting the entry
/// back into `KNOWN_BUGS` should one regress.
pub const FIXED_BUGS: &[(&str, &str, &str)] = &[
    (
        "comprehension-negative-step",
        "the extent of a comprehension over a range with a negative step is wrong (E0401)",
        "kernel main() -> int<8>[2]:\n    t = [v for v in range(1, -1, -1)]\n    return t",
    ),
    (
        "nested-reduction",
        "a reduction inside the body of a reduction panics in lowering (local never typed)",
        "kernel main(x: int<8>[4]) -> int<16>:\n    s = sum(max(x) for j in range(3))\n    return s",
    ),
    (
        "f32-literal-context",
        "inside f32(...), literal arguments of min/max/abs/~ and size variables are typed f32 (E0305)",
        "kernel main(x: int<8> = 3) -> f32:\n    f = f32(min(2, x))\n    return f",
    ),
    (
        "declared-self-update-e0311",
        "a declared fixed-point scalar assigned an expression of itself can be rejected with E0311 (\"range grows without bound\"), though its type is declared: `s = sum(s for j in range(1))`, or `s = s * t` with t from constant data below 1 (E0311 blamed on t)",
        "kernel main(x: fixed<8, 4> = 1) -> fixed<12, 11>:\n    s: fixed<12, 11> = x\n    s = sum(s for j in range(1))\n    return s",
    ),
    (
        "bitwise-update-e0311",
        "a bitwise update (`s &= 1`) of a declared scalar in a branch next to an unrelated new local makes kiln reject that local with E0311 (\"range grows without bound\")",
        "kernel main(c: bool = True) -> int<15>:\n    s: int<15> = 0\n    if c:\n        s += 7\n    else:\n        f = 0\n        s &= 1\n    return s",
    ),
    (
        "jit-narrow-divmod",
        "JIT: `//` and `%` on narrow operands fail cranelift's verifier (E0513)",
        "kernel main(x: int<4> = 1) -> int<8>:\n    return x // 3",
    ),
    (
        "jit-narrow-quant",
        "JIT: conversions to a narrow fixed type (W <= 6) with trn_zero, rnd_zero, rnd_min_inf, rnd_inf or rnd_conv that drop bits fail cranelift's verifier (E0513)",
        "kernel main(x: fixed<6, 1> = 0.75) -> fixed<6, 1, rnd_conv, sat>:\n    return x * 0.5",
    ),
    (
        "jit-unsigned-abs",
        "JIT: abs of an unsigned value whose top storage bit is set is computed as signed (abs(uint<8> 200) gives 56)",
        "kernel main(x: uint<8> = 200) -> int<32>:\n    return abs(x)",
    ),
    (
        "interp-shift-repr",
        "interpreter: `>>` floors to the LSB of the value as held at run time, which after a conditional, min, max or abs can be coarser than the operand's type (max(3, x) >> 1 with x: ufixed<8, 4> gives 1, not 1.5)",
        "kernel main(x: ufixed<8, 4> = 0.5) -> ufixed<8, 4>:\n    return max(3, x) >> 1",
    ),
    (
        "jit-u128-input",
        "JIT: an input of type uint<128> / ufixed<128, I> holding a value >= 2^127 panics (\"value fits its type\", layout::encode) instead of running",
        "kernel main(x: uint<128>) -> int<8>:\n    return 1\n# with --input x=<int64 array [-1]>",
    ),
    (
        "declared-tensor-self-update",
        "the inferred range of a declared tensor's elements ignores stores that depend on the tensor itself in a loop; both engines then compute with too narrow a type, differently (expected 36 67 129 253 501 997 1989; interpreter 36 3 1 61 53 37 5; JIT 36 67 -127 -3 -11 -27 -59)",
        "kernel main() -> int<32>[7]:\n    y: int<32>[7] = 5\n    for k in range(7):\n        y[k] = sum(y) + 1\n    return y",
    ),
    (
        "jit-accumulator-drift",
        "JIT: a declared accumulator `acc: T; acc += e` is given the range N x range(e), which ignores that every `+=` rounds to T; when that rounding drifts past the range the JIT computes wrong values (x = 6 x -0.01 in fixed<8, -1>: interpreter -6, JIT -2)",
        "kernel main(x: fixed<8, -1>[6]) -> fixed<11, 5>:\n    acc: fixed<22, 22> = 0\n    for j in range(6):\n        acc += x[j]\n    y: fixed<11, 5> = acc\n    return y\n# with --input x=<float64 array of six -0.01>",
    ),
    (
        "jit-constant-cancellation",
        "JIT: adding and subtracting back a constant, (x + 100) - 100 with x: fixed<8, 0> = 0.25, gives -0.140625 (the constant is not aligned to the operand's fraction bits when the narrow result is computed); not avoided (rare)",
        "kernel main(x: fixed<8, 0> = 0.25) -> fixed<20, 10>:\n    return (x + 100) - 100",
    ),
    (
        "jit-fixed-to-int",
        "JIT: converting a value with fraction bits to int<W>/uint<W> gives 0 (it should truncate toward zero)",
        "kernel main(x: fixed<8, 4> = -2.5) -> int<8>:\n    return x",
    ),
    (
        "jit-signed-to-uint",
        "JIT: converting a negative signed value to uint<W> does not always wrap to W bits: int<5> -1 to uint<14> gives 65535, int<8> -29 to uint<23> gives 2^64 - 29",
        "kernel main(x: int<5> = -1) -> uint<14>:\n    return x",
    ),
    (
        "jit-bitwise-coarse-lsb",
        "JIT: bitwise operators on integers held in fixed types with I > W (LSB above 1) wrap the result at too few bits (192 ^ 0 gives -64 for fixed<8, 10>)",
        "kernel main(x: fixed<8, 10> = 192) -> int<64>:\n    return x ^ 0",
    ),
    (
        "jit-i128-minmax",
        "JIT: min/max and saturating conversions (sat, sat_sym) of values wider than 64 bits use smin/smax.i128, which cranelift lacks (E0513)",
        "kernel main(x: uint<39> = 5) -> int<8>:\n    return min(x * x, 3)",
    ),
    (
        "jit-i128-select-minmax",
        "JIT: a conditional expression choosing between two values wider than 64 bits by comparing them (`a if a <= b else b`) becomes a 128-bit min in cranelift's optimizer, which its x86 back end cannot lower (E0513; found at seed 1, case 173 of 4000; tests/run/bug_jit_i128_select.kiln)",
        "kernel main(x: uint<39> = 412316860415, k: uint<39> = 5) -> uint<78>:\n    a = x * x\n    b = k * x\n    return a if a <= b else b",
    ),
];
