//! Statements: the choice of the next one, and scalar statements (`s = e`, `s: T = e`,
//! if/elif/else, reductions).

use super::env::{Body, Var};
use super::model::{join_t, Cls, Elem, Kind, Ty, E, T, W};
use super::Gen;

impl Gen {
    /// A random statement appended to `b`.
    pub(super) fn statement(&mut self, b: &mut Body) {
        let generic = b.env.generic;
        let w = [
            14,                           // 0 scalar
            8,                            // 1 if
            18,                           // 2 local tensor
            7,                            // 3 comprehension
            8,                            // 4 whole tensor
            7,                            // 5 map
            6,                            // 6 reduction
            6,                            // 7 accumulation
            3,                            // 8 self update
            if generic { 0 } else { 6 },  // 9 helper call
            if generic { 0 } else { 10 }, // 10 stdlib call
            3,                            // 11 while loop
            4,                            // 12 helper function (def)
            if generic { 0 } else { 4 },  // 13 kernel call inside a loop
            if generic { 0 } else { 3 },  // 14 output parameter
            3,                            // 15 helper with statements
            if generic { 0 } else { 3 },  // 16 kernel with an early return
        ];
        match self.rng.weighted(&w) {
            0 => self.st_scalar(b),
            1 => self.st_if(b),
            2 => self.st_local_tensor(b),
            3 => self.st_comprehension(b),
            4 => self.st_whole(b),
            5 => self.st_map(b),
            6 => self.st_reduction(b),
            7 => self.st_accumulate(b),
            8 => self.st_self_update(b),
            9 => self.st_call_helper(b),
            10 => self.st_call_stdlib(b),
            11 => self.st_while(b),
            12 => self.st_def(b),
            13 => self.st_call_in_loop(b),
            14 => self.st_output_param(b),
            15 => self.st_def_statements(b),
            _ => self.st_early_return(b),
        }
    }

    /// Declares scalar `name` (assigned an expression of model `t`, or of declared type
    /// `decl`), which may be assigned again.
    pub(super) fn new_scalar(&mut self, b: &mut Body, name: String, t: T, decl: Option<Ty>) {
        let t = match &decl {
            Some(d) => d.t,
            None => t.not_lit(),
        };
        b.env.vars.push(Var {
            decl,
            assign: true,
            ..Var::value(name, t, None)
        });
    }

    /// `s = e` or `s: T = e`.
    pub(super) fn st_scalar(&mut self, b: &mut Body) {
        let kind = self.rng.weighted(&[70, 18, 12, 10]);
        let name = self.fresh(["s", "f", "b", "d"][kind]);
        let depth = self.rng.range(1, 4) as u32;
        if self.chance(40) {
            let ty = match kind {
                0 => self.exact_ty(),
                1 => self.ty_of(Elem::F32),
                2 => self.ty_of(Elem::Bool),
                _ => self.ty_of(Elem::F64),
            };
            let e = self.ex_for(&mut b.env, &ty.t, depth);
            self.f("stmt: declared scalar s: T = e");
            b.line(format!("{name}: {} = {}", ty.text, e.s));
            self.new_scalar(b, name, e.t, Some(ty));
        } else {
            let e = match kind {
                0 => self.ex_exact(&mut b.env, false, depth),
                1 => self.ex_f32(&mut b.env, depth),
                2 => self.ex_bool(&mut b.env, depth),
                _ => self.ex_f64(&mut b.env, depth),
            };
            if matches!(e.t, T::Ex(x) if x.lit) {
                // A draw that decides nothing, kept so that every seed still generates
                // the case it always did.
                self.chance(70);
            }
            self.f("stmt: inferred scalar s = e");
            b.line(format!("{name} = {}", e.s));
            self.new_scalar(b, name, e.t, None);
        }
    }

    /// `if c: s = a elif c2: s = b else: s = c` (inferred), or a declared scalar
    /// updated in some branches.
    pub(super) fn st_if(&mut self, b: &mut Body) {
        let kind = if self.chance(80) { Kind::Ex } else { Kind::F32 };
        let name = self.fresh("s");
        let w = if kind == Kind::Ex { W::Ex } else { W::F32 };
        let declared = self.chance(35);
        let mut t: Option<T> = None;
        if declared {
            let ty = if kind == Kind::Ex {
                self.exact_ty()
            } else {
                self.ty_of(Elem::F32)
            };
            let e = self.ex(&mut b.env, w, 2);
            b.line(format!("{name}: {} = {}", ty.text, e.s));
            self.new_scalar(b, name.clone(), ty.t, Some(ty.clone()));
            t = Some(ty.t);
        }
        let nelif = self.rng.range(0, 2);
        let has_else = !declared || self.chance(50);
        let mut branches = vec![];
        branches.push("if".to_string());
        for _ in 0..nelif {
            branches.push("elif".into());
        }
        if has_else {
            branches.push("else".into());
        }
        self.f("stmt: if");
        if nelif > 0 {
            self.f("stmt: elif");
        }
        if has_else {
            self.f("stmt: else");
        }
        for br in branches {
            let header = if br == "else" {
                "else:".to_string()
            } else {
                let c = self.ex_bool(&mut b.env, 2);
                format!("{br} {}:", c.s)
            };
            let mark = b.open(header);
            if self.chance(30) {
                self.st_scalar(b);
            }
            let hide = declared && self.avoid("declared-self-update-e0311");
            if hide {
                b.env.var_mut(&name).readable = false;
            }
            let e = self.ex(&mut b.env, w, 3);
            if declared {
                let op = self.update_op(t.unwrap(), true);
                let e = if op.is_empty() {
                    e
                } else {
                    let e = self.ex(&mut b.env, update_want(op, w), 1);
                    self.update_operand(op, e)
                };
                b.line(format!("{name} {op}= {}", e.s));
                if !op.is_empty() {
                    self.f(format!("stmt: {op}= on a declared scalar"));
                }
                if hide {
                    b.env.var_mut(&name).readable = true;
                }
            } else {
                b.line(format!("{name} = {}", e.s));
                t = Some(match t {
                    None => e.t,
                    Some(t0) => join_t(t0, e.t),
                });
            }
            b.close(mark);
        }
        if !declared {
            self.new_scalar(b, name, t.unwrap(), None);
        }
    }

    /// The operand `e` of `s op= e`, rewritten where `op` needs it: a positive divisor
    /// (`abs(e) + 1`) for `//` and `%`, an integer of LSB 1 for bitwise operators.
    pub(super) fn update_operand(&mut self, op: &str, e: E) -> E {
        let e = if ["&", "|", "^"].contains(&op) {
            self.unit_lsb(e)
        } else {
            e
        };
        if op == "//" || op == "%" {
            E {
                s: format!("({} + 1)", self.abs_s(&e)),
                t: e.t,
            }
        } else {
            e
        }
    }

    /// An `op=` for a declared scalar of model `t`: "" (plain `=`), "+", "*", ...
    pub(super) fn update_op(&mut self, t: T, allow_plain: bool) -> &'static str {
        match t {
            T::Ex(x) => {
                let mut ops = vec!["+", "-"];
                if !self.avoid("declared-self-update-e0311") {
                    ops.push("*");
                }
                if allow_plain {
                    ops.push("");
                    ops.push("");
                }
                if x.cls == Cls::Int
                    && !(x.fb < 0 && self.avoid("jit-bitwise-coarse-lsb"))
                    && !self.avoid("bitwise-update-e0311")
                {
                    ops.extend(["&", "|", "^"]);
                    // `s //= e` cannot widen the (declared, maybe narrow) dividend.
                    if !self.avoid("jit-narrow-divmod") {
                        ops.extend(["//", "%"]);
                    }
                }
                self.rng.pick(&ops)
            }
            T::F32(_) | T::F64(_) => self.rng.pick(&["", "+", "-", "*"]),
            T::Bool => "",
        }
    }

    /// `s = sum(...)`, `s = max(x)`, `s = dot(a, b)`: a scalar reduction statement.
    pub(super) fn st_reduction(&mut self, b: &mut Body) {
        let name = self.fresh("r");
        let e = if self.chance(50) {
            let k = if self.chance(80) { Kind::Ex } else { Kind::F32 };
            self.tensor_reduction(&mut b.env, k, false)
        } else if self.chance(80) {
            self.reduction(&mut b.env, W::Ex, false, 3)
        } else {
            self.reduction(&mut b.env, W::F32, false, 3)
        };
        self.f("stmt: reduction");
        b.line(format!("{name} = {}", e.s));
        self.new_scalar(b, name, e.t, None);
    }
}

/// What the operand of `s op= e` must be: an integer for `//`, `%` and bitwise operators,
/// `w` otherwise.
pub(super) fn update_want(op: &str, w: W) -> W {
    if ["//", "%", "&", "|", "^"].contains(&op) {
        W::Int
    } else {
        w
    }
}
