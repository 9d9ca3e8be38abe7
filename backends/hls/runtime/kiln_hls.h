// kiln_hls.h: kiln's HLS runtime. Written by `kiln hls` next to every kernel.
//
// kiln's arithmetic is exact: every intermediate value is held in a plain ap_fixed /
// ap_ufixed type wide enough for it (the types kiln's inference chose), and only the
// conversions into declared or inferred storage types round and overflow, with the
// target's Q/O/N modes. The helpers below are the operations that ap_fixed's operators
// do not provide with kiln's meaning, written so that they never go through the header
// paths with known defects (float <-> ap_int conversions, mixed-signedness ap_int
// division and comparison): integer division, floor division and modulo, shifts that
// floor at a given LSB, bitwise operations, conversions to int/bin/tern, and correctly
// rounded conversions between exact values and float.
#ifndef KILN_HLS_H
#define KILN_HLS_H

#include <cmath>

#ifndef AP_INT_MAX_W
#define AP_INT_MAX_W 8192
#endif
// The vendor headers trip GCC's flow-based warnings once their code is inlined (even
// from system include directories); these two stay off for what includes this file.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
// Loop labels name loops for the HLS tool (reports, directives); C++ never jumps to them.
#pragma GCC diagnostic ignored "-Wunused-label"
// The C++ mirrors the kiln program, which may compare a value with itself (`b == b`).
#pragma GCC diagnostic ignored "-Wtautological-compare"
// An access kiln proved in bounds under an enclosing `if` (`if 0 <= j - 1: y[j - 1]`) may
// sit in a branch GCC can see is dead (`j` only 0) and still trip its array-bounds
// analysis; the branch never runs, and C-simulation compares every result.
#pragma GCC diagnostic ignored "-Warray-bounds"

// HLS pragmas, seen by the HLS tool only (a C++ compiler does not know them).
#ifdef __SYNTHESIS__
#define KILN_PRAGMA(x) _Pragma(#x)
#else
#define KILN_PRAGMA(x)
#endif
#include <ap_fixed.h>
#include <ap_int.h>
#include <hls_stream.h>
#include <stdint.h>

namespace kiln {

// f32 math functions, as kiln-numeric defines them (numeric/src/math.rs): computed in
// double precision by the C library and rounded once to float (sqrt: IEEE's correctly
// rounded square root). A C-simulation linked against the same C library as kiln gives
// the same bits.
inline float math_sqrt(float x) { return std::sqrt(x); }
inline float math_exp(float x) { return (float)std::exp((double)x); }
inline float math_log(float x) { return (float)std::log((double)x); }
inline float math_tanh(float x) { return (float)std::tanh((double)x); }
inline float math_sigmoid(float x) { return (float)(1.0 / (1.0 + std::exp(-(double)x))); }
// The f64 forms: the C library's functions themselves. They and `pow` are kept out of
// reach of the compiler's constant folding (which computes with MPFR, correctly rounded,
// where the C library may differ in the last bit; and turns pow(x, 2.0) into x * x), so
// that every call is the library's.
#ifndef __SYNTHESIS__
#define KILN_LIBM __attribute__((noipa)) inline
#else
#define KILN_LIBM inline
#endif
KILN_LIBM double math_sqrt(double x) { return std::sqrt(x); }
KILN_LIBM double math_exp(double x) { return std::exp(x); }
KILN_LIBM double math_log(double x) { return std::log(x); }
KILN_LIBM double math_tanh(double x) { return std::tanh(x); }
KILN_LIBM double math_sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
// `x ** y` with a float exponent: pow in double precision (rounded once to float for f32).
KILN_LIBM float math_pow(float x, float y) { return (float)std::pow((double)x, (double)y); }
KILN_LIBM double math_pow(double x, double y) { return std::pow(x, y); }

template <int A, int B> struct imax { static const int v = A > B ? A : B; };
template <int A, int B> struct imin { static const int v = A < B ? A : B; };

// ---------------------------------------------------------------- raw bits
// Bits move between types of the same width through the headers' bit container `V` (a
// plain integer of W bits, in C-simulation and in synthesis alike), not bit by bit
// through `.range()`, which costs C-simulation about half of its time.

template <int W, int I> ap_int<W> raw(const ap_fixed<W, I>& x) {
    ap_int<W> r;
    r.V = x.V;
    return r;
}
template <int W, int I> ap_uint<W> raw(const ap_ufixed<W, I>& x) {
    ap_uint<W> r;
    r.V = x.V;
    return r;
}
template <class T, int W, bool S> T from_raw(const ap_int_base<W, S>& r) {
    T x;
    x.V = r.V;
    return x;
}
// ---------------------------------------------------------------- value views
// Storage types (declared modes, ap_int, bin bits) to the plain value types of
// expressions.

template <int W, int I, ap_q_mode Q, ap_o_mode O, int N>
ap_fixed<W, I> val(const ap_fixed<W, I, Q, O, N>& x) {
    ap_fixed<W, I> r;
    r.V = x.V;
    return r;
}
template <int W, int I, ap_q_mode Q, ap_o_mode O, int N>
ap_ufixed<W, I> val(const ap_ufixed<W, I, Q, O, N>& x) {
    ap_ufixed<W, I> r;
    r.V = x.V;
    return r;
}
template <int W> ap_fixed<W, W> val(const ap_int<W>& x) { return from_raw<ap_fixed<W, W> >(x); }
template <int W> ap_ufixed<W, W> val(const ap_uint<W>& x) {
    return from_raw<ap_ufixed<W, W> >(x);
}
inline float val(float x) { return x; }
inline double val(double x) { return x; }
inline bool val(bool x) { return x; }
// A `bin` bit: 1 is +1, 0 is -1.
inline ap_fixed<2, 2> bin_val(const ap_uint<1>& b) {
    return b == 1 ? ap_fixed<2, 2>(1) : ap_fixed<2, 2>(-1);
}

// Signed view of a value, one bit wider when unsigned.
template <int W, int I> ap_fixed<W, I> s(const ap_fixed<W, I>& x) { return x; }
template <int W, int I> ap_fixed<W + 1, I + 1> s(const ap_ufixed<W, I>& x) {
    return ap_fixed<W + 1, I + 1>(x);
}
// Results of the header's operators (ap_fixed_base) as plain ap_fixed values.
template <int W, int I, ap_q_mode Q, ap_o_mode O, int N>
ap_fixed<W, I> s(const ap_fixed_base<W, I, true, Q, O, N>& x) {
    ap_fixed<W, I> r;
    r.V = x.V;
    return r;
}
template <int W, int I, ap_q_mode Q, ap_o_mode O, int N>
ap_fixed<W + 1, I + 1> s(const ap_fixed_base<W, I, false, Q, O, N>& x) {
    ap_ufixed<W, I> r;
    r.V = x.V;
    return ap_fixed<W + 1, I + 1>(r);
}
template <class A> struct signed_of { typedef decltype(s(A())) type; };

// The signed type that holds every value of two signed types.
template <class A, class B> struct common;
template <int W1, int I1, int W2, int I2> struct common<ap_fixed<W1, I1>, ap_fixed<W2, I2> > {
    static const int I = imax<I1, I2>::v;
    static const int F = imax<W1 - I1, W2 - I2>::v;
    typedef ap_fixed<I + F, I> type;
};
template <class A, class B> struct common_of {
    typedef typename common<typename signed_of<A>::type, typename signed_of<B>::type>::type type;
};

template <class A> bool is_neg(const A& x) { return x.is_neg(); }
template <class A> bool is_zero(const A& x) { return x.is_zero(); }

// ---------------------------------------------------------------- comparisons

template <class A, class B> bool lt(const A& a, const B& b) {
    typedef typename common_of<A, B>::type C;
    return C(s(a)) < C(s(b));
}
template <class A, class B> bool eq(const A& a, const B& b) {
    typedef typename common_of<A, B>::type C;
    return C(s(a)) == C(s(b));
}
inline bool lt(float a, float b) { return a < b; }
inline bool eq(float a, float b) { return a == b; }
inline bool lt(double a, double b) { return a < b; }
inline bool eq(double a, double b) { return a == b; }
inline bool eq(bool a, bool b) { return a == b; }

// ---------------------------------------------------------------- arithmetic

template <class A> struct neg_of { typedef decltype(-s(A())) type; };
template <class A> typename neg_of<A>::type neg(const A& a) { return -s(a); }
template <class A> typename neg_of<A>::type abs(const A& a) {
    typedef typename neg_of<A>::type R;
    return is_neg(a) ? R(-s(a)) : R(s(a));
}
inline float fabs_(float x) {
    union { float f; uint32_t u; } v;
    v.f = x;
    v.u &= 0x7fffffffu;
    return v.f;
}
inline double fabs_(double x) {
    union { double f; uint64_t u; } v;
    v.f = x;
    v.u &= 0x7fffffffffffffffull;
    return v.f;
}

// The integer value of an integer-valued exact value, in a K-bit signed ap_int.
template <int K, class A> ap_int<K> int_of(const A& a) { return raw(ap_fixed<K, K>(s(a))); }

// a / b truncated toward zero to R's LSB (ap_fixed division). b != 0.
template <class R, class A, class B> R div(const A& a, const B& b) {
    typedef typename signed_of<A>::type SA;
    typedef typename signed_of<B>::type SB;
    const int FA = SA::width - SA::iwidth, FB = SB::width - SB::iwidth;
    const int FR = R::width - R::iwidth;
    const int K = FR + FB - FA;  // quotient mantissa = trunc(A * 2^K / B)
    const int KP = K > 0 ? K : 0, KN = K < 0 ? -K : 0;
    const int N = imax<SA::width + KP, SB::width + KN>::v + 2;
    ap_int<N> na = raw(s(a)), nb = raw(s(b));
    na <<= KP;
    nb <<= KN;
    if (nb == 0) return R(0);
    ap_int<N> q = na / nb;
    return from_raw<R>(ap_int<R::width>(q));
}

// floor(a / b), an integer of type R. b != 0.
template <class R, class A, class B> R floordiv(const A& a, const B& b) {
    typedef typename common_of<A, B>::type C;
    const int N = C::width + 2;
    ap_int<N> na = raw(C(s(a))), nb = raw(C(s(b)));
    if (nb == 0) return R(0);
    ap_int<N> q = na / nb, r = na % nb;
    if (r != 0 && ((r < 0) != (nb < 0))) q -= 1;
    return R(from_raw<ap_fixed<N, N> >(q));
}

// a - b * floor(a / b), of type R. b != 0.
template <class R, class A, class B> R mod(const A& a, const B& b) {
    typedef typename common_of<A, B>::type C;
    const int N = C::width + 2;
    ap_int<N> na = raw(C(s(a))), nb = raw(C(s(b)));
    if (nb == 0) return R(0);
    ap_int<N> r = na % nb;
    if (r != 0 && ((r < 0) != (nb < 0))) r += nb;
    // r is the remainder's mantissa at C's LSB.
    return R(from_raw<ap_fixed<N, C::iwidth + 2> >(r));
}

// A shift amount: a non-negative integer, clamped (larger shifts all act alike).
template <class A> int shift_amount(const A& a) {
    typedef typename common_of<A, ap_fixed<32, 32> >::type C;
    if (C(ap_fixed<32, 32>(1 << 20)) < C(s(a))) return 1 << 20;
    return raw(ap_fixed<32, 32>(s(a))).to_int();
}

// a * 2^n, exact, as R (R holds the result).
template <class R, class A> R shl(const A& a, int n) {
    typedef typename signed_of<A>::type SA;
    const int I = imax<SA::iwidth, R::iwidth>::v + 1;
    const int F = imax<SA::width - SA::iwidth, R::width - R::iwidth>::v;
    ap_fixed<I + F, I> w = s(a);
    if (n > I + F) n = I + F;
    w <<= n;
    return R(w);
}

// floor(a / 2^n) at R's LSB, as R.
template <class R, class A> R shr(const A& a, int n) {
    typedef typename signed_of<A>::type SA;
    const int I = imax<SA::iwidth, R::iwidth>::v + 1;
    const int F = imax<SA::width - SA::iwidth, R::width - R::iwidth>::v;
    const int FR = R::width - R::iwidth;
    ap_fixed<I + F, I> w = s(a);
    if (n > I + F - 1) n = I + F - 1;
    w >>= n;
    return R(ap_fixed<I + FR, I, AP_TRN, AP_WRAP>(w));
}

// Bitwise operations on integers (two's complement, any width).
template <class A, class B> struct int_common {
    static const int K = imax<signed_of<A>::type::iwidth, signed_of<B>::type::iwidth>::v + 1;
    typedef ap_fixed<K, K> type;
};
template <class A, class B> typename int_common<A, B>::type band(const A& a, const B& b) {
    const int K = int_common<A, B>::K;
    return from_raw<ap_fixed<K, K> >(ap_int<K>(int_of<K>(a) & int_of<K>(b)));
}
template <class A, class B> typename int_common<A, B>::type bor(const A& a, const B& b) {
    const int K = int_common<A, B>::K;
    return from_raw<ap_fixed<K, K> >(ap_int<K>(int_of<K>(a) | int_of<K>(b)));
}
template <class A, class B> typename int_common<A, B>::type bxor(const A& a, const B& b) {
    const int K = int_common<A, B>::K;
    return from_raw<ap_fixed<K, K> >(ap_int<K>(int_of<K>(a) ^ int_of<K>(b)));
}
template <class A> typename int_common<A, A>::type bnot(const A& a) {
    const int K = int_common<A, A>::K;
    return from_raw<ap_fixed<K, K> >(ap_int<K>(~int_of<K>(a)));
}

// ---------------------------------------------------------------- conversions

// exact -> fixed with T's modes: the header's conversion, from a source first widened
// (exactly) to cover the target's bit positions: the headers read source bits beyond
// the source's MSB when the target's LSB lies above it (an assertion in ap_private).
template <class T, class A> struct fixed_conversion {
    static T of(const A& a) {
        typedef typename signed_of<A>::type SA;
        const int I = imax<SA::iwidth, T::iwidth + 1>::v + 1;
        const int F = imax<SA::width - SA::iwidth, T::width - T::iwidth>::v;
        return T(ap_fixed<I + F, I>(s(a)));
    }
};
// A conversion to the type a value already has changes nothing (and costs nothing).
template <class T> struct fixed_conversion<T, T> {
    static T of(const T& a) { return a; }
};
template <class T, class A> T to_fixed(const A& a) { return fixed_conversion<T, A>::of(a); }

// exact -> int<W> / uint<W> (T = ap_int<W> / ap_uint<W>): toward zero, then wrap.
template <class T, class A> T to_int(const A& a) {
    typedef typename signed_of<A>::type SA;
    const int K = (SA::iwidth > 0 ? SA::iwidth : 0) + 1;
    const ap_fixed<K, K, AP_TRN_ZERO, AP_WRAP> t = to_fixed<ap_fixed<K, K, AP_TRN_ZERO, AP_WRAP> >(a);
    ap_int<K> m = raw(ap_fixed<K, K>(t));
    return T(m);
}
// exact -> bin (as a value, and as its storage bit), tern, bool.
template <class A> ap_fixed<2, 2> to_bin(const A& a) {
    return is_neg(a) ? ap_fixed<2, 2>(-1) : ap_fixed<2, 2>(1);
}
template <class A> ap_uint<1> bin_bit(const A& a) { return is_neg(a) ? ap_uint<1>(0) : ap_uint<1>(1); }
template <class A> ap_fixed<2, 2> to_tern(const A& a) {
    return is_neg(a) ? ap_fixed<2, 2>(-1) : is_zero(a) ? ap_fixed<2, 2>(0) : ap_fixed<2, 2>(1);
}
template <class A> bool to_bool(const A& a) { return !is_zero(a); }
inline bool to_bool(float f) { return f != 0.0f; }
inline bool to_bool(double f) { return f != 0.0; }
inline bool to_bool(bool b) { return b; }
inline ap_ufixed<1, 1> from_bool(bool b) { return b ? ap_ufixed<1, 1>(1) : ap_ufixed<1, 1>(0); }

inline float f32_from_bits(uint32_t u) {
    union { float f; uint32_t u; } v;
    v.u = u;
    return v.f;
}
inline uint32_t f32_bits(float f) {
    union { float f; uint32_t u; } v;
    v.f = f;
    return v.u;
}

// exact -> f32, to nearest, ties to even (-0.0 for negatives that round to zero).
template <class A> float to_f32(const A& a) {
    typedef typename signed_of<A>::type SA;
    const int W = SA::width, F = SA::width - SA::iwidth;
    ap_int<W> m = raw(s(a));
    if (m == 0) return 0.0f;
    const bool neg = m < 0;
    // Magnitude and rounded significand in a type that also holds 25 bits.
    const int RW = imax<W + 1, 26>::v;
    ap_uint<RW> mag = neg ? ap_uint<RW>(-ap_int<W + 1>(m)) : ap_uint<RW>(m);
    const int p = RW - mag.countLeadingZeros();  // bit length
    int e = p - 1 - F;                            // exponent of the leading bit
    const int keep = e >= -126 ? 24 : 24 - (-126 - e);
    const uint32_t sign = neg ? 0x80000000u : 0u;
    if (keep < 0) return f32_from_bits(sign);
    const int drop = p - keep;
    ap_uint<RW> r;
    if (drop > 0) {
        r = mag >> drop;
        ap_uint<RW> rem = mag - ap_uint<RW>(r << drop);
        ap_uint<RW> half = ap_uint<RW>(1) << (drop - 1);
        if (rem > half || (rem == half && r[0] == 1)) r += 1;
    } else {
        r = mag << (-drop);
    }
    uint32_t units = (uint32_t)r.to_uint64();
    if (keep == 24) {
        if (units >> 24) {
            units >>= 1;
            e += 1;
        }
        if (e > 127) return f32_from_bits(sign | 0x7f800000u);
        return f32_from_bits(sign | ((uint32_t)(e + 127) << 23) | (units & 0x7fffffu));
    }
    return f32_from_bits(sign | units);  // subnormal (or the smallest normal after rounding)
}

inline double f64_from_bits(uint64_t u) {
    union { double f; uint64_t u; } v;
    v.u = u;
    return v.f;
}
inline uint64_t f64_bits(double f) {
    union { double f; uint64_t u; } v;
    v.f = f;
    return v.u;
}

// exact -> f64, to nearest, ties to even (as to_f32, with 53 significant bits).
template <class A> double to_f64(const A& a) {
    typedef typename signed_of<A>::type SA;
    const int W = SA::width, F = SA::width - SA::iwidth;
    ap_int<W> m = raw(s(a));
    if (m == 0) return 0.0;
    const bool neg = m < 0;
    const int RW = imax<W + 1, 55>::v;
    ap_uint<RW> mag = neg ? ap_uint<RW>(-ap_int<W + 1>(m)) : ap_uint<RW>(m);
    const int p = RW - mag.countLeadingZeros();  // bit length
    int e = p - 1 - F;                            // exponent of the leading bit
    const int keep = e >= -1022 ? 53 : 53 - (-1022 - e);
    const uint64_t sign = neg ? 0x8000000000000000ull : 0ull;
    if (keep < 0) return f64_from_bits(sign);
    const int drop = p - keep;
    ap_uint<RW> r;
    if (drop > 0) {
        r = mag >> drop;
        ap_uint<RW> rem = mag - ap_uint<RW>(r << drop);
        ap_uint<RW> half = ap_uint<RW>(1) << (drop - 1);
        if (rem > half || (rem == half && r[0] == 1)) r += 1;
    } else {
        r = mag << (-drop);
    }
    uint64_t units = r.to_uint64();
    if (keep == 53) {
        if (units >> 53) {
            units >>= 1;
            e += 1;
        }
        if (e > 1023) return f64_from_bits(sign | 0x7ff0000000000000ull);
        return f64_from_bits(sign | ((uint64_t)(e + 1023) << 52) | (units & 0xfffffffffffffull));
    }
    return f64_from_bits(sign | units);  // subnormal (or the smallest normal after rounding)
}

// f64 -> exact: a finite double exactly, infinities and NaN as the Vitis headers read
// them, +-(1.m) * 2^1024 (the mantissa as it is), all in ap_fixed<2100, 1026> (LSB 2^-1074).
inline ap_fixed<2100, 1026> f64_exact(double f) {
    const uint64_t u = f64_bits(f);
    const int ex = (int)((u >> 52) & 0x7ff);
    const uint64_t man = u & 0xfffffffffffffull;
    ap_int<2100> r;
    if (ex == 0x7ff) {
        r = ap_int<2100>(man | (1ull << 52));
        r <<= 2046;  // (2^52 + m) * 2^972
    } else if (ex == 0) {
        r = ap_int<2100>(man);
    } else {
        r = ap_int<2100>(man | (1ull << 52));
        r <<= ex - 1;  // value = r * 2^-1074
    }
    if (u >> 63) r = -r;
    return from_raw<ap_fixed<2100, 1026> >(r);
}
template <class T> T fixed_from_f64(double f) { return to_fixed<T>(f64_exact(f)); }
template <class T> T int_from_f64(double f) { return to_int<T>(f64_exact(f)); }
inline ap_uint<1> bin_bit_from_f64(double f) { return bin_bit(f64_exact(f)); }
inline ap_fixed<2, 2> tern_from_f64(double f) { return to_tern(f64_exact(f)); }

// f32 -> exact. A conversion starts from the float's exact value; infinities and NaN are
// read as the Vitis headers read them, +-(1.m) * 2^1024 with a NaN's mantissa quieted.
// Only the bits of that value within the target's window matter, so for targets whose
// MSB lies far below 2^972 a stand-in of the same sign, +-2^(I + 7), converts alike.
inline bool f32_finite(float f) { return ((f32_bits(f) >> 23) & 0xff) != 0xff; }
// Finite floats exactly, in ap_fixed<300, 150> (LSB 2^-150).
inline ap_fixed<300, 150> f32_exact(float f) {
    const uint32_t u = f32_bits(f);
    const int ex = (int)((u >> 23) & 0xff);
    const uint32_t man = u & 0x7fffffu;
    ap_int<300> r = (ex == 0) ? ap_int<300>(man) : ap_int<300>(man | 0x800000u);
    r <<= (ex == 0 ? 1 : ex);  // value = r * 2^(max(ex, 1) - 150)
    if (u >> 31) r = -r;
    return from_raw<ap_fixed<300, 150> >(r);
}
// The non-finite value exactly: +-(2^52 + m) * 2^972, m the f64 mantissa.
inline ap_fixed<56, 1027> f32_huge(float f) {
    const uint32_t u = f32_bits(f);
    uint64_t man = u & 0x7fffffu;
    if (man != 0) man |= 0x400000u;  // a NaN is quieted
    ap_int<56> r = ap_int<56>(((uint64_t)1 << 52) | (man << 29));
    r <<= 1;  // the LSB of ap_fixed<56, 1027> is 2^971
    if (u >> 31) r = -r;
    return from_raw<ap_fixed<56, 1027> >(r);
}
template <int TI> ap_fixed<3, TI + 10> f32_huge_standin(float f) {
    return from_raw<ap_fixed<3, TI + 10> >(ap_int<3>((f32_bits(f) >> 31) ? -1 : 1));
}
template <int TI> struct huge_exact { static const bool v = TI + 8 >= 972; };

template <class T> T fixed_from_f32(float f) {
    if (f32_finite(f)) return to_fixed<T>(f32_exact(f));
    if (huge_exact<T::iwidth>::v) return to_fixed<T>(f32_huge(f));
    return to_fixed<T>(f32_huge_standin<(T::iwidth < 964 ? T::iwidth : 0)>(f));
}
template <class T> T int_from_f32(float f) {
    if (f32_finite(f)) return to_int<T>(f32_exact(f));
    if (huge_exact<T::width>::v) return to_int<T>(f32_huge(f));
    return to_int<T>(f32_huge_standin<(T::width < 964 ? T::width : 0)>(f));
}
inline ap_fixed<2, 2> bin_from_f32(float f) {
    return f32_finite(f) ? to_bin(f32_exact(f)) : to_bin(f32_huge_standin<0>(f));
}
inline ap_uint<1> bin_bit_from_f32(float f) {
    return f32_finite(f) ? bin_bit(f32_exact(f)) : bin_bit(f32_huge_standin<0>(f));
}
inline ap_fixed<2, 2> tern_from_f32(float f) {
    return f32_finite(f) ? to_tern(f32_exact(f)) : to_tern(f32_huge_standin<0>(f));
}


// min / max with std::min / std::max's choice (the second operand only when it compares
// strictly), converted to R.
template <class R, class A, class B> R min_(const A& a, const B& b) {
    return lt(b, a) ? to_fixed<R>(b) : to_fixed<R>(a);
}
template <class R, class A, class B> R max_(const A& a, const B& b) {
    return lt(a, b) ? to_fixed<R>(b) : to_fixed<R>(a);
}
inline float fmin_(float a, float b) { return b < a ? b : a; }
inline float fmax_(float a, float b) { return a < b ? b : a; }
inline double fmin_(double a, double b) { return b < a ? b : a; }
inline double fmax_(double a, double b) { return a < b ? b : a; }

// A loop counter as an exact value.
inline ap_fixed<32, 32> from_int(int v) { return from_raw<ap_fixed<32, 32> >(ap_int<32>(v)); }
// A constant from its raw bits in hexadecimal (wide constants).
template <class T> T from_hex(const char* h) {
    ap_uint<T::width> r = 0;
    for (; *h; h++) {
        const char c = *h;
        const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c - 'A' + 10;
        r = (ap_uint<T::width>)(r << 4);
        r |= ap_uint<T::width>(d);
    }
    return from_raw<T>(r);
}
// An index that the compiler could not prove in bounds, kept in bounds (kiln's own run
// of the same inputs checked it).
// Data-dependent indices are 64-bit values (never narrowed before the clamp).
inline int clampi(long long i, int n) { return i < 0 ? 0 : i >= n ? n - 1 : (int)i; }

}  // namespace kiln

#endif
