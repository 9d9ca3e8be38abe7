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
//
// Two implementations, one meaning. The helpers that every expression goes through
// (conversions, + - *, comparisons, loop counters, constants) have a *native* form for
// C-simulation: values of at most 64 bits are computed on their mantissas in plain 64-bit
// integers, and only the result's bits go back into the ap_fixed's `V`. The header's own
// operators cost C-simulation 10 to 30 ns per operation (temporaries, masks and
// quantization logic per step), the native form about 1 ns. The native form is chosen
// per instantiation, at compile time, where every intermediate provably fits 64 bits; the
// other instantiations, and HLS synthesis (__SYNTHESIS__), use the *portable* form on
// ap_types' operators. `-DKILN_PORTABLE` makes C-simulation use the portable form
// everywhere (kiln's tests C-simulate both and compare both with kiln's results).
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
#include <stddef.h>

// ROM tables (NAME_weights.h): `KILN_ROM(T, R, name, dims) = { values };` then
// `KILN_ROM_END(T, name, dims);` (T a typedef of the storage type, R `long long` or
// `double`, which hold the values exactly). Synthesis sees `static const T name dims`. In
// C-simulation the values are a constant-initialized array of R, converted by one loop
// into the table before main runs: g++ compiles a table of ap_types initializers as one
// inlined constructor per element, a millisecond each.
#ifdef __SYNTHESIS__
#define KILN_ROM(T, R, name, dims) static const T name dims
#define KILN_ROM_END(T, name, dims)
#else
#define KILN_ROM(T, R, name, dims) static const R name##_raw dims
#define KILN_ROM_END(T, name, dims)  \
    static T name##_rom dims;        \
    static const T(&name) dims = kiln::fill_rom(name##_rom, name##_raw)
#endif

namespace kiln {

// A stream word of N values (passes/src/ir/mod.rs, "Stream words"): channels g*N .. g*N+N-1
// of one pixel of an image travelling between two dataflow stages, read or written in one
// cycle (HLS packs the array into one wide FIFO word).
template <class T, int N> struct vec {
    T v[N];
};

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

// ---------------------------------------------------------------- values
// Every exact expression computes in the *value type* of its inferred type: `fx<W, I>`
// (signed) or `ufx<W, I>` (unsigned). For synthesis and for values of more than 62 bits
// these are the plain `ap_fixed<W, I>` / `ap_ufixed<W, I>`. In C-simulation a narrower
// value is a `num<W, F, S>`: its mantissa in a 64-bit integer (value = m * 2^-F, always
// within W bits), so that g++ keeps it in a register. The headers' objects cannot stay
// in registers: every construction and assignment of one runs `clearUnusedBits`, a
// `volatile` member function, which forces a store and a load.

#if !defined(__SYNTHESIS__) && !defined(KILN_PORTABLE)
#define KILN_NATIVE 1
#else
#define KILN_NATIVE 0
#endif

typedef long long i64;
typedef unsigned long long u64;

// m * 2^k modulo 2^64, and floor(m / 2^k), for any k >= 0.
inline i64 shl64(i64 m, int k) { return k >= 64 ? 0 : (i64)((u64)m << k); }
inline i64 shr64(i64 m, int k) { return k >= 64 ? (m < 0 ? -1 : 0) : m >> k; }

#if KILN_NATIVE
template <int W, int F, bool S> struct num {
    static const int width = W, iwidth = W - F;
    i64 m;
    // The integer part, truncated toward zero (as ap_fixed's to_int64).
    i64 to_int64() const {
        if (F <= 0) return shl64(m, F <= 0 ? -F : 0);
        const int f = F > 0 ? F : 0;
        return m >= 0 ? shr64(m, f) : -shr64(-m, f);
    }
};
#endif

template <int W, int I, bool S, bool Native = KILN_NATIVE && W + (S ? 0 : 1) <= 62>
struct value_sel {
    typedef ap_fixed<W, I> type;
};
template <int W, int I> struct value_sel<W, I, false, false> {
    typedef ap_ufixed<W, I> type;
};
#if KILN_NATIVE
template <int W, int I, bool S> struct value_sel<W, I, S, true> {
    typedef num<W, W - I, S> type;
};
#endif
template <int W, int I> using fx = typename value_sel<W, I, true>::type;
template <int W, int I> using ufx = typename value_sel<W, I, false>::type;

// ---------------------------------------------------------------- layouts
// The layout of an exact type: W bits, F fraction bits, signedness, its quantization and
// overflow modes and saturation bits; `sw` is the width of a signed integer that holds
// every mantissa. Read from the class templates by overload resolution (the ap_fixed /
// ap_ufixed / ap_int / ap_uint classes derive from these bases).
template <int W, int F, bool S, ap_q_mode Q = AP_TRN, ap_o_mode O = AP_WRAP, int N = 0>
struct layout {
    static const int w = W, f = F, n = N, sw = W + (S ? 0 : 1);
    static const bool s = S;
    static const ap_q_mode q = Q;
    static const ap_o_mode o = O;
};
template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N>
layout<W, W - I, S, Q, O, N> layout_of(const ap_fixed_base<W, I, S, Q, O, N>*);
template <int W, bool S> layout<W, 0, S> layout_of(const ap_int_base<W, S>*);
#if KILN_NATIVE
template <int W, int F, bool S> layout<W, F, S> layout_of(const num<W, F, S>*);
#endif
template <class T> struct L : decltype(layout_of((const T*)0)) {};
// The value type of a storage type.
template <class T> struct value_of {
    typedef typename value_sel<L<T>::w, L<T>::w - L<T>::f, L<T>::s>::type type;
};

// ---------------------------------------------------------------- mantissas
// `mant` reads a value's mantissa (modulo 2^64 for a 64-bit ufixed): a `num`'s, or the
// headers' bit container `V` (a plain read, no volatile access). `make<T>(m)` is the
// value of T whose mantissa is m modulo 2^W.
template <class T> struct maker {
    static T of(i64 m) {
        T r;
        r.V = (ap_slong)m;
        return r;
    }
};
#if KILN_NATIVE
template <int W, int F, bool S> inline i64 mant(const num<W, F, S>& x) { return x.m; }
template <class T> inline i64 mant(const T& x) { return (i64)x.V.to_int64(); }
template <int W, int F, bool S> struct maker<num<W, F, S> > {
    static num<W, F, S> of(i64 m) {
        num<W, F, S> r;
        r.m = S ? (i64)((u64)m << (64 - W)) >> (64 - W) : (i64)((u64)m & ((1ULL << W) - 1));
        return r;
    }
};
#endif
template <class T> inline T make(i64 m) { return maker<T>::of(m); }
// m * 2^-F as R (a value type of at most 64 bits): floored to R's LSB, wrapped to its W
// bits. Modulo 2^64 arithmetic gives these bits when R's W plus the bits dropped below
// its LSB is at most 64 (the callers' `ok` conditions).
template <class R, int F> inline R trn_wrap(i64 m) {
    const int d = L<R>::f - F;
    return make<R>(d >= 0 ? shl64(m, d >= 0 ? d : 0) : shr64(m, d < 0 ? -d : 0));
}

// When the native forms apply (compile-time conditions, per instantiation).
// A ring operation (+, -, *, negation) whose exact result has F fraction bits, as R.
template <class R, int F, int WA, int WB> struct ring_native {
    static const int drop = F - L<R>::f > 0 ? F - L<R>::f : 0;
    static const bool ok = KILN_NATIVE && WA <= 64 && WB <= 64 && L<R>::w + drop <= 64 &&
                           L<R>::f - F < 64;
};
// Operands aligned to a common LSB, exactly (comparisons).
template <class A, class B> struct align_native {
    static const int F = L<A>::f > L<B>::f ? L<A>::f : L<B>::f;
    static const bool ok =
        KILN_NATIVE && L<A>::sw + (F - L<A>::f) <= 64 && L<B>::sw + (F - L<B>::f) <= 64;
};

// ---------------------------------------------------------------- the headers' types
// `ap_of<T>`: the headers' type of a value type (itself for the headers' types), with
// the conversions both ways; used by the portable forms.
template <class T> struct ap_of {
    typedef T type;
    static const T& to(const T& x) { return x; }
    static const T& back(const T& x) { return x; }
};
#if KILN_NATIVE
template <int W, int F, bool S> struct ap_of<num<W, F, S> > {
    typedef typename value_sel<W, W - F, S, false>::type type;
    static type to(const num<W, F, S>& x) {
        type r;
        r.V = (ap_slong)x.m;
        return r;
    }
    static num<W, F, S> back(const type& x) {
        num<W, F, S> r;
        r.m = (i64)x.V.to_int64();
        return r;
    }
};
#endif

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
#if KILN_NATIVE
template <int W, int F, bool S>
auto raw(const num<W, F, S>& x) -> decltype(raw(ap_of<num<W, F, S> >::to(x))) {
    return raw(ap_of<num<W, F, S> >::to(x));
}
#endif
template <class T, int W, bool S> T from_raw_ap(const ap_int_base<W, S>& r) {
    T x;
    x.V = r.V;
    return x;
}
template <class T, int W, bool S> T from_raw(const ap_int_base<W, S>& r) {
    return ap_of<T>::back(from_raw_ap<typename ap_of<T>::type>(r));
}
// A constant from its raw bits (W <= 64).
template <class T> T konst(u64 bits) {
#if KILN_NATIVE
    return make<T>((i64)bits);
#else
    return from_raw<T>(ap_uint<L<T>::w>(bits));
#endif
}

// ---------------------------------------------------------------- value views
// Storage types (declared modes, ap_int, bin bits) to the value types of expressions,
// and values back into storage (`put`: the bits of a value of the storage's layout).

template <class R> struct same_bits {
    template <class X> static R of(const X& x) {
        R r;
        r.V = x.V;
        return r;
    }
};
#if KILN_NATIVE
template <int W, int F, bool S> struct same_bits<num<W, F, S> > {
    template <class X> static num<W, F, S> of(const X& x) {
        num<W, F, S> r;
        r.m = (i64)x.V.to_int64();
        return r;
    }
};
#endif
template <int W, int I, ap_q_mode Q, ap_o_mode O, int N>
fx<W, I> val(const ap_fixed<W, I, Q, O, N>& x) {
    return same_bits<fx<W, I> >::of(x);
}
template <int W, int I, ap_q_mode Q, ap_o_mode O, int N>
ufx<W, I> val(const ap_ufixed<W, I, Q, O, N>& x) {
    return same_bits<ufx<W, I> >::of(x);
}
template <int W> fx<W, W> val(const ap_int<W>& x) { return same_bits<fx<W, W> >::of(x); }
template <int W> ufx<W, W> val(const ap_uint<W>& x) { return same_bits<ufx<W, W> >::of(x); }
#if KILN_NATIVE
template <int W, int F, bool S> num<W, F, S> val(const num<W, F, S>& x) { return x; }
#endif
inline float val(float x) { return x; }
inline double val(double x) { return x; }
inline bool val(bool x) { return x; }
// A `bin` bit: 1 is +1, 0 is -1.
inline fx<2, 2> bin_val(const ap_uint<1>& b) {
#if KILN_NATIVE
    return make<fx<2, 2> >(b.V.to_uint64() ? 1 : -1);
#else
    return b == 1 ? ap_fixed<2, 2>(1) : ap_fixed<2, 2>(-1);
#endif
}
// Stores a value into a tensor element of the same layout (W, F, signedness).
template <class X, class V> struct putter {
    static void put(X& place, const V& v) { place.V = v.V; }
};
#if KILN_NATIVE
template <class X, int W, int F, bool S> struct putter<X, num<W, F, S> > {
    static void put(X& place, const num<W, F, S>& v) { place.V.set_VAL((u64)v.m); }
};
#endif
template <class X, class V> void put(X& place, const V& v) { putter<X, V>::put(place, v); }

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
#if KILN_NATIVE
template <int W, int F, bool S>
auto s(const num<W, F, S>& x) -> decltype(s(ap_of<num<W, F, S> >::to(x))) {
    return s(ap_of<num<W, F, S> >::to(x));
}
#endif
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

template <class A, bool N = KILN_NATIVE && L<A>::sw <= 64> struct sign_test {
    static bool neg(const A& x) { return x.is_neg(); }
    static bool zero(const A& x) { return x.is_zero(); }
};
#if KILN_NATIVE
template <class A> struct sign_test<A, true> {
    static bool neg(const A& x) { return mant(x) < 0; }
    static bool zero(const A& x) { return mant(x) == 0; }
};
#endif
template <class A> bool is_neg(const A& x) { return sign_test<A>::neg(x); }
template <class A> bool is_zero(const A& x) { return sign_test<A>::zero(x); }

// ---------------------------------------------------------------- comparisons

template <class A, class B, bool N = align_native<A, B>::ok> struct compare {
    typedef typename common_of<A, B>::type C;
    static bool lt(const A& a, const B& b) { return C(s(a)) < C(s(b)); }
    static bool eq(const A& a, const B& b) { return C(s(a)) == C(s(b)); }
};
#if KILN_NATIVE
template <class A, class B> struct compare<A, B, true> {
    static const int F = align_native<A, B>::F;
    static i64 ma(const A& a) { return shl64(mant(a), F - L<A>::f); }
    static i64 mb(const B& b) { return shl64(mant(b), F - L<B>::f); }
    static bool lt(const A& a, const B& b) { return ma(a) < mb(b); }
    static bool eq(const A& a, const B& b) { return ma(a) == mb(b); }
};
#endif
template <class A, class B> bool lt(const A& a, const B& b) { return compare<A, B>::lt(a, b); }
template <class A, class B> bool eq(const A& a, const B& b) { return compare<A, B>::eq(a, b); }
inline bool lt(float a, float b) { return a < b; }
inline bool eq(float a, float b) { return a == b; }
inline bool lt(double a, double b) { return a < b; }
inline bool eq(double a, double b) { return a == b; }
inline bool eq(bool a, bool b) { return a == b; }

// ---------------------------------------------------------------- arithmetic

// Forward declaration: exact -> fixed with T's modes (conversions, below).
template <class T, class A> T to_fixed(const A& a);

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
    if (nb == 0) return konst<R>(0);
    ap_int<N> q = na / nb;
    return from_raw<R>(ap_int<R::width>(q));
}

// floor(a / b), an integer of type R. b != 0.
template <class R, class A, class B> R floordiv(const A& a, const B& b) {
    typedef typename common_of<A, B>::type C;
    const int N = C::width + 2;
    ap_int<N> na = raw(C(s(a))), nb = raw(C(s(b)));
    if (nb == 0) return konst<R>(0);
    ap_int<N> q = na / nb, r = na % nb;
    if (r != 0 && ((r < 0) != (nb < 0))) q -= 1;
    return to_fixed<R>(from_raw<ap_fixed<N, N> >(q));
}

// a - b * floor(a / b), of type R. b != 0.
template <class R, class A, class B> R mod(const A& a, const B& b) {
    typedef typename common_of<A, B>::type C;
    const int N = C::width + 2;
    ap_int<N> na = raw(C(s(a))), nb = raw(C(s(b)));
    if (nb == 0) return konst<R>(0);
    ap_int<N> r = na % nb;
    if (r != 0 && ((r < 0) != (nb < 0))) r += nb;
    // r is the remainder's mantissa at C's LSB.
    return to_fixed<R>(from_raw<ap_fixed<N, C::iwidth + 2> >(r));
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
    return to_fixed<R>(w);
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
    return to_fixed<R>(ap_fixed<I + FR, I>(w));
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

// The native form: kiln-numeric's `to_fixed` (numeric/src/fixed.rs) on 64-bit mantissas:
// quantize to T's LSB with T's mode, then saturate or wrap. For targets of at most 62
// bits, sources whose shifted mantissa stays within 62 bits, and every overflow mode but
// AP_WRAP with saturation bits and AP_WRAP_SM (those take the portable form).
template <class T, class A> struct conversion_native {
    static const int d = L<T>::f - L<A>::f;
    static const bool modes = L<T>::o == AP_SAT || L<T>::o == AP_SAT_ZERO ||
                              L<T>::o == AP_SAT_SYM || (L<T>::o == AP_WRAP && L<T>::n == 0);
    static const bool ok = KILN_NATIVE && modes && L<T>::w <= 62 &&
                           (d >= 0 ? L<A>::sw + d <= 62 : -d <= 62);
};
template <class T, class A, bool N = conversion_native<T, A>::ok> struct conversion {
    typedef typename ap_of<T>::type AT;
    static T of(const A& a) { return ap_of<T>::back(fixed_conversion<AT, A>::of(a)); }
    // The converted value as a value type (a local, a cast).
    static typename value_of<T>::type value(const A& a) { return val(of(a)); }
};
template <class T> struct conversion<T, T, true> {
    static T of(const T& a) { return a; }
    static typename value_of<T>::type value(const T& a) { return val(a); }
};
#if KILN_NATIVE
// The rounding increment of mode Q for a dropped remainder `rem` (0 < rem < 2^sh).
template <ap_q_mode Q> inline bool round_up(i64 floor, i64 rem, int sh, bool neg) {
    const i64 half = (i64)1 << (sh - 1);
    const bool above = rem > half, tie = rem == half;
    switch (Q) {
    case AP_TRN: return false;
    case AP_TRN_ZERO: return neg;
    case AP_RND: return above || tie;
    case AP_RND_ZERO: return above || (tie && neg);
    case AP_RND_MIN_INF: return above;
    case AP_RND_INF: return above || (tie && !neg);
    case AP_RND_CONV: return above || (tie && (floor & 1));
    }
    return false;
}
template <class T, class A> struct conversion<T, A, true> {
    // The mantissa of the converted value.
    static i64 mantissa(const A& a) {
        typedef L<T> t;
        const int d = conversion_native<T, A>::d;
        const i64 m = mant(a);
        i64 q;
        if (d >= 0) {
            q = shl64(m, d >= 0 ? d : 0);
        } else {
            const int sh = d < 0 ? -d : 1;
            q = m >> sh;
            const i64 rem = m & (((i64)1 << sh) - 1);
            if (t::q != AP_TRN && rem != 0) q += round_up<t::q>(q, rem, sh, m < 0);
        }
        const i64 hi = t::s ? ((i64)1 << (t::w - 1)) - 1 : ((i64)1 << t::w) - 1;
        const i64 lo = t::s ? -((i64)1 << (t::w - 1)) : 0;
        const bool over = q > hi;
        const bool under = q < lo || (t::o == AP_SAT_SYM && t::s && q == lo);
        if (!over && !under) return q;
        switch (t::o) {
        case AP_SAT: return over ? hi : lo;
        case AP_SAT_ZERO: return 0;
        case AP_SAT_SYM:
            // The headers form -max as `min | 1`, which is `min` for one bit.
            return over ? hi : !t::s ? 0 : t::w == 1 ? lo : -hi;
        default: return q;  // AP_WRAP without saturation bits: make() wraps
        }
    }
    static T of(const A& a) { return make<T>(mantissa(a)); }
    static typename value_of<T>::type value(const A& a) {
        return make<typename value_of<T>::type>(mantissa(a));
    }
};
#endif
template <class T, class A> T to_fixed(const A& a) { return conversion<T, A>::of(a); }
// exact -> fixed with T's modes, as T's value type.
template <class T, class A> typename value_of<T>::type cvt(const A& a) {
    return conversion<T, A>::value(a);
}

// exact -> int<W> / uint<W> (T = ap_int<W> / ap_uint<W>): toward zero, then wrap.
template <class T, class A,
          bool N = KILN_NATIVE && L<A>::sw <= 64 && L<T>::w <= 64 && L<A>::f <= 62 &&
                   -L<A>::f <= 63>
struct int_conversion {
    static T of(const A& a) {
        typedef typename signed_of<A>::type SA;
        const int K = (SA::iwidth > 0 ? SA::iwidth : 0) + 1;
        const ap_fixed<K, K, AP_TRN_ZERO, AP_WRAP> t =
            fixed_conversion<ap_fixed<K, K, AP_TRN_ZERO, AP_WRAP>, A>::of(a);
        ap_int<K> m = raw(ap_fixed<K, K>(t));
        return T(m);
    }
    static typename value_of<T>::type value(const A& a) { return val(of(a)); }
};
#if KILN_NATIVE
template <class T, class A> struct int_conversion<T, A, true> {
    static i64 whole(const A& a) {
        const int f = L<A>::f;
        const i64 m = mant(a);
        if (f <= 0) return shl64(m, f <= 0 ? -f : 0);
        const int sh = f > 0 ? f : 1;
        return m >= 0 ? m >> sh : (m + (((i64)1 << sh) - 1)) >> sh;
    }
    static T of(const A& a) { return make<T>(whole(a)); }
    static typename value_of<T>::type value(const A& a) {
        return make<typename value_of<T>::type>(whole(a));
    }
};
#endif
template <class T, class A> T to_int(const A& a) { return int_conversion<T, A>::of(a); }
// exact -> int<W> / uint<W>, as the value type fx<W, W> / ufx<W, W>.
template <class T, class A> typename value_of<T>::type cvt_int(const A& a) {
    return int_conversion<T, A>::value(a);
}
// exact -> bin (as a value, and as its storage bit), tern, bool.
template <class A> fx<2, 2> to_bin(const A& a) {
    return konst<fx<2, 2> >(is_neg(a) ? 3 : 1);
}
template <class A> ap_uint<1> bin_bit(const A& a) { return is_neg(a) ? ap_uint<1>(0) : ap_uint<1>(1); }
template <class A> fx<2, 2> to_tern(const A& a) {
    return konst<fx<2, 2> >(is_neg(a) ? 3 : is_zero(a) ? 0 : 1);
}
template <class A> bool to_bool(const A& a) { return !is_zero(a); }
inline bool to_bool(float f) { return f != 0.0f; }
inline bool to_bool(double f) { return f != 0.0; }
inline bool to_bool(bool b) { return b; }
inline ufx<1, 1> from_bool(bool b) { return konst<ufx<1, 1> >(b ? 1 : 0); }

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
inline fx<2, 2> tern_from_f64(double f) { return to_tern(f64_exact(f)); }

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
inline fx<2, 2> bin_from_f32(float f) {
    return f32_finite(f) ? to_bin(f32_exact(f)) : to_bin(f32_huge_standin<0>(f));
}
inline ap_uint<1> bin_bit_from_f32(float f) {
    return f32_finite(f) ? bin_bit(f32_exact(f)) : bin_bit(f32_huge_standin<0>(f));
}
inline fx<2, 2> tern_from_f32(float f) {
    return f32_finite(f) ? to_tern(f32_exact(f)) : to_tern(f32_huge_standin<0>(f));
}


// ---------------------------------------------------------------- + - * and negation
// The exact result of the operation, as R (the result's inferred value type, which holds
// it: R's conversion only changes the C++ type).

template <class R, class A, class B> struct sum_native {
    static const int F = L<A>::f > L<B>::f ? L<A>::f : L<B>::f;
    static const bool ok = ring_native<R, F, L<A>::w, L<B>::w>::ok && F - L<A>::f < 64 &&
                           F - L<B>::f < 64;
};
template <class R, class A, class B, bool N = sum_native<R, A, B>::ok> struct sum {
    static R add(const A& a, const B& b) { return to_fixed<R>(s(a) + s(b)); }
    static R sub(const A& a, const B& b) { return to_fixed<R>(s(a) - s(b)); }
};
template <class R, class A, class B,
          bool N = ring_native<R, L<A>::f + L<B>::f, L<A>::w, L<B>::w>::ok>
struct product {
    static R mul(const A& a, const B& b) { return to_fixed<R>(s(a) * s(b)); }
};
template <class R, class A, bool N = ring_native<R, L<A>::f, L<A>::w, 1>::ok> struct negation {
    static R neg(const A& a) { return to_fixed<R>(-s(a)); }
    static R abs(const A& a) { return is_neg(a) ? to_fixed<R>(-s(a)) : to_fixed<R>(s(a)); }
};
#if KILN_NATIVE
template <class R, class A, class B> struct sum<R, A, B, true> {
    static const int F = sum_native<R, A, B>::F;
    static i64 ma(const A& a) { return shl64(mant(a), F - L<A>::f); }
    static i64 mb(const B& b) { return shl64(mant(b), F - L<B>::f); }
    static R add(const A& a, const B& b) { return trn_wrap<R, F>((i64)((u64)ma(a) + (u64)mb(b))); }
    static R sub(const A& a, const B& b) { return trn_wrap<R, F>((i64)((u64)ma(a) - (u64)mb(b))); }
};
template <class R, class A, class B> struct product<R, A, B, true> {
    static R mul(const A& a, const B& b) {
        return trn_wrap<R, L<A>::f + L<B>::f>((i64)((u64)mant(a) * (u64)mant(b)));
    }
};
template <class R, class A> struct negation<R, A, true> {
    static R neg(const A& a) { return trn_wrap<R, L<A>::f>((i64)(0 - (u64)mant(a))); }
    static R abs(const A& a) {
        const i64 m = mant(a);
        return trn_wrap<R, L<A>::f>(m < 0 ? (i64)(0 - (u64)m) : m);
    }
};
#endif
template <class R, class A, class B> R add(const A& a, const B& b) { return sum<R, A, B>::add(a, b); }
template <class R, class A, class B> R sub(const A& a, const B& b) { return sum<R, A, B>::sub(a, b); }
template <class R, class A, class B> R mul(const A& a, const B& b) {
    return product<R, A, B>::mul(a, b);
}
template <class R, class A> R neg_to(const A& a) { return negation<R, A>::neg(a); }
template <class R, class A> R abs_to(const A& a) { return negation<R, A>::abs(a); }

// A loop counter as a value of type R (which holds every value it takes).
template <class R, bool N = ring_native<R, 0, 32, 32>::ok> struct loop_value {
    static R of(int i) { return to_fixed<R>(from_raw<ap_fixed<32, 32> >(ap_int<32>(i))); }
};
#if KILN_NATIVE
template <class R> struct loop_value<R, true> {
    static R of(int i) { return trn_wrap<R, 0>(i); }
};
#endif
template <class R> R from_loop(int i) { return loop_value<R>::of(i); }

// a * b where a is a `bin` or `tern` value (-1, 0 or +1): a select between 0, b and -b
// (no multiplier), as R.
template <class R, class A, class B> R sel_mul(const A& a, const B& b) {
#if KILN_NATIVE
    // C-simulation: a times b on the mantissas, exact since a is -1, 0 or +1, and without
    // the two data-dependent branches of the select (half of a ternary LeNet's run).
    return mul<R>(a, b);
#else
    return is_zero(a) ? konst<R>(0) : is_neg(a) ? neg_to<R>(b) : to_fixed<R>(b);
#endif
}

// ---------------------------------------------------------------- packed low-bit words
// Reductions of bin and trit products over words of 64 values (ELB-NN's XNOR/popcount
// engine; backends/hls/src/lowbit.rs). A bin is its storage bit (1 for +1); a trit is a
// sign bit (1 for -1) and a nonzero bit. Each function returns the sum of the products
// of one word, an integer in [-64, 64].
#if KILN_NATIVE
typedef u64 word;
inline int popcount(word w) { return __builtin_popcountll(w); }
inline word set_bit(word w, int k, bool b) { return w | ((u64)b << k); }
inline word low_mask(int n) { return n >= 64 ? ~(word)0 : ((word)1 << n) - 1; }
#else
typedef ap_uint<64> word;
// An adder tree of the bits (LUTs).
inline int popcount(const word& w) {
    int c = 0;
    for (int i = 0; i < 64; i++) {
        KILN_PRAGMA(HLS UNROLL)
        c += (int)w[i];
    }
    return c;
}
inline word set_bit(word w, int k, bool b) {
    w[k] = b;
    return w;
}
inline word low_mask(int n) { return n >= 64 ? word(~word(0)) : word((word(1) << n) - 1); }
#endif
// The n bits of a word from bit `off` on (a window of a packed row).
inline word window(const word& w, int off, int n) { return word((w >> off) & low_mask(n)); }
// The values in word q of a row of n.
inline int word_bits(int q, int n) { return n - 64 * q < 64 ? n - 64 * q : 64; }
// bin x bin: 2 * popcount(XNOR) - n.
inline int bin_dot(const word& x, const word& w, int n) {
    return 2 * popcount(word(~(x ^ w) & low_mask(n))) - n;
}
// trit (nonzero bits m, sign bits s) x bin b: a product is -1 where s XNOR b.
inline int trit_bin_dot(const word& m, const word& s, const word& b) {
    return popcount(m) - 2 * popcount(word(m & ~(s ^ b)));
}
// trit x trit: nonzero where both are, -1 where the signs differ.
inline int trit_dot(const word& ma, const word& sa, const word& mb, const word& sb) {
    const word m = ma & mb;
    return popcount(m) - 2 * popcount(word(m & (sa ^ sb)));
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

#ifndef __SYNTHESIS__
// Fills a ROM table (any rank) from the same values in a plain type (KILN_ROM_END).
template <class T> struct elem_of { typedef T type; };
template <class T, size_t N> struct elem_of<T[N]> { typedef typename elem_of<T>::type type; };
template <class A, class R> A& fill_rom(A& rom, const R& raw) {
    typedef typename elem_of<A>::type T;
    typedef typename elem_of<R>::type E;
    T* p = reinterpret_cast<T*>(&rom);
    const E* q = reinterpret_cast<const E*>(&raw);
    for (size_t i = 0; i < sizeof(A) / sizeof(T); i++) p[i] = T(q[i]);
    return rom;
}
#endif

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
