//! Expressions as combinational logic: every IR expression becomes a wire holding the raw
//! bits of its inferred type (`expr_types`), computed from its operands' wires.
//!
//! Arithmetic is exact as in kiln-numeric: each operand is first re-expressed in the
//! result's format ([`crate::fixed::align`]: the result type holds every value by
//! construction, so the operation modulo 2^W is the exact result); a product is formed at
//! the sum of its operands' fractional bits; comparisons, `min` and `max` compare in a
//! signed format holding both operands. `>>` and `//` floor, `%` is the floor remainder,
//! `/` truncates toward zero at the result's LSB (ap_fixed division). A product with a
//! `bin` operand is a select (`b ? x : -x`), `bin × bin` an XNOR, a product with a `tern`
//! operand a three-way select. Casts go through the conversion functions of fixed.rs.
//! Loads read a memory (or a read port of a parameter) at an address computed from the
//! loop counters and the data-dependent index parts.

use crate::fixed::{align, fmt_of, Fmt, Wires};
use crate::module::{lit32, num_fmt, ModGen, Storage};
use kiln_numeric::ScalarType;
use kiln_passes::ir::{Access, Affine, BinOp, Expr, ExprId, TensorId, UnOp};
use kiln_passes::value::Value;
use std::fmt::Write;

impl ModGen<'_> {
    /// The wire of expression `e` (its type's storage bits), or `None` after a diagnostic.
    pub fn expr(&mut self, e: ExprId) -> Option<String> {
        let w = self.expr_inner(e);
        if w.is_none() && self.diags.is_empty() {
            // Never a silently missing value: every `None` carries a diagnostic.
            let span = self.inst.expr_spans[e.index()];
            self.error(
                span,
                "an expression the RTL back end could not build (an operand without an inferred type)".into(),
                "this is a bug in kiln: please report it with the program",
            );
        }
        w
    }

    fn expr_inner(&mut self, e: ExprId) -> Option<String> {
        // Inside a chained iteration the same expression is built once per unrolled copy.
        if self.ssa.is_none() {
            if let Some(w) = self.expr_wires.get(&e.0) {
                return Some(w.clone());
            }
        }
        let inst = self.inst;
        let span = inst.expr_spans[e.index()];
        let Some(ty) = inst.expr_type(e).copied() else {
            self.error(
                span,
                "an expression without an inferred type".into(),
                "run type inference first",
            );
            return None;
        };
        let w = match inst.expr(e).clone() {
            Expr::Const(v) => self.literal(&v, &ty)?,
            Expr::Local(l) => {
                let lt = inst.local(l).ty;
                let reg = match self.ssa.as_ref().and_then(|m| m.get(&l.0)) {
                    Some(v) => v.clone(),
                    None => self.local_reg(l.0),
                };
                self.coerce(&reg, &lt, &ty)
            }
            Expr::LoopVar(v) => {
                let reg = match self.env.get(&v).cloned() {
                    Some(a) => {
                        let e = self.affine(&a);
                        self.wire(32, &e)
                    }
                    // The counter is narrower (width.rs): its value at 32 bits.
                    None => {
                        let r = self.counter_value(v);
                        self.wire(32, &r)
                    }
                };
                self.coerce(&reg, &ScalarType::int(32), &ty)
            }
            Expr::Load(a) => {
                let elem = inst.tensor(a.tensor).elem;
                let data = match self.phased_load(&a) {
                    Some(d) => d?,
                    None => match self.storage.get(&a.tensor).cloned() {
                        Some(Storage::Local { mem, bank: Some(b) })
                            if self.windows.is_some()
                                && (0..a.index.len()).all(|d| a.dynamic_at(d).is_none()) =>
                        {
                            self.window_read(&a, &mem, &b, elem.storage_bits())?
                        }
                        Some(Storage::Local { mem, bank: Some(b) }) => {
                            let (sel, off) = self.bank_access(&a, &b)?;
                            let early = a.is_affine();
                            self.bank_read(a.tensor, (&mem, elem.storage_bits()), &sel, &off, early)
                        }
                        _ => {
                            let addr = self.address(&a)?;
                            self.read(a.tensor, &addr, a.is_affine())?
                        }
                    },
                };
                let w = self.wire(elem.storage_bits(), &data);
                self.coerce(&w, &elem, &ty)
            }
            Expr::Unary(op, a) => {
                let aty = *inst.expr_type(a)?;
                let x = self.expr(a)?;
                self.unary(op, &x, &aty, &ty)
            }
            Expr::Binary(op, a, b) => {
                let (aty, bty) = (*inst.expr_type(a)?, *inst.expr_type(b)?);
                let x = self.expr(a)?;
                let y = self.expr(b)?;
                match op {
                    BinOp::Pow => {
                        self.float_value(span, "a power of floats".into());
                        return None;
                    }
                    _ => self.binary(op, (&x, &aty), (&y, &bty), &ty),
                }
            }
            Expr::Select {
                cond,
                then,
                otherwise,
            } => {
                let c = self.expr(cond)?;
                let (tty, oty) = (*inst.expr_type(then)?, *inst.expr_type(otherwise)?);
                let t = self.expr(then)?;
                let o = self.expr(otherwise)?;
                let t = self.coerce(&t, &tty, &ty);
                let o = self.coerce(&o, &oty, &ty);
                self.wire(ty.storage_bits(), &format!("{c} ? {t} : {o}"))
            }
            Expr::Cast { to, arg } => {
                let aty = *inst.expr_type(arg)?;
                let x = self.expr(arg)?;
                let c = self.convert(&x, &aty, &to);
                self.coerce(&c, &to, &ty)
            }
            Expr::Math {
                f: kiln_numeric::math::MathFn::Sqrt,
                arg,
            } if ty.is_float() => {
                let aty = *inst.expr_type(arg)?;
                let x = self.expr(arg)?;
                let x = self.coerce(&x, &aty, &ty);
                let f = crate::float::FloatFmt::of(&ty)?;
                let (name, text, deps) = crate::float::sqrt_fn(f);
                self.define_fn(&name, text, deps);
                self.wire(f.bits(), &format!("{name}({x})"))
            }
            Expr::Math { f, .. } => {
                self.error(
                    span,
                    format!("the float function `{}`", format!("{f:?}").to_lowercase()),
                    "the RTL back end builds float `+ - * /`, `sqrt`, comparisons and conversions (docs/rtl.md, \"Floats\"), not the C library's other functions; exact arguments become lookup tables (write the argument in a fixed type)",
                );
                return None;
            }
        };
        if self.ssa.is_none() {
            self.expr_wires.insert(e.0, w.clone());
        }
        Some(w)
    }

    /// A constant's bits in type `ty`.
    fn literal(&mut self, v: &Value, ty: &ScalarType) -> Option<String> {
        let (cv, _) = kiln_passes::value::convert(v, ty);
        match (&cv, ty) {
            (Value::Bool(b), _) => Some(format!("1'b{}", *b as u8)),
            (Value::Num(x), ScalarType::Bin) => Some(format!("1'b{}", (!x.is_negative()) as u8)),
            (Value::F32(f), _) => Some(self.wire(32, &format!("32'h{:08x}", f.to_bits()))),
            (Value::F64(f), _) => Some(self.wire(64, &format!("64'h{:016x}", f.to_bits()))),
            (Value::Num(x), t) => {
                let f = num_fmt(t);
                let raw = kiln_numeric::fixed::raw_from_mant(&x.mant_at(f.frac), f.width);
                Some(self.wire(f.width, &format!("{}'h{}", f.width, raw.to_hex())))
            }
        }
    }

    /// The register of a local (declared on first use).
    fn local_reg(&mut self, l: u32) -> String {
        let name = format!(
            "loc{l}_{}",
            crate::module::ident(&self.inst.locals[l as usize].name)
        );
        self.locals_used.insert(l, name.clone());
        name
    }

    /// The register of a local for an assignment.
    pub fn local_target(&mut self, l: u32) -> String {
        self.local_reg(l)
    }

    /// The counter register of a loop variable.
    pub fn loop_reg(&self, v: kiln_passes::ir::LoopVarId) -> String {
        format!(
            "lv{}_{}",
            v.0,
            crate::module::ident(&self.inst.loop_vars[v.index()].name)
        )
    }

    /// The counter of loop variable `v` as a signed operand (width.rs).
    pub fn counter_value(&self, v: kiln_passes::ir::LoopVarId) -> String {
        let reg = self.loop_reg(v);
        match self.counters.get(v.index()) {
            Some(c) => c.value(&reg),
            None => reg,
        }
    }

    /// A signed 32-bit expression of an affine form of the loop counters.
    pub fn affine(&self, a: &Affine) -> String {
        let a = &crate::pipeline::subst(a, &self.env);
        let mut parts = vec![lit32(a.constant)];
        for &(v, c) in &a.terms {
            let r = self.counter_value(v);
            parts.push(crate::width::times_const(&r, c));
        }
        format!("({})", parts.join(" + "))
    }

    /// A 32-bit wire holding the flat (row-major) element index of an access.
    pub fn address(&mut self, a: &Access) -> Option<String> {
        let tm = self.inst.tensor(a.tensor);
        let shape = tm.shape.clone();
        let mut strides = vec![1i64; shape.len()];
        for d in (0..shape.len().saturating_sub(1)).rev() {
            strides[d] = strides[d + 1] * shape[d + 1] as i64;
        }
        // A ring's row index is taken modulo its rows (ring.rs).
        let ring = self.rings.get(&a.tensor).copied();
        let mut flat = Affine::constant(0);
        for (d, ix) in a.index.iter().enumerate() {
            if ring.is_none_or(|r| r.dim != d) {
                flat = flat.add_scaled(ix, strides[d]);
            }
        }
        let mut e = self.affine(&flat);
        if let Some(r) = ring {
            let slot = self.ring_slot(&a.index[r.dim], r);
            let _ = write!(e, " + {}", crate::width::times_const(&slot, strides[r.dim]));
        }
        for (d, stride) in strides.iter().enumerate().take(a.index.len()) {
            if let Some(x) = a.dynamic_at(d) {
                let xty = *self.inst.expr_type(x)?;
                let w = self.expr(x)?;
                let i32w = self.coerce(&w, &xty, &ScalarType::int(32));
                let term = crate::width::times_const(&format!("$signed({i32w})"), *stride);
                let _ = write!(e, " + {term}");
            }
        }
        let n = self.fresh("a");
        let _ = writeln!(self.decls, "    wire signed [31:0] {n} = {e};");
        Some(n)
    }

    /// The slot of ring `r` that row index `ix` is kept in: its low bits, as a 32-bit
    /// expression (`{0, ix[b-1:0]}`).
    pub fn ring_slot(&mut self, ix: &Affine, r: crate::ring::Ring) -> String {
        let row = self.affine(ix);
        let w = self.fresh("row");
        let _ = writeln!(self.decls, "    wire signed [31:0] {w} = {row};");
        format!("{{{}'d0, {w}[{}:0]}}", 32 - r.bits(), r.bits() - 1)
    }

    /// A fresh wire name.
    pub fn fresh(&mut self, prefix: &str) -> String {
        self.tmp += 1;
        format!("{prefix}{}", self.tmp)
    }

    /// The data of tensor `t` at the 32-bit address wire `addr`: a memory read, or a new
    /// read port of a parameter.
    ///
    /// `early`: the address comes from registers only (bram.rs), so a block RAM may read
    /// it at the falling edge.
    pub fn read(&mut self, t: TensorId, addr: &str, early: bool) -> Option<String> {
        let aw = crate::module::addr_width(self.inst.tensor(t).len());
        let a = crate::fixed::slice(addr, aw - 1, 0);
        self.read_at(t, &a, early)
    }

    /// [`ModGen::read`] with an address already `aw` bits wide.
    pub fn read_at(&mut self, t: TensorId, a: &str, early: bool) -> Option<String> {
        match self.storage.get(&t).cloned() {
            Some(Storage::Local { mem, bank: None }) => {
                let len = self.inst.tensor(t).len();
                let a = self.frame_addr(t, a, len, crate::module::addr_width(len));
                Some(self.mem_read(t, &mem, &a, early, false, None))
            }
            Some(Storage::Local { mem, bank: Some(b) }) => {
                let (sel, off) = self.bank_flat(a, &b);
                let off = self.frame_addr(
                    t,
                    &off,
                    b.bank_len(),
                    crate::module::addr_width(b.bank_len()),
                );
                let dw = self.inst.tensor(t).elem.storage_bits();
                Some(self.bank_read(t, (&mem, dw), &sel, &off, early))
            }
            Some(Storage::Port { index }) => {
                if let Some(mem) = self.frame_copy(t) {
                    // A frame pipeline's copy of a parameter several stages read.
                    let len = self.inst.tensor(t).len();
                    let a = self.frame_addr(t, a, len, crate::module::addr_width(len));
                    return Some(self.mem_read(t, &mem, &a, early, true, None));
                }
                let image = self.frame_image();
                Some(self.port_read(index, a, image, early))
            }
            None => None,
        }
    }

    /// A new read port of parameter `params[index]` at address `a`: its data wire. In a
    /// frame pipeline's top, `image` is the image the port reads (`P_riJ`).
    pub fn port_read(
        &mut self,
        index: usize,
        a: &str,
        image: Option<String>,
        early: bool,
    ) -> String {
        let p = &mut self.params[index];
        let j = p.reads;
        p.reads += 1;
        p.read_images.extend(image);
        p.early_reads.push(early);
        let port = p.port.clone();
        let _ = writeln!(self.assigns, "    assign {port}_ra{j} = {a};");
        format!("{port}_rd{j}")
    }

    /// The value of wire `x` (type `from`) in type `to`, which holds it exactly.
    pub fn coerce(&mut self, x: &str, from: &ScalarType, to: &ScalarType) -> String {
        if from == to {
            return x.to_string();
        }
        if from.is_float() || to.is_float() {
            return self.convert(x, from, to);
        }
        match (fmt_of(from), fmt_of(to)) {
            (Some(f), Some(t)) if *to != ScalarType::Bool && *from != ScalarType::Bool => {
                align(self, x, f, t)
            }
            (None, Some(t)) if *from == ScalarType::Bin && *to != ScalarType::Bool => {
                let d = self.decode_bin(x);
                align(self, &d, Fmt::new(2, 0, true), t)
            }
            _ if from.storage_bits() == to.storage_bits() && fmt_of(from) == fmt_of(to) => {
                x.to_string()
            }
            _ => self.convert(x, from, to),
        }
    }

    /// `bin` bits as a 2-bit signed value (1 → +1, 0 → -1).
    fn decode_bin(&mut self, x: &str) -> String {
        self.wire(2, &format!("{{~{x}, 1'b1}}"))
    }

    /// [`Self::num`] for other modules (an exact operand of a float conversion).
    pub fn exact_operand(&mut self, x: &str, t: &ScalarType) -> (String, Fmt) {
        self.num(x, t)
    }

    /// A value and its numeric format (`bin` decoded).
    fn num(&mut self, x: &str, t: &ScalarType) -> (String, Fmt) {
        if *t == ScalarType::Bin {
            (self.decode_bin(x), Fmt::new(2, 0, true))
        } else {
            (x.to_string(), num_fmt(t))
        }
    }

    /// Assignment semantics: the value of wire `x` (type `from`) converted to `to` with
    /// `to`'s quantization and overflow modes.
    pub fn convert(&mut self, x: &str, from: &ScalarType, to: &ScalarType) -> String {
        if from == to {
            return x.to_string();
        }
        if from.is_float() || to.is_float() {
            return self.float_convert(x, from, to);
        }
        if *from == ScalarType::Bin && matches!(to, ScalarType::Bin) {
            return x.to_string();
        }
        let (v, f) = self.num(x, from);
        if fmt_of(to) == Some(f)
            && !matches!(to, ScalarType::Bool | ScalarType::Tern)
            && *from != ScalarType::Bool
        {
            // Same bits, only modes differ: nothing to round, nothing overflows (`tern`
            // has `int<2>`'s bits but takes the sign: -2 becomes -1).
            return v;
        }
        let func = self.cvt_fn(f, to);
        self.wire(to.storage_bits(), &format!("{func}({v})"))
    }

    fn unary(&mut self, op: UnOp, x: &str, aty: &ScalarType, ty: &ScalarType) -> String {
        let w = ty.storage_bits();
        if ty.is_float() {
            // The sign bit: flipped, or cleared (NaNs included, as SSE's sign masks).
            let a = self.coerce(x, aty, ty);
            return match op {
                UnOp::Neg => self.wire(w, &format!("{{~{a}[{}], {a}[{}:0]}}", w - 1, w - 2)),
                _ => self.wire(w, &format!("{{1'b0, {a}[{}:0]}}", w - 2)),
            };
        }
        match op {
            UnOp::Not => self.wire(1, &format!("~{x}")),
            UnOp::Neg => {
                let a = self.coerce(x, aty, ty);
                self.wire(w, &format!("-{a}"))
            }
            UnOp::BitNot => {
                let a = self.coerce(x, aty, ty);
                self.wire(w, &format!("~{a}"))
            }
            UnOp::Abs => {
                let (v, f) = self.num(x, aty);
                let a = self.coerce(x, aty, ty);
                let neg = if f.signed {
                    format!("{v}[{}]", f.width - 1)
                } else {
                    "1'b0".into()
                };
                self.wire(w, &format!("{neg} ? -{a} : {a}"))
            }
        }
    }

    fn binary(
        &mut self,
        op: BinOp,
        (x, xt): (&str, &ScalarType),
        (y, yt): (&str, &ScalarType),
        ty: &ScalarType,
    ) -> String {
        let w = ty.storage_bits();
        if xt.is_float() || yt.is_float() {
            return self.float_binary(op, (x, xt), (y, yt), ty);
        }
        let r = num_fmt(ty);
        match op {
            BinOp::And => self.wire(1, &format!("{x} & {y}")),
            BinOp::Or => self.wire(1, &format!("{x} | {y}")),
            BinOp::Add | BinOp::Sub => {
                let a = self.coerce(x, xt, ty);
                let b = self.coerce(y, yt, ty);
                let s = if op == BinOp::Add { "+" } else { "-" };
                self.wire(w, &format!("{a} {s} {b}"))
            }
            BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor => {
                let a = self.coerce(x, xt, ty);
                let b = self.coerce(y, yt, ty);
                let s = match op {
                    BinOp::BitAnd => "&",
                    BinOp::BitOr => "|",
                    _ => "^",
                };
                self.wire(w, &format!("{a} {s} {b}"))
            }
            BinOp::Mul => self.mul((x, xt), (y, yt), ty),
            BinOp::Shl => {
                let a = self.coerce(x, xt, ty);
                let n = self.shift_amount(y, yt);
                self.wire(w, &format!("{a} << {n}"))
            }
            BinOp::Shr => {
                let (v, f) = self.num(x, xt);
                let wa = f.width + (r.frac - f.frac).max(0) as u32 + 1;
                let at = align(self, &v, f, Fmt::new(wa, r.frac, true));
                let n = self.shift_amount(y, yt);
                let s = self.wire(wa, &format!("$signed({at}) >>> {n}"));
                align(self, &s, Fmt::new(wa, r.frac, true), r)
            }
            BinOp::Div => {
                let (a, fa) = self.num(x, xt);
                let (b, fb) = self.num(y, yt);
                let k = r.frac + fb.frac - fa.frac;
                let d = (fa.width + k.max(0) as u32).max(fb.width + (-k).max(0) as u32) + 2;
                let na = align(self, &a, fa, Fmt::new(d, fa.frac + k.max(0), true));
                let nb = align(self, &b, fb, Fmt::new(d, fb.frac + (-k).max(0), true));
                let q = self.wire(d, &format!("$signed({na}) / $signed({nb})"));
                align(self, &q, Fmt::new(d, r.frac, true), r)
            }
            BinOp::FloorDiv | BinOp::Mod => {
                let (a, fa) = self.num(x, xt);
                let (b, fb) = self.num(y, yt);
                let f = fa.frac.max(fb.frac);
                let c = Fmt::common(fa, fb);
                let d = c.width + 2;
                let na = align(self, &a, fa, Fmt::new(d, f, true));
                let nb = align(self, &b, fb, Fmt::new(d, f, true));
                let q = self.wire(d, &format!("$signed({na}) / $signed({nb})"));
                let m = self.wire(d, &format!("$signed({na}) % $signed({nb})"));
                let adjust = format!("(|{m}) & ({m}[{}] != {nb}[{}])", d - 1, d - 1);
                if op == BinOp::FloorDiv {
                    let fq = self.wire(d, &format!("{q} - {{{}'d0, {adjust}}}", d - 1));
                    align(self, &fq, Fmt::new(d, 0, true), r)
                } else {
                    let fm = self.wire(d, &format!("({adjust}) ? {m} + {nb} : {m}"));
                    align(self, &fm, Fmt::new(d, f, true), r)
                }
            }
            BinOp::Min | BinOp::Max => {
                let lt = self.less(x, xt, y, yt);
                let a = self.coerce(x, xt, ty);
                let b = self.coerce(y, yt, ty);
                // min: b if b < a else a; max: b if a < b else a.
                if op == BinOp::Min {
                    let blt = self.less(y, yt, x, xt);
                    self.wire(w, &format!("{blt} ? {b} : {a}"))
                } else {
                    self.wire(w, &format!("{lt} ? {b} : {a}"))
                }
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                if *xt == ScalarType::Bool || *yt == ScalarType::Bool {
                    let s = if op == BinOp::Eq { "==" } else { "!=" };
                    return self.wire(1, &format!("{x} {s} {y}"));
                }
                let (a, fa) = self.num(x, xt);
                let (b, fb) = self.num(y, yt);
                let c = Fmt::common(fa, fb);
                let ca = align(self, &a, fa, c);
                let cb = align(self, &b, fb, c);
                let s = match op {
                    BinOp::Eq => "==",
                    BinOp::Ne => "!=",
                    BinOp::Lt => "<",
                    BinOp::Le => "<=",
                    BinOp::Gt => ">",
                    _ => ">=",
                };
                self.wire(1, &format!("$signed({ca}) {s} $signed({cb})"))
            }
            BinOp::Pow => self.wire(w, &format!("{w}'d0")),
        }
    }

    /// A 1-bit wire: `x < y` exactly.
    fn less(&mut self, x: &str, xt: &ScalarType, y: &str, yt: &ScalarType) -> String {
        let (a, fa) = self.num(x, xt);
        let (b, fb) = self.num(y, yt);
        let c = Fmt::common(fa, fb);
        let ca = align(self, &a, fa, c);
        let cb = align(self, &b, fb, c);
        self.wire(1, &format!("$signed({ca}) < $signed({cb})"))
    }

    /// A shift amount (a non-negative integer) as an unsigned wire.
    fn shift_amount(&mut self, y: &str, yt: &ScalarType) -> String {
        let (v, f) = self.num(y, yt);
        let u = Fmt::new(f.width.max(1), 0, false);
        if f.signed {
            // Non-negative by type inference: the bits are the value.
            align(self, &v, Fmt::new(f.width, f.frac, false), u)
        } else {
            align(self, &v, f, u)
        }
    }

    /// A product: a select for `bin`/`tern` operands (XNOR for two `bin`s), else a
    /// multiplication at the operands' combined fractional bits.
    fn mul(
        &mut self,
        (x, xt): (&str, &ScalarType),
        (y, yt): (&str, &ScalarType),
        ty: &ScalarType,
    ) -> String {
        let w = ty.storage_bits();
        let r = num_fmt(ty);
        let low = |t: &ScalarType| matches!(t, ScalarType::Bin | ScalarType::Tern);
        if *xt == ScalarType::Bin && *yt == ScalarType::Bin {
            let p = self.wire(1, &format!("~({x} ^ {y})"));
            return self.coerce(&p, &ScalarType::Bin, ty);
        }
        if low(xt) || low(yt) {
            // The low-bit operand selects; prefer bin as the selector.
            let (sel, st, other, ot) =
                if *xt == ScalarType::Bin || (*xt == ScalarType::Tern && *yt != ScalarType::Bin) {
                    (x, xt, y, yt)
                } else {
                    (y, yt, x, xt)
                };
            let v = self.coerce(other, ot, ty);
            return if *st == ScalarType::Bin {
                self.wire(w, &format!("{sel} ? {v} : -{v}"))
            } else {
                self.wire(
                    w,
                    &format!("({sel} == 2'b01) ? {v} : ({sel} == 2'b11) ? -{v} : {w}'d0"),
                )
            };
        }
        let (a, fa) = self.num(x, xt);
        let (b, fb) = self.num(y, yt);
        let fp = fa.frac + fb.frac;
        let wm = r.width + (fp - r.frac).max(0) as u32;
        let p = if kiln_passes::estimate::dsps_per_multiply(fa.width, fb.width) == 0.0 {
            // A product the estimate builds in LUTs (an operand of 4 bits or fewer) is
            // built as LUTs here too: the narrow operand's bits select shifted copies of
            // the other (its sign bit subtracts), so synthesis sees adders, not a
            // multiplier it would put in a DSP48.
            let ((a, fa), (b, fb)) = if fb.width <= fa.width {
                ((a, fa), (b, fb))
            } else {
                ((b, fb), (a, fa))
            };
            let ea = crate::fixed::ext(&a, fa.width, fa.signed, wm);
            let mut terms = Vec::new();
            for k in 0..fb.width.min(wm) {
                let bit = if fb.width == 1 {
                    b.clone()
                } else {
                    format!("{b}[{k}]")
                };
                let shifted = if k == 0 {
                    ea.clone()
                } else {
                    format!("{{{ea}, {k}'d0}}")
                };
                let negative = fb.signed && k + 1 == fb.width;
                terms.push((negative, format!("({bit} ? {shifted} : {wm}'d0)")));
            }
            let mut e = format!("{wm}'d0");
            for (negative, t) in terms {
                e = format!("{e} {} {t}", if negative { "-" } else { "+" });
            }
            self.wire(wm, &e)
        } else if kiln_passes::estimate::dsps_per_multiply(fa.width, fb.width) == 0.5 {
            // Half a DSP48 in the estimate: written when the module is finished, in one
            // multiplier with another product of the same operand when they fit
            // (dsp_pack.rs).
            self.tmp += 1;
            let n = format!("w{}", self.tmp);
            let _ = writeln!(self.decls, "    wire [{}:0] {n};", wm - 1);
            self.pending_products.push(crate::dsp_pack::PendingProduct {
                wire: n.clone(),
                width: wm,
                x: (a, fa),
                y: (b, fb),
            });
            n
        } else {
            // Operands at their own widths, signed: the multiplier synthesis builds is
            // as wide as the values (a DSP48 for up to 25 x 18 bits).
            let sa = signed_operand(&a, fa);
            let sb = signed_operand(&b, fb);
            self.wire(wm, &format!("{sa} * {sb}"))
        };
        align(self, &p, Fmt::new(wm, fp, r.signed), r)
    }
}

/// `x` (of format `f`) as a signed Verilog operand of the same value: unsigned values get
/// a zero sign bit.
fn signed_operand(x: &str, f: Fmt) -> String {
    if f.signed {
        format!("$signed({x})")
    } else {
        format!("$signed({{1'b0, {x}}})")
    }
}
