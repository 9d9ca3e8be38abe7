//! kiln-interp: the reference interpreter, the oracle every other engine is tested against.
//!
//! It executes the IR exactly as ir.rs defines it, with unbounded exact arithmetic for
//! integer and fixed-point values (kiln-numeric), IEEE single and double for f32 and f64
//! (one rounding per operation, in program order), and `value::convert` at every assignment, store and cast.
//! Clarity beats speed: every access is bounds-checked and every read of a tensor element
//! that was never written is an error (E0703), whatever the `bounds` pass proved.

use kiln_numeric::{Fx, ScalarType};
use kiln_passes::data::{strides, TensorValue};
use kiln_passes::diag::{codes, Code};
use kiln_passes::ir::*;
use kiln_passes::overflow::{unfitted_value, OverflowReport};
use kiln_passes::value::convert;
use kiln_passes::Span;

pub use kiln_passes::run_error::RunError;

type R<T> = Result<T, RunError>;

/// Runs the module's entry instance on `inputs` (one per input tensor, in order).
pub fn run(m: &Module, inputs: &[TensorValue]) -> R<Vec<TensorValue>> {
    let Some(entry) = m.entry else {
        return Err(RunError {
            code: codes::NO_ENTRY,
            message: "the module has no entry kernel".into(),
            span: None,
            notes: Vec::new(),
            calls: Vec::new(),
        });
    };
    run_instance(m, entry, inputs)
}

/// Runs the module like [`run`], and counts the values that overflow at every conversion
/// to an `int` or `fixed` type (`kiln run --check-overflow`; see kiln_passes::overflow).
pub fn run_counting_overflow(
    m: &Module,
    inputs: &[TensorValue],
) -> (R<Vec<TensorValue>>, OverflowReport) {
    let mut report = OverflowReport::default();
    let result = match m.entry {
        Some(entry) => run_instance_with(m, entry, inputs, Some(&mut report)),
        None => run(m, inputs),
    };
    (result, report)
}

/// The number of elements of `shape`, when it fits (checked: a product that wraps would
/// make a buffer smaller than the indices the code uses).
fn elements(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d))
}

/// A tensor buffer during execution: `None` marks elements never written.
struct Buffer {
    elem: ScalarType,
    shape: Vec<usize>,
    strides: Vec<usize>,
    data: Vec<Option<Value>>,
}

impl Buffer {
    fn new(elem: ScalarType, shape: &[usize]) -> Buffer {
        let n = shape.iter().product();
        Buffer {
            elem,
            shape: shape.to_vec(),
            strides: strides(shape),
            data: vec![None; n],
        }
    }

    fn from_values(elem: ScalarType, shape: &[usize], values: &[Value]) -> Buffer {
        Buffer {
            elem,
            shape: shape.to_vec(),
            strides: strides(shape),
            data: values.iter().cloned().map(Some).collect(),
        }
    }
}

/// Runs one instance.
pub fn run_instance(m: &Module, id: InstanceId, inputs: &[TensorValue]) -> R<Vec<TensorValue>> {
    run_instance_with(m, id, inputs, None)
}

/// Runs one instance, counting overflows into `overflow` when given.
fn run_instance_with(
    m: &Module,
    id: InstanceId,
    inputs: &[TensorValue],
    overflow: Option<&mut OverflowReport>,
) -> R<Vec<TensorValue>> {
    let inst = m.instance(id);
    if inputs.len() != inst.inputs.len() {
        return Err(RunError {
            code: codes::MISSING_INPUT,
            message: format!(
                "`{}` takes {} inputs, got {}",
                inst.kernel,
                inst.inputs.len(),
                inputs.len()
            ),
            span: Some(inst.span),
            notes: Vec::new(),
            calls: Vec::new(),
        });
    }
    // Every element count checked before anything is allocated or indexed, and every
    // constant holding exactly as many values as its shape says.
    for t in &inst.tensors {
        let Some(n) = elements(&t.shape) else {
            return Err(RunError::new(
                codes::OUT_OF_MEMORY,
                format!(
                    "`{}` of shape {:?} has more elements than this machine can address",
                    t.name, t.shape
                ),
                t.span,
            ));
        };
        if let TensorKind::Const(c) = &t.kind {
            let have = m.consts[c.index()].values.len();
            if have != n {
                return Err(RunError::new(
                    codes::DATA_SHAPE,
                    format!(
                        "constant `{}` of shape {:?} holds {have} value(s), not {n}",
                        t.name, t.shape
                    ),
                    t.span,
                ));
            }
        }
    }
    let mut bufs: Vec<Option<Buffer>> = (0..inst.tensors.len()).map(|_| None).collect();
    for (t, v) in inst.inputs.iter().zip(inputs) {
        let tt = inst.tensor(*t);
        let message = if v.shape != tt.shape || v.elem != tt.elem {
            Some(format!(
                "input `{}` is {}{:?} but the kernel expects {}{:?}",
                tt.name, v.elem, v.shape, tt.elem, tt.shape
            ))
        } else if elements(&v.shape) != Some(v.values.len()) {
            Some(format!(
                "input `{}` of shape {:?} has {} value(s)",
                tt.name,
                tt.shape,
                v.values.len()
            ))
        } else {
            None
        };
        if let Some(message) = message {
            return Err(RunError {
                code: codes::DATA_SHAPE,
                message,
                span: Some(tt.span),
                notes: Vec::new(),
                calls: Vec::new(),
            });
        }
        bufs[t.index()] = Some(Buffer::from_values(v.elem, &v.shape, &v.values));
    }
    for (i, t) in inst.tensors.iter().enumerate() {
        match &t.kind {
            TensorKind::Const(c) => {
                let d = &m.consts[c.index()];
                bufs[i] = Some(Buffer::from_values(d.elem, &d.shape, &d.values));
            }
            TensorKind::Temp => bufs[i] = Some(Buffer::new(t.elem, &t.shape)),
            TensorKind::Input(_) => {}
        }
    }
    let mut frame = Frame {
        module: m,
        inst,
        bufs,
        locals: vec![None; inst.locals.len()],
        loops: vec![0; inst.loop_vars.len()],
        active: Vec::new(),
        overflow,
    };
    for n in inst.schedule() {
        match &inst.graph[n] {
            Node::Input { .. } | Node::Const { .. } | Node::Output { .. } => {}
            Node::Compute(c) => frame.block(&c.body).map_err(|mut e| {
                // Say where in the iteration space it happened.
                if !frame.active.is_empty() {
                    let at: Vec<String> = frame
                        .active
                        .iter()
                        .map(|v| {
                            format!(
                                "{} = {}",
                                inst.loop_vars[v.index()].name,
                                frame.loops[v.index()]
                            )
                        })
                        .collect();
                    e.notes.insert(0, format!("when {}", at.join(", ")));
                }
                e
            })?,
            Node::Call(c) => frame.call(c)?,
        }
    }
    let mut out = Vec::new();
    for t in &inst.outputs {
        out.push(frame.tensor_value(*t)?);
    }
    Ok(out)
}

/// The flag `f` of a loop whose body is `if not f:` alone (no `else`): once `f` holds,
/// every remaining iteration does nothing, so the loop can stop there.
fn stop_flag(inst: &Instance, l: &Loop) -> Option<LocalId> {
    match l.body.as_slice() {
        [Stmt::If {
            cond, else_block, ..
        }] if else_block.is_empty() => match inst.expr(*cond) {
            Expr::Unary(UnOp::Not, x) => match inst.expr(*x) {
                Expr::Local(f) => Some(*f),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

struct Frame<'a> {
    module: &'a Module,
    inst: &'a Instance,
    bufs: Vec<Option<Buffer>>,
    locals: Vec<Option<Value>>,
    loops: Vec<i64>,
    /// Loop variables of the loops being executed, outermost first.
    active: Vec<LoopVarId>,
    /// Where overflows are counted, when they are (`--check-overflow`).
    overflow: Option<&'a mut OverflowReport>,
}

impl Frame<'_> {
    /// Runs a call: the callee on the arguments' contents; its results replace the
    /// result tensors whole.
    fn call(&mut self, c: &Call) -> R<()> {
        let m = self.module;
        let args: Vec<TensorValue> = c
            .args
            .iter()
            .map(|t| self.tensor_value(*t))
            .collect::<R<_>>()?;
        let overflow = self.overflow.as_deref_mut();
        let results = run_instance_with(m, c.callee, &args, overflow).map_err(|mut e| {
            e.calls.push((m.instance(c.callee).kernel.clone(), c.span));
            e
        })?;
        for (t, v) in c.results.iter().zip(results) {
            self.bufs[t.index()] = Some(Buffer::from_values(v.elem, &v.shape, &v.values));
        }
        Ok(())
    }

    /// A complete tensor (every element written).
    fn tensor_value(&self, t: TensorId) -> R<TensorValue> {
        let tt = self.inst.tensor(t);
        let b = self.bufs[t.index()].as_ref().expect("buffer allocated");
        let mut values = Vec::with_capacity(b.data.len());
        for (i, v) in b.data.iter().enumerate() {
            match v {
                Some(v) => values.push(v.clone()),
                None => {
                    let missing = b.data.iter().filter(|v| v.is_none()).count();
                    return Err(RunError::new(
                        codes::OUTPUT_INCOMPLETE,
                        format!(
                            "{missing} element(s) of `{}` are never written; the first is {:?}",
                            tt.name,
                            kiln_passes::data::unflatten(i, &b.shape)
                        ),
                        tt.span,
                    ));
                }
            }
        }
        Ok(TensorValue {
            elem: b.elem,
            shape: b.shape.clone(),
            values,
        })
    }

    fn block(&mut self, b: &Block) -> R<()> {
        for s in b {
            match s {
                Stmt::For(l) => {
                    let lo = self.affine(&l.lo);
                    let hi = self.affine(&l.hi);
                    let mut v = lo;
                    self.active.push(l.var);
                    let flag = stop_flag(self.inst, l);
                    while (l.step > 0 && v < hi) || (l.step < 0 && v > hi) {
                        if flag.is_some_and(|f| {
                            matches!(self.locals[f.index()], Some(Value::Bool(true)))
                        }) {
                            // The body is `if not f:` alone: every remaining iteration
                            // does nothing (a loop left by `break`, or a `while`).
                            break;
                        }
                        self.loops[l.var.index()] = v;
                        self.block(&l.body)?;
                        let Some(next) = v.checked_add(l.step) else {
                            // The next value is past every bound an i64 can hold.
                            break;
                        };
                        v = next;
                    }
                    self.active.pop();
                }
                Stmt::If {
                    cond,
                    then_block,
                    else_block,
                } => {
                    if self.eval(*cond)?.as_bool().expect("bool condition") {
                        self.block(then_block)?;
                    } else {
                        self.block(else_block)?;
                    }
                }
                Stmt::Assign { local, value, .. } => {
                    let v = self.eval(*value)?;
                    let ty = self.inst.local(*local).ty;
                    self.count_overflow(*value, &v, &ty);
                    self.locals[local.index()] = Some(convert(&v, &ty).0);
                }
                Stmt::Call(c) => self.call(c)?,
                Stmt::Fail { message, span } => {
                    return Err(RunError::new(codes::LOOP_LIMIT, message.clone(), *span));
                }
                Stmt::Store {
                    access,
                    value,
                    span,
                } => {
                    let v = self.eval(*value)?;
                    let flat = self.flat_index(access, *span)?;
                    let elem = self.inst.tensor(access.tensor).elem;
                    self.count_overflow(*value, &v, &elem);
                    let b = self.bufs[access.tensor.index()].as_mut().expect("buffer");
                    b.data[flat] = Some(convert(&v, &b.elem).0);
                }
            }
        }
        Ok(())
    }

    /// Counts `v` when converting it to `to` overflows (only with `--check-overflow`); the
    /// site is the converted expression `at`, as in the JIT.
    fn count_overflow(&mut self, at: ExprId, v: &Value, to: &ScalarType) {
        if let Some(report) = self.overflow.as_deref_mut() {
            if let Some(u) = unfitted_value(v, to) {
                report.record(self.inst.expr_spans[at.index()], *to, u);
            }
        }
    }

    fn affine(&self, a: &Affine) -> i64 {
        a.eval(|v| self.loops[v.index()])
    }

    fn flat_index(&mut self, a: &Access, span: Span) -> R<usize> {
        let mut idx: Vec<i64> = a.index.iter().map(|i| self.affine(i)).collect();
        for (d, ix) in idx.iter_mut().enumerate() {
            if let Some(e) = a.dynamic_at(d) {
                // An integer of at most 64 bits (checked by the bounds pass).
                let v = match self.eval(e)? {
                    Value::Num(x) => x.to_i64(),
                    _ => None,
                };
                let v = v.expect("a data-dependent index is an integer of at most 64 bits");
                *ix = ix.saturating_add(v);
            }
        }
        let b = self.bufs[a.tensor.index()].as_ref().expect("buffer");
        let mut flat = 0usize;
        for (d, &i) in idx.iter().enumerate() {
            if i < 0 || i as usize >= b.shape[d] {
                return Err(RunError::new(
                    codes::RUNTIME_BOUNDS,
                    format!(
                        "index {idx:?} is out of bounds for `{}` of shape {:?}",
                        self.inst.tensor(a.tensor).name,
                        b.shape
                    ),
                    span,
                ));
            }
            flat += i as usize * b.strides[d];
        }
        Ok(flat)
    }

    fn eval(&mut self, e: ExprId) -> R<Value> {
        let inst = self.inst;
        let span = inst.expr_spans[e.index()];
        Ok(match inst.expr(e) {
            Expr::Const(v) => v.clone(),
            Expr::Local(l) => self.locals[l.index()]
                .clone()
                .expect("local assigned before use (checked)"),
            Expr::LoopVar(v) => Value::Num(Fx::int(self.loops[v.index()] as i128)),
            Expr::Load(a) => {
                let flat = self.flat_index(a, span)?;
                let b = self.bufs[a.tensor.index()].as_ref().expect("buffer");
                match &b.data[flat] {
                    Some(v) => v.clone(),
                    None => {
                        return Err(RunError::new(
                            codes::UNINIT_READ,
                            format!(
                                "`{}`{:?} is read before anything is written to it",
                                self.inst.tensor(a.tensor).name,
                                kiln_passes::data::unflatten(flat, &b.shape)
                            ),
                            span,
                        ))
                    }
                }
            }
            Expr::Unary(op, a) => {
                let v = self.eval(*a)?;
                unary(*op, v)
            }
            Expr::Binary(BinOp::And, a, b) => {
                let x = self.eval(*a)?.as_bool().expect("bool");
                Value::Bool(x && self.eval(*b)?.as_bool().expect("bool"))
            }
            Expr::Binary(BinOp::Or, a, b) => {
                let x = self.eval(*a)?.as_bool().expect("bool");
                Value::Bool(x || self.eval(*b)?.as_bool().expect("bool"))
            }
            Expr::Binary(op, a, b) => {
                let (x, y) = (self.eval(*a)?, self.eval(*b)?);
                let result_frac = self
                    .inst
                    .expr_type(e)
                    .and_then(|t| t.frac_bits())
                    .unwrap_or(0);
                binary(*op, x, y, result_frac)
                    .map_err(|code| RunError::new(code, "division by zero".into(), span))?
            }
            Expr::Select {
                cond,
                then,
                otherwise,
            } => {
                if self.eval(*cond)?.as_bool().expect("bool") {
                    self.eval(*then)?
                } else {
                    self.eval(*otherwise)?
                }
            }
            Expr::Cast { to, arg } => {
                let v = self.eval(*arg)?;
                self.count_overflow(*arg, &v, to);
                convert(&v, to).0
            }
            Expr::Math { f, arg } => match self.eval(*arg)? {
                Value::F32(x) => Value::F32(f.eval(x)),
                Value::F64(x) => Value::F64(f.eval_f64(x)),
                other => unreachable!("type inference gives math functions floats: {other:?}"),
            },
        })
    }
}

fn unary(op: UnOp, v: Value) -> Value {
    match (op, v) {
        (UnOp::Not, Value::Bool(b)) => Value::Bool(!b),
        (UnOp::Neg, Value::F32(f)) => Value::F32(-f),
        (UnOp::Abs, Value::F32(f)) => Value::F32(f.abs()),
        (UnOp::Neg, Value::F64(f)) => Value::F64(-f),
        (UnOp::Abs, Value::F64(f)) => Value::F64(f.abs()),
        (UnOp::Neg, Value::Num(x)) => Value::Num(x.neg()),
        (UnOp::Abs, Value::Num(x)) => Value::Num(x.abs()),
        (UnOp::BitNot, Value::Num(x)) => Value::Num(Fx::new(x.mant_at(0).bitnot(), 0)),
        (op, v) => panic!("{op:?} on {v:?} (rejected by type checking)"),
    }
}

/// A binary operation on two floats of one type (wrapped back by `wrap`): IEEE arithmetic,
/// one rounding per operation; `min`/`max` as `std::min`/`std::max`.
macro_rules! float_binary {
    ($op:expr, $a:expr, $b:expr, $wrap:path, $pow:path) => {{
        let (a, b) = ($a, $b);
        match $op {
            BinOp::Add => $wrap(a + b),
            BinOp::Sub => $wrap(a - b),
            BinOp::Mul => $wrap(a * b),
            BinOp::Div => $wrap(a / b),
            BinOp::Pow => $wrap($pow(a, b)),
            // std::min / std::max: the second operand only when it compares strictly.
            BinOp::Min => $wrap(if b < a { b } else { a }),
            BinOp::Max => $wrap(if a < b { b } else { a }),
            BinOp::Eq => Value::Bool(a == b),
            BinOp::Ne => Value::Bool(a != b),
            BinOp::Lt => Value::Bool(a < b),
            BinOp::Le => Value::Bool(a <= b),
            BinOp::Gt => Value::Bool(a > b),
            BinOp::Ge => Value::Bool(a >= b),
            op => panic!("{op:?} on floats"),
        }
    }};
}

/// A binary operation on two values; `Err(code)` for division by zero.
pub fn binary(op: BinOp, x: Value, y: Value, result_frac: i32) -> Result<Value, Code> {
    Ok(match (x, y) {
        (Value::Bool(a), Value::Bool(b)) => Value::Bool(match op {
            BinOp::Eq => a == b,
            BinOp::Ne => a != b,
            _ => panic!("{op:?} on bools"),
        }),
        (Value::F32(a), Value::F32(b)) => {
            float_binary!(op, a, b, Value::F32, kiln_numeric::math::pow_f32)
        }
        (Value::F64(a), Value::F64(b)) => {
            float_binary!(op, a, b, Value::F64, kiln_numeric::math::pow_f64)
        }
        (Value::Num(a), Value::Num(b)) => match op {
            BinOp::Add => Value::Num(a.add(&b)),
            BinOp::Sub => Value::Num(a.sub(&b)),
            BinOp::Mul => Value::Num(a.mul(&b)),
            BinOp::Div => Value::Num(a.div_trunc(&b, result_frac).ok_or(codes::DIV_BY_ZERO)?),
            BinOp::FloorDiv => Value::Num(a.div_floor(&b).ok_or(codes::DIV_BY_ZERO)?),
            BinOp::Mod => Value::Num(a.mod_floor(&b).ok_or(codes::DIV_BY_ZERO)?),
            BinOp::Shl => Value::Num(a.shl(shift_amount(&b))),
            BinOp::Shr => Value::Num(a.shr(shift_amount(&b), result_frac)),
            BinOp::BitAnd => Value::Num(Fx::new(a.mant_at(0).bitand(&b.mant_at(0)), 0)),
            BinOp::BitOr => Value::Num(Fx::new(a.mant_at(0).bitor(&b.mant_at(0)), 0)),
            BinOp::BitXor => Value::Num(Fx::new(a.mant_at(0).bitxor(&b.mant_at(0)), 0)),
            BinOp::Min => Value::Num(if b < a { b } else { a }),
            BinOp::Max => Value::Num(if a < b { b } else { a }),
            BinOp::Eq => Value::Bool(a == b),
            BinOp::Ne => Value::Bool(a != b),
            BinOp::Lt => Value::Bool(a < b),
            BinOp::Le => Value::Bool(a <= b),
            BinOp::Gt => Value::Bool(a > b),
            BinOp::Ge => Value::Bool(a >= b),
            BinOp::And | BinOp::Or => panic!("logic on numbers"),
            BinOp::Pow => panic!("exact powers are multiplications in the IR"),
        },
        (a, b) => panic!("{op:?} on {a:?} and {b:?} (rejected by type checking)"),
    })
}

/// A shift amount: a non-negative integer (type inference rejects the others).
fn shift_amount(b: &Fx) -> u32 {
    b.to_i64()
        .and_then(|v| u32::try_from(v).ok())
        .expect("shift amount checked by type inference")
}

#[cfg(test)]
mod hostile_tests {
    use super::*;
    use kiln_passes::data::ConstData;

    fn module_with(shape: Vec<usize>, kind: TensorKind, consts: Vec<ConstData>) -> Module {
        let mut inst = Instance::new("main".into(), "main".into(), String::new(), Span::default());
        let id = inst.add_tensor(Tensor {
            name: "t".into(),
            elem: "int<16>".parse().unwrap(),
            shape,
            kind,
            declared: true,
            reason: TypeReason::Declared,
            range: None,
            partition: Vec::new(),
            stream_depth: None,
            stream_width: 1,
            bound_to: Vec::new(),
            span: Span::default(),
        });
        inst.outputs.push(id);
        Module {
            instances: vec![inst],
            entry: Some(InstanceId(0)),
            consts,
            schedules: Vec::new(),
        }
    }

    #[test]
    fn shapes_that_overflow_are_refused() {
        let m = module_with(vec![1 << 32, 1 << 32], TensorKind::Temp, vec![]);
        let e = run(&m, &[]).expect_err("refused");
        assert_eq!(e.code, codes::OUT_OF_MEMORY);
    }

    #[test]
    fn constants_with_too_few_values_are_refused() {
        let c = ConstData {
            name: "t".into(),
            elem: "int<16>".parse().unwrap(),
            shape: vec![100_000],
            values: vec![Value::Num(Fx::int(7))],
            source: "7".into(),
            range: None,
        };
        let m = module_with(vec![100_000], TensorKind::Const(ConstId(0)), vec![c]);
        let e = run(&m, &[]).expect_err("refused");
        assert_eq!(e.code, codes::DATA_SHAPE);
    }
}
