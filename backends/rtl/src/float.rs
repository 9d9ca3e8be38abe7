//! IEEE 754 binary32 and binary64 arithmetic as combinational Verilog functions, bit for
//! bit what the interpreter and the JIT compute on x86-64 (SSE): `+ - * /` rounded to
//! nearest, ties to even, with subnormals; comparisons (NaN unordered, `-0 == +0`);
//! `min`/`max` as `std::min`/`std::max`; `-x` and `abs(x)` on the sign bit; and the
//! conversions of kiln-numeric (`passes/src/ir/value.rs` `convert`): exact → float rounded
//! to nearest even, float → float as `cvtss2sd`/`cvtsd2ss`, float → exact through the
//! float's exact value with the target's quantization and overflow modes (infinities and
//! NaN as the magnitude 2^1024 the Vitis headers read them as).
//!
//! NaNs follow the SSE rules: an operation with a NaN operand returns the first NaN
//! operand, quieted (`a` before `b`); an invalid operation (`inf - inf`, `0 * inf`,
//! `0 / 0`, `inf / inf`) returns the default NaN (sign set, quiet bit set).
//!
//! Every function is generated for one format (`E` exponent and `M` mantissa bits) and
//! defined once per module ([`crate::module::ModGen::funcs`]); each result goes through
//! one rounding function, [`round_fn`]: the value `n * 2^k` (an unsigned integer and an
//! exponent) to the nearest float. The adder aligns its smaller operand with three guard
//! bits and one sticky bit below them, the divider appends its remainder's sticky bit:
//! each stands for "something nonzero below", one position under every rounding
//! decision, so the rounding sees the exact value's outcome.
//!
//! Before: `the tensor \`a\` holds f32 values` (E0720). After: `wire [31:0] w7 =
//! f32_add(w5, w6);` with `f32_add` and the `f32_rnd` it calls in the module.

use crate::fixed::{Fmt, Wires};
use kiln_numeric::{Overflow, ScalarType};
use std::fmt::Write;

/// A binary floating-point format: exponent and mantissa (fraction) bits.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FloatFmt {
    pub e: u32,
    pub m: u32,
}

impl FloatFmt {
    pub const F32: FloatFmt = FloatFmt { e: 8, m: 23 };
    pub const F64: FloatFmt = FloatFmt { e: 11, m: 52 };

    /// The format of a float type.
    pub fn of(t: &ScalarType) -> Option<FloatFmt> {
        match t {
            ScalarType::F32 => Some(Self::F32),
            ScalarType::F64 => Some(Self::F64),
            _ => None,
        }
    }

    /// All bits.
    pub fn bits(self) -> u32 {
        self.e + self.m + 1
    }

    fn bias(self) -> i64 {
        (1i64 << (self.e - 1)) - 1
    }

    /// The prefix of its functions' names (`f32`, `f64`).
    fn tag(self) -> String {
        format!("f{}", self.bits())
    }

    /// Verilog constants: the all-ones exponent, the quiet bit, the default NaN.
    fn consts(self) -> (String, String, String) {
        let (t, e, m) = (self.bits(), self.e, self.m);
        (
            format!("{e}'h{:x}", (1u64 << e) - 1),
            format!("{t}'h{:x}", 1u64 << (m - 1)),
            format!(
                "{t}'h{:x}",
                (1u64 << (t - 1)) | (((1u64 << e) - 1) << m) | (1u64 << (m - 1))
            ),
        )
    }
}

/// A float operation the module defines as a function.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum FloatOp {
    Add,
    Sub,
    Mul,
    Div,
    Lt,
    Eq,
}

/// The rounding function of `f` for `wn`-bit integers: `(s, n, k)` → the float nearest
/// to `(-1)^s * n * 2^k` (ties to even; subnormal, infinite when it overflows).
pub fn round_fn(f: FloatFmt, wn: u32) -> (String, String) {
    let name = format!("{}_rnd{wn}", f.tag());
    let (t, e, m, b) = (f.bits(), f.e, f.m, f.bias());
    let u = wn.max(m + 2) + 1;
    let ones = (1i64 << e) - 1;
    let min_lsb = 1 - b - m as i64;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "    function [{tm}:0] {name};
        input s;
        input [{wm}:0] n;
        input signed [31:0] k;
        integer p, lsb, sh, i, be;
        reg [{um}:0] units;
        reg rb, st;
        reg [31:0] bef;
        begin
            if (n == {wn}'d0) {name} = {{s, {{{tz}{{1'b0}}}}}};
            else begin
                p = 0;
                for (i = 0; i < {wn}; i = i + 1) if (n[i]) p = i;
                lsb = p + k - {m};
                if (lsb < {min_lsb}) lsb = {min_lsb};
                sh = lsb - k;
                if (sh <= 0) begin
                    units = {{{{{pad}{{1'b0}}}}, n}} << (-sh);
                    rb = 1'b0;
                    st = 1'b0;
                end else begin
                    units = {{{{{pad}{{1'b0}}}}, n}} >> sh;
                    rb = (sh - 1 < {wn}) ? n[sh - 1] : 1'b0;
                    st = (sh - 1 >= {wn}) ? (|n) : (|(n << ({wn} - sh + 1)));
                end
                if (rb & (st | units[0])) units = units + 1'b1;
                if (units[{m1}]) begin
                    units = units >> 1;
                    lsb = lsb + 1;
                end
                if (units[{m}]) begin
                    be = lsb + {m} + {b};
                    bef = be;
                    if (be >= {ones}) {name} = {{s, {{{e}{{1'b1}}}}, {{{m}{{1'b0}}}}}};
                    else {name} = {{s, bef[{em}:0], units[{mm}:0]}};
                end else
                    {name} = {{s, {{{e}{{1'b0}}}}, units[{mm}:0]}};
            end
        end
    endfunction",
        tm = t - 1,
        wm = wn - 1,
        um = u - 1,
        tz = t - 1,
        pad = u - wn,
        m1 = m + 1,
        em = e - 1,
        mm = m - 1,
    );
    (name, s)
}

/// The decoded operand `x` (`a` or `b`) of a function of format `f`: sign, exponent and
/// mantissa fields, whether it is NaN or infinite, and its significand and exponent
/// (subnormals with exponent 1 and no hidden bit).
fn decode(f: FloatFmt, x: &str) -> String {
    let (t, m) = (f.bits(), f.m);
    let (ones, _, _) = f.consts();
    format!(
        "            s{x} = {x}[{tm}];
            e{x} = {x}[{tm1}:{m}];
            m{x} = {x}[{mm}:0];
            nan{x} = (e{x} == {ones}) && (m{x} != {m}'d0);
            inf{x} = (e{x} == {ones}) && (m{x} == {m}'d0);
            zero{x} = ({x}[{tm1}:0] == {tm}'d0);
            sig{x} = {{e{x} != {e}'d0, m{x}}};
            x{x} = (e{x} == {e}'d0) ? 1 : e{x};
",
        tm = t - 1,
        tm1 = t - 2,
        mm = m - 1,
        e = f.e,
    )
}

/// Declarations for [`decode`] of each operand of `operands` (`a`, `b`).
fn decode_regs(f: FloatFmt, operands: &[&str]) -> String {
    let (e, m) = (f.e, f.m);
    let list = |prefix: &str| {
        operands
            .iter()
            .map(|x| format!("{prefix}{x}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "        reg {s};
        reg [{em}:0] {e_};
        reg [{mm}:0] {m_};
        reg {nan}, {inf}, {zero};
        reg [{m}:0] {sig};
        integer {x};
",
        s = list("s"),
        e_ = list("e"),
        m_ = list("m"),
        nan = list("nan"),
        inf = list("inf"),
        zero = list("zero"),
        sig = list("sig"),
        x = list("x"),
        em = e - 1,
        mm = m - 1,
    )
}

/// The function `op` of format `f`: its name and text, and the functions it calls.
pub fn op_fn(f: FloatFmt, op: FloatOp) -> (String, String, Vec<(String, String)>) {
    let tag = f.tag();
    let (t, m, b) = (f.bits(), f.m, f.bias());
    let (ones, quiet, dnan) = f.consts();
    let name = format!(
        "{tag}_{}",
        match op {
            FloatOp::Add => "add",
            FloatOp::Sub => "sub",
            FloatOp::Mul => "mul",
            FloatOp::Div => "div",
            FloatOp::Lt => "lt",
            FloatOp::Eq => "eq",
        }
    );
    let mut deps = Vec::new();
    let mut s = String::new();
    let header = |width: u32| {
        format!(
            "    function [{}:0] {name};\n        input [{tm}:0] a;\n        input [{tm}:0] b;\n",
            width - 1,
            tm = t - 1
        )
    };
    let nan_rules = format!(
        "            if (nana) {name} = a | {quiet};
            else if (nanb) {name} = b | {quiet};
"
    );
    let inf = format!("{{s, {ones}, {m}'d0}}");
    let zero = format!("{{s, {}'d0}}", t - 1);
    match op {
        FloatOp::Add => {
            let wn = m + 6;
            let (rnd, text) = round_fn(f, wn);
            deps.push((rnd.clone(), text));
            s.push_str(&header(t));
            s.push_str(&decode_regs(f, &["a", "b"]));
            let _ = write!(
                s,
                "        reg sx, sy, s, st;
        reg [{m}:0] sigx, sigy;
        integer xx, xy, d;
        reg [{g}:0] gx, gyf, gy;
        reg [{nm}:0] n;
        begin
{da}{db}{nan_rules}            else if (infa && infb) {name} = (sa == sb) ? a : {dnan};
            else if (infa) {name} = a;
            else if (infb) {name} = b;
            else begin
                if (a[{tm1}:0] >= b[{tm1}:0]) begin
                    sx = sa; xx = xa; sigx = siga; sy = sb; xy = xb; sigy = sigb;
                end else begin
                    sx = sb; xx = xb; sigx = sigb; sy = sa; xy = xa; sigy = siga;
                end
                d = xx - xy;
                gx = {{sigx, 3'b000}};
                gyf = {{sigy, 3'b000}};
                gy = gyf >> d;
                st = (d >= {g1}) ? (|gyf) : (|(gyf << ({g1} - d)));
                if (sx == sy) n = {{1'b0, gx, 1'b0}} + {{1'b0, gy, st}};
                else n = {{1'b0, gx, 1'b0}} - {{1'b0, gy, st}};
                s = (n == {wn}'d0) ? (sa & sb) : sx;
                {name} = {rnd}(s, n, xx - {b} - {m} - 4);
            end
        end
    endfunction
",
                da = decode(f, "a"),
                db = decode(f, "b"),
                g = m + 3,
                g1 = m + 4,
                nm = wn - 1,
                tm1 = t - 2,
            );
        }
        FloatOp::Sub => {
            // As SSE: the NaN rules on the operands as given, otherwise a + (-b).
            let (add, text, more) = op_fn(f, FloatOp::Add);
            deps.extend(more);
            deps.push((add.clone(), text));
            let sign = format!("{t}'h{:x}", 1u64 << (t - 1));
            let _ = write!(
                s,
                "{}{}        begin
{}{}            if (nana || nanb) {name} = {add}(a, b);
            else {name} = {add}(a, b ^ {sign});
        end
    endfunction
",
                header(t),
                decode_regs(f, &["a", "b"]),
                decode(f, "a"),
                decode(f, "b"),
            );
        }
        FloatOp::Mul => {
            let wn = 2 * m + 2;
            let (rnd, text) = round_fn(f, wn);
            deps.push((rnd.clone(), text));
            s.push_str(&header(t));
            s.push_str(&decode_regs(f, &["a", "b"]));
            let _ = write!(
                s,
                "        reg s;
        begin
{da}{db}            s = sa ^ sb;
{nan_rules}            else if (infa || infb) {name} = ((infa && zerob) || (infb && zeroa)) ? {dnan} : {inf};
            else {name} = {rnd}(s, siga * sigb, (xa - {b} - {m}) + (xb - {b} - {m}));
        end
    endfunction
",
                da = decode(f, "a"),
                db = decode(f, "b"),
            );
        }
        FloatOp::Div => {
            let wq = 2 * m + 4;
            let wn = wq + 1;
            let (rnd, text) = round_fn(f, wn);
            deps.push((rnd.clone(), text));
            s.push_str(&header(t));
            s.push_str(&decode_regs(f, &["a", "b"]));
            let _ = write!(
                s,
                "        reg s;
        integer la, lb, i;
        reg [{qm}:0] num, den, q, r;
        begin
{da}{db}            s = sa ^ sb;
{nan_rules}            else if (infa && infb) {name} = {dnan};
            else if (infa) {name} = {inf};
            else if (infb) {name} = {zero};
            else if (zerob) {name} = zeroa ? {dnan} : {inf};
            else if (zeroa) {name} = {zero};
            else begin
                la = 0;
                lb = 0;
                for (i = 0; i <= {m}; i = i + 1) begin
                    if (siga[i]) la = {m} - i;
                    if (sigb[i]) lb = {m} - i;
                end
                num = {{siga << la, {m3}'d0}};
                den = {{{{{pad}{{1'b0}}}}, sigb << lb}};
                q = num / den;
                r = num % den;
                {name} = {rnd}(s, {{q, r != {wq}'d0}}, (xa - la) - (xb - lb) - {m3} - 1);
            end
        end
    endfunction
",
                da = decode(f, "a"),
                db = decode(f, "b"),
                qm = wq - 1,
                m3 = m + 3,
                pad = wq - (m + 1),
            );
        }
        FloatOp::Lt | FloatOp::Eq => {
            let sign = format!("{t}'h{:x}", 1u64 << (t - 1));
            s.push_str(&header(1));
            let body = if op == FloatOp::Lt {
                "!(nana || nanb) && !(zeroa && zerob) && (ka < kb)".to_string()
            } else {
                "!(nana || nanb) && ((zeroa && zerob) || (a == b))".to_string()
            };
            s.push_str(&decode_regs(f, &["a", "b"]));
            let _ = write!(
                s,
                "        reg [{tm}:0] ka, kb;
        begin
{da}{db}            ka = a[{tm}] ? ~a : (a | {sign});
            kb = b[{tm}] ? ~b : (b | {sign});
            {name} = {body};
        end
    endfunction
",
                da = decode(f, "a"),
                db = decode(f, "b"),
                tm = t - 1,
            );
        }
    }
    (name, s, deps)
}

/// The correctly rounded square root of format `f` (as SSE's `sqrtss`/`sqrtsd`; the f32
/// function of kiln-numeric is `sqrtss` itself): a NaN quieted, `-0` for `-0`, the default
/// NaN for a negative number, the root of the significand bit by bit otherwise (restoring,
/// two radicand bits a step), its remainder a sticky bit.
pub fn sqrt_fn(f: FloatFmt) -> (String, String, Vec<(String, String)>) {
    let name = format!("{}_sqrt", f.tag());
    let (t, m, b) = (f.bits(), f.m, f.bias());
    let (_, quiet, dnan) = f.consts();
    // The radicand: the significand (normalized, its exponent made even) shifted left by
    // an even amount so that its root has m + 3 bits.
    let sh2 = (m + 5) + (m + 5) % 2;
    let wr = m + 2 + sh2;
    let wq = wr / 2 + 1;
    let wn = wq + 1;
    let (rnd, text) = round_fn(f, wn);
    let mut s = String::new();
    let _ = write!(
        s,
        "    function [{tm}:0] {name};
        input [{tm}:0] a;
{regs}        reg [{m}:0] sig;
        reg [{w2m}:0] r, q2, rem;
        reg [{wqm}:0] q;
        integer x, la, i;
        begin
{da}            if (nana) {name} = a | {quiet};
            else if (zeroa) {name} = a;
            else if (sa) {name} = {dnan};
            else if (infa) {name} = a;
            else begin
                la = 0;
                for (i = 0; i <= {m}; i = i + 1) if (siga[i]) la = {m} - i;
                sig = siga << la;
                x = xa - {b} - {m} - la;
                if (x % 2 != 0) begin
                    r = {{{{{p1}{{1'b0}}}}, sig, 1'b0}} << {sh2};
                    x = x - 1;
                end else
                    r = {{{{{p2}{{1'b0}}}}, sig}} << {sh2};
                // Restoring square root, two radicand bits a step: no multiplier.
                q = {wq}'d0;
                rem = {w2}'d0;
                for (i = {wqm}; i >= 0; i = i - 1) begin
                    rem = (rem << 2) | ((r >> (2 * i)) & {w2}'d3);
                    q2 = {{q, 2'b01}};
                    if (rem >= q2) begin
                        rem = rem - q2;
                        q = {{q[{wqm1}:0], 1'b1}};
                    end else
                        q = {{q[{wqm1}:0], 1'b0}};
                end
                {name} = {rnd}(1'b0, {{q, rem != {w2}'d0}}, (x - {sh2}) / 2 - 1);
            end
        end
    endfunction
",
        tm = t - 1,
        regs = decode_regs(f, &["a"]),
        da = decode(f, "a"),
        w2m = 2 * wq + 1,
        w2 = 2 * wq + 2,
        wqm = wq - 1,
        wqm1 = wq - 2,
        p1 = 2 * wq + 2 - (m + 2),
        p2 = 2 * wq + 2 - (m + 1),
    );
    (name, s, vec![(rnd, text)])
}

/// The conversion between the two float formats (`f32` → `f64` exact, `f64` → `f32`
/// rounded to nearest even; a NaN quieted, keeping its sign and the payload's high bits).
pub fn float_to_float(from: FloatFmt, to: FloatFmt) -> (String, String, Vec<(String, String)>) {
    let name = format!("{}_to_{}", from.tag(), to.tag());
    let tt = to.bits();
    let (fm, tm) = (from.m, to.m);
    let wn = fm + 1;
    let (rnd, text) = round_fn(to, wn);
    let quiet_bit = format!("{tm}'h{:x}", 1u64 << (tm - 1));
    let payload = if tm >= fm {
        format!("{{ma, {}'d0}}", tm - fm)
    } else {
        format!("ma[{}:{}]", fm - 1, fm - tm)
    };
    let mut s = String::new();
    let _ = write!(
        s,
        "    function [{ttm}:0] {name};
        input [{tfm}:0] a;
{regs}        reg [{tmm}:0] p;
        begin
{da}            p = {payload};
            if (nana) {name} = {{sa, {{{te}{{1'b1}}}}, p | {tq}}};
            else if (infa) {name} = {{sa, {{{te}{{1'b1}}}}, {tm}'d0}};
            else {name} = {rnd}(sa, siga, xa - {fb} - {fm});
        end
    endfunction
",
        ttm = tt - 1,
        tfm = from.bits() - 1,
        regs = decode_regs(from, &["a"]),
        da = decode(from, "a"),
        tmm = tm - 1,
        te = to.e,
        fb = from.bias(),
        tq = quiet_bit,
    );
    (name, s, vec![(rnd, text)])
}

/// The conversion of an exact value of format `from` to the float format `to` (nearest,
/// ties to even).
pub fn exact_to_float(from: Fmt, to: FloatFmt) -> (String, String, Vec<(String, String)>) {
    let name = format!(
        "{}_from_{}{}{}",
        to.tag(),
        if from.signed { "s" } else { "u" },
        from.width,
        if from.frac >= 0 {
            format!("f{}", from.frac)
        } else {
            format!("fm{}", -from.frac)
        }
    );
    let w = from.width;
    let wn = w + 1;
    let (rnd, text) = round_fn(to, wn);
    let sign = if from.signed {
        format!("x[{}]", w - 1)
    } else {
        "1'b0".into()
    };
    let ext = if from.signed {
        format!("{{x[{}], x}}", w - 1)
    } else {
        "{1'b0, x}".into()
    };
    let mut s = String::new();
    let _ = write!(
        s,
        "    function [{tm}:0] {name};
        input [{wm}:0] x;
        reg sgn;
        reg [{w}:0] mag;
        begin
            sgn = {sign};
            mag = sgn ? -{ext} : {ext};
            {name} = {rnd}(sgn, mag, -({frac}));
        end
    endfunction
",
        tm = to.bits() - 1,
        wm = w - 1,
        frac = from.frac,
    );
    (name, s, vec![(rnd, text)])
}

/// How a float becomes an exact value of type `to` (int or fixed, `target` its format):
/// the float's value in a signed intermediate format of two more integer bits and three
/// more fractional bits than the target's, the last a sticky bit (one when anything
/// nonzero lies at or below it), from which the target's rounding and overflow follow
/// exactly; a value too large for it is the intermediate's largest or smallest value when
/// the target saturates (its sign is all that matters then), its low bits when it wraps.
/// Returns the function (its name, text) and the intermediate format; `None` for a
/// wrapping fixed type with saturation bits (its result needs the value's high bits).
pub fn float_to_exact(
    from: FloatFmt,
    to: &ScalarType,
    target: Fmt,
) -> Option<(String, String, Fmt)> {
    let wraps = match to {
        ScalarType::Int(_) => true,
        ScalarType::Fixed(t) if t.overflow == Overflow::Wrap => {
            if t.sat_bits > 0 {
                return None;
            }
            true
        }
        _ => false,
    };
    let int_bits = target.width as i64 - target.frac as i64;
    let wi = target.width + 5;
    let fi = target.frac + 3;
    let inter = Fmt::new(wi, fi, true);
    let (t, m, b) = (from.bits(), from.m, from.bias());
    let name = format!(
        "{}_to_{}{}_{}",
        from.tag(),
        if wraps { "w" } else { "s" },
        wi,
        if fi >= 0 {
            format!("f{fi}")
        } else {
            format!("fm{}", -fi)
        }
    );
    // Infinities and NaN: (1.m) * 2^1024, an f32 NaN quieted first (as `f32_to_fx_or_huge`
    // reads it through f64).
    let huge_m = if from == FloatFmt::F32 {
        format!("nana ? (ma | {m}'h{:x}) : ma", 1u64 << (m - 1))
    } else {
        "ma".into()
    };
    let sw = (m + 1).max(wi);
    let padded = if sw > m + 1 {
        format!("{{{{{}{{1'b0}}}}, sig}}", sw - (m + 1))
    } else {
        "sig".to_string()
    };
    // A value too large for the intermediate: when the target wraps, its magnitude
    // modulo 2^I (I the target's integer bits), with its own sign, so that a rounding
    // toward zero rounds it as the value itself; when the target saturates, the
    // intermediate's largest magnitude.
    let reduce = if wraps {
        format!(
            "            if (big) mag = mag & {{2'b00, {{{keep}{{1'b1}}}}}};
",
            keep = wi - 2
        )
    } else {
        String::new()
    };
    let clamp = if wraps {
        String::new()
    } else {
        format!(
            "            if (big) {name} = sa ? {{1'b1, {{{wm}{{1'b0}}}}}} : {{1'b0, {{{wm}{{1'b1}}}}}};\n",
            wm = wi - 1
        )
    };
    let mut s = String::new();
    let _ = write!(
        s,
        "    function [{wim}:0] {name};
        input [{tm}:0] a;
{regs}        reg big, st;
        reg [{m}:0] sig;
        reg [{swm}:0] wide;
        reg [{wim}:0] mag;
        integer k, p, sh, i;
        begin
{da}            if (nana || infa) begin
                sig = {{1'b1, {huge_m}}};
                k = 1024 - {m};
            end else begin
                sig = siga;
                k = xa - {b} - {m};
            end
            p = -1;
            for (i = 0; i <= {m}; i = i + 1) if (sig[i]) p = i;
            big = (p >= 0) && (p + k >= {ib});
            sh = k + {fi};
            if (sh >= 0) begin
                wide = {padded};
                mag = (sh >= {sw}) ? {wi}'d0 : (wide << sh);
            end else begin
                wide = {padded} >> (-sh);
                st = (-sh >= {m1}) ? (|sig) : (|(sig << ({m1} + sh)));
                mag = wide;
                mag[0] = mag[0] | st;
            end
{reduce}            {name} = sa ? -mag : mag;
{clamp}        end
    endfunction
",
        wim = wi - 1,
        tm = t - 1,
        regs = decode_regs(from, &["a"]),
        da = decode(from, "a"),
        swm = sw - 1,
        ib = int_bits + 1,
        m1 = m + 1,
    );
    Some((name, s, inter))
}

impl crate::module::ModGen<'_> {
    /// A float operation on wires `x` and `y`: arithmetic in the result type `ty`,
    /// comparisons in the operands' type, `min`/`max` as `std::min`/`std::max`.
    pub fn float_binary(
        &mut self,
        op: kiln_passes::ir::BinOp,
        (x, xt): (&str, &ScalarType),
        (y, yt): (&str, &ScalarType),
        ty: &ScalarType,
    ) -> String {
        use kiln_passes::ir::BinOp as B;
        let operand_ty = if ty.is_float() { *ty } else { *xt };
        let Some(f) = FloatFmt::of(&operand_ty) else {
            return self.not_a_float_operation(op, ty);
        };
        let a = self.coerce(x, xt, &operand_ty);
        let b = self.coerce(y, yt, &operand_ty);
        let call = |g: &mut Self, op: FloatOp, p: &str, q: &str, width: u32| {
            let (name, text, deps) = op_fn(f, op);
            g.define_fn(&name, text, deps);
            g.wire(width, &format!("{name}({p}, {q})"))
        };
        let t = f.bits();
        match op {
            B::Add => call(self, FloatOp::Add, &a, &b, t),
            B::Sub => call(self, FloatOp::Sub, &a, &b, t),
            B::Mul => call(self, FloatOp::Mul, &a, &b, t),
            B::Div => call(self, FloatOp::Div, &a, &b, t),
            B::Min => {
                let lt = call(self, FloatOp::Lt, &b, &a, 1);
                self.wire(t, &format!("{lt} ? {b} : {a}"))
            }
            B::Max => {
                let lt = call(self, FloatOp::Lt, &a, &b, 1);
                self.wire(t, &format!("{lt} ? {b} : {a}"))
            }
            B::Lt => call(self, FloatOp::Lt, &a, &b, 1),
            B::Gt => call(self, FloatOp::Lt, &b, &a, 1),
            B::Eq => call(self, FloatOp::Eq, &a, &b, 1),
            B::Ne => {
                let eq = call(self, FloatOp::Eq, &a, &b, 1);
                self.wire(1, &format!("~{eq}"))
            }
            B::Le | B::Ge => {
                let (p, q) = if op == B::Le { (&a, &b) } else { (&b, &a) };
                let lt = call(self, FloatOp::Lt, p, q, 1);
                let eq = call(self, FloatOp::Eq, p, q, 1);
                self.wire(1, &format!("{lt} | {eq}"))
            }
            // Type checking allows nothing else on floats (`**` is refused before).
            _ => self.not_a_float_operation(op, ty),
        }
    }

    /// An operation type checking does not allow on floats: a bug, reported (E0720), with
    /// a placeholder wire so that the module can still be finished for its diagnostics.
    fn not_a_float_operation(&mut self, op: kiln_passes::ir::BinOp, ty: &ScalarType) -> String {
        let span = self.inst.span;
        self.error(
            span,
            format!("`{op:?}` on floats (giving {ty})"),
            "this is a bug in kiln's type checking or RTL back end: please report it with the program",
        );
        self.wire(ty.storage_bits(), &format!("{}'d0", ty.storage_bits()))
    }

    /// Assignment semantics when `from` or `to` is a float (passes/src/ir/value.rs
    /// `convert`).
    pub fn float_convert(&mut self, x: &str, from: &ScalarType, to: &ScalarType) -> String {
        match (FloatFmt::of(from), FloatFmt::of(to)) {
            (Some(f), Some(g)) => {
                let (name, text, deps) = float_to_float(f, g);
                self.define_fn(&name, text, deps);
                self.wire(g.bits(), &format!("{name}({x})"))
            }
            (None, Some(g)) => {
                let (v, f) = match from {
                    ScalarType::Bool => (x.to_string(), Fmt::new(1, 0, false)),
                    _ => self.exact_operand(x, from),
                };
                let (name, text, deps) = exact_to_float(f, g);
                self.define_fn(&name, text, deps);
                self.wire(g.bits(), &format!("{name}({v})"))
            }
            (Some(f), None) => {
                let t = f.bits();
                match to {
                    ScalarType::Bool => self.wire(1, &format!("|{x}[{}:0]", t - 2)),
                    ScalarType::Bin | ScalarType::Tern => {
                        // The sign of the value (-0 and +0 are 0; NaN and infinities
                        // their sign), then as an exact int<2>.
                        let sign = self.wire(
                            2,
                            &format!(
                                "(|{x}[{}:0]) ? ({x}[{}] ? 2'b11 : 2'b01) : 2'b00",
                                t - 2,
                                t - 1
                            ),
                        );
                        let func = self.cvt_fn(Fmt::new(2, 0, true), to);
                        self.wire(to.storage_bits(), &format!("{func}({sign})"))
                    }
                    _ => {
                        let target = crate::module::num_fmt(to);
                        match float_to_exact(f, to, target) {
                            Some((name, text, inter)) => {
                                self.define_fn(&name, text, Vec::new());
                                let v = self.wire(inter.width, &format!("{name}({x})"));
                                let func = self.cvt_fn(inter, to);
                                self.wire(to.storage_bits(), &format!("{func}({v})"))
                            }
                            None => {
                                let span = self.inst.span;
                                self.error(
                                    span,
                                    format!("a conversion of a float to {to}, which wraps with saturation bits"),
                                    "convert to a type without saturation bits (or with `sat`) first",
                                );
                                self.wire(to.storage_bits(), &format!("{}'d0", to.storage_bits()))
                            }
                        }
                    }
                }
            }
            (None, None) => x.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_of_the_formats() {
        let (ones, quiet, dnan) = FloatFmt::F32.consts();
        assert_eq!(ones, "8'hff");
        assert_eq!(quiet, "32'h400000");
        assert_eq!(dnan, "32'hffc00000");
        let (_, _, dnan) = FloatFmt::F64.consts();
        assert_eq!(dnan, "64'hfff8000000000000");
    }
}
