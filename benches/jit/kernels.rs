//! The benchmarks: each kernel of examples/bench, its C baseline and ap_types C-sim.

#[derive(Clone, Copy, PartialEq)]
pub enum Shape {
    /// x: [C, H, W], w: [K, C, 3, 3]
    Conv,
    /// a: [M, K], b: [K, N]
    Gemm,
    /// x: [M, K], w: [N, K] (a dense layer on a batch)
    Dense,
}

/// The operation a kernel's arithmetic reduces to, for its 128-bit peak (peak.rs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Peak {
    /// ±1 products: XOR and popcount (vpopcntb, 128 per instruction).
    Binary,
    /// Ternary products: two bit planes, two popcounts per 128 products (vpopcntb).
    Ternary,
    /// Products of 8-bit (or narrower) integers: vpdpbusd (16 per instruction).
    Int8,
    /// f32 multiply then add (mulps + addps, 4 per pair).
    F32,
}

pub struct Bench {
    pub name: &'static str,
    pub what: &'static str,
    /// The generic kernel the small variants run (`--kernel`).
    pub inner: &'static str,
    /// The kernel's value parameters, bound to data/NAME_<param>.npy.
    pub params: [&'static str; 2],
    pub c_src: &'static str,
    /// f32 code: compile with -ffp-contract=off.
    pub float: bool,
    pub ap_src: Option<&'static str>,
    pub shape: Shape,
    /// Data-set prefixes in examples/bench/data/small.
    pub smalls: &'static [&'static str],
    /// Multiply-accumulates at full size.
    pub macs: f64,
    pub peak: Peak,
}

pub const BENCHES: &[Bench] = &[
    Bench {
        name: "conv_fixed",
        what: "3x3 conv 32->32 ch, 34x34 in: fixed<8,4> x int<2>, fixed<24,12> acc, relu",
        inner: "conv",
        params: ["x", "w"],
        c_src: "conv_fixed.c",
        float: false,
        ap_src: Some("conv_fixed_ap.cpp"),
        shape: Shape::Conv,
        smalls: &["conv_fixed", "conv_fixed_wrap"],
        macs: 32.0 * 32.0 * 9.0 * 32.0 * 32.0,
        peak: Peak::Int8,
    },
    Bench {
        name: "conv_f32",
        what: "3x3 conv 64->64 ch, 58x58 in: f32, relu, sum in (c, u, v) order",
        inner: "conv",
        params: ["x", "w"],
        c_src: "conv_f32.c",
        float: true,
        ap_src: None,
        shape: Shape::Conv,
        smalls: &["conv_f32"],
        macs: 64.0 * 64.0 * 9.0 * 56.0 * 56.0,
        peak: Peak::F32,
    },
    Bench {
        name: "conv_bin",
        what: "3x3 conv 128->128 ch, 30x30 in: bin x bin, int<16> sums",
        inner: "conv",
        params: ["x", "w"],
        c_src: "conv_bin.c",
        float: false,
        ap_src: Some("conv_bin_ap.cpp"),
        shape: Shape::Conv,
        smalls: &["conv_bin"],
        macs: 128.0 * 128.0 * 9.0 * 28.0 * 28.0,
        peak: Peak::Binary,
    },
    Bench {
        name: "gemm_i8",
        what: "512x512x512 int<8> x int<8> -> int<32>",
        inner: "gemm",
        params: ["a", "b"],
        c_src: "gemm_i8.c",
        float: false,
        ap_src: None,
        shape: Shape::Gemm,
        smalls: &["gemm_i8"],
        macs: 512.0 * 512.0 * 512.0,
        peak: Peak::Int8,
    },
    Bench {
        name: "gemm_f32",
        what: "512x512x512 f32, sum over k in order",
        inner: "gemm",
        params: ["a", "b"],
        c_src: "gemm_f32.c",
        float: true,
        ap_src: None,
        shape: Shape::Gemm,
        smalls: &["gemm_f32"],
        macs: 512.0 * 512.0 * 512.0,
        peak: Peak::F32,
    },
    Bench {
        name: "conv_tern",
        what: "3x3 conv 128->128 ch, 30x30 in: tern x tern (constant weights), int<16> sums",
        inner: "conv",
        params: ["x", "w"],
        c_src: "conv_tern.c",
        float: false,
        ap_src: None,
        shape: Shape::Conv,
        smalls: &["conv_tern"],
        macs: 128.0 * 128.0 * 9.0 * 28.0 * 28.0,
        peak: Peak::Ternary,
    },
    Bench {
        name: "dense_bin",
        what: "dense 4096->1024 on 64 samples: bin x bin (constant weights), int<16> sums",
        inner: "dense",
        params: ["x", "w"],
        c_src: "dense_bin.c",
        float: false,
        ap_src: None,
        shape: Shape::Dense,
        smalls: &["dense_bin"],
        macs: 64.0 * 4096.0 * 1024.0,
        peak: Peak::Binary,
    },
];
