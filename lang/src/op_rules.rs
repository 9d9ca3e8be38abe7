//! Operator rules: for every operator and the classes of its operands (bool, f32, f64,
//! integer, fixed point, literals, generic), whether the operation is allowed, the class
//! of its result, and otherwise the diagnostic code and message.
//!
//! This is the one place these rules live (docs/language.md §7.3): the checker applies
//! them to classes known before widths exist, and later stages can apply them to the
//! classes of concrete types ([`Class::of`]), so that one user error always gets one
//! code. [`Unary::spelling`] and [`Binary::spelling`] give operators as users write them.

use crate::ast::{self, BinOp, BoolOp, CmpOp};
use crate::diag::{codes, Code, Diagnostic};
use crate::hir::{ElemRef, HUnaryOp};
use crate::span::Span;
use kiln_numeric::ScalarType;

/// The class of an element type: what the rules need to know before widths exist.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Class {
    Bool,
    F32,
    F64,
    /// Exact, integer valued (int, uint, bin, tern, loop variables, sizes).
    Int,
    /// Exact, possibly fractional.
    Fixed,
    /// An integer literal: adapts to f32 or exact context.
    IntLit,
    /// A real literal: adapts to f32 or exact context.
    RealLit,
    /// Depends on a type variable: checked at instantiation.
    Unknown,
}

impl Class {
    /// The class of a concrete type.
    pub fn of(t: &ScalarType) -> Class {
        match t {
            ScalarType::Bool => Class::Bool,
            ScalarType::F32 => Class::F32,
            ScalarType::F64 => Class::F64,
            ScalarType::Bin | ScalarType::Tern | ScalarType::Int(_) => Class::Int,
            ScalarType::Fixed(f) => {
                if f.frac_bits() <= 0 {
                    Class::Int
                } else {
                    Class::Fixed
                }
            }
        }
    }

    /// The class of a resolved element type (`Unknown` for type variables).
    pub fn of_elem(e: &ElemRef) -> Class {
        match e {
            ElemRef::Known(t) => Class::of(t),
            ElemRef::Template { prim, .. } => match prim {
                ast::PrimType::Int
                | ast::PrimType::Uint
                | ast::PrimType::Bin
                | ast::PrimType::Tern => Class::Int,
                ast::PrimType::Fixed | ast::PrimType::Ufixed => Class::Fixed,
                ast::PrimType::F32 => Class::F32,
                ast::PrimType::F64 => Class::F64,
                ast::PrimType::Bool => Class::Bool,
            },
            ElemRef::Var(_) | ElemRef::Inferred => Class::Unknown,
        }
    }

    /// Integer valued: an integer type or an integer literal.
    pub fn is_integer(self) -> bool {
        matches!(self, Class::Int | Class::IntLit)
    }

    /// An IEEE float: f32 or f64.
    pub fn is_float(self) -> bool {
        matches!(self, Class::F32 | Class::F64)
    }

    /// The float class of an operation on floats `a` and `b` (either may be a literal,
    /// which adapts): f64 when either is f64 (as numpy promotes), else f32.
    pub fn float_join(a: Class, b: Class) -> Class {
        if a == Class::F64 || b == Class::F64 {
            Class::F64
        } else {
            Class::F32
        }
    }

    /// Exact: not a float, bool or generic.
    pub fn is_exact(self) -> bool {
        matches!(
            self,
            Class::Int | Class::Fixed | Class::IntLit | Class::RealLit
        )
    }

    /// A literal, which adapts to the other operand.
    pub fn is_literal(self) -> bool {
        matches!(self, Class::IntLit | Class::RealLit)
    }

    /// The class of a value that stops being a literal (a new local, an element of a
    /// built tensor, a shifted value): an integer literal becomes an integer, a real
    /// literal a fixed-point value.
    pub fn materialized(self) -> Class {
        match self {
            Class::IntLit => Class::Int,
            Class::RealLit => Class::Fixed,
            c => c,
        }
    }

    /// The class as it reads in a message ("an integer type").
    pub fn name(self) -> &'static str {
        match self {
            Class::Bool => "bool",
            Class::F32 => "f32",
            Class::F64 => "f64",
            Class::Int => "an integer type",
            Class::Fixed => "a fixed-point type",
            Class::IntLit => "an integer literal",
            Class::RealLit => "a real literal",
            Class::Unknown => "a generic type",
        }
    }
}

/// An operator of one operand. `abs` is one too: it has negation's rule.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Unary {
    Neg,
    Plus,
    BitNot,
    Not,
    Abs,
}

impl Unary {
    /// The operator as a user writes it: `-`, `+`, `~`, `not`, `abs`.
    pub fn spelling(self) -> &'static str {
        match self {
            Unary::Neg => "-",
            Unary::Plus => "+",
            Unary::BitNot => "~",
            Unary::Not => "not",
            Unary::Abs => "abs",
        }
    }
}

impl From<ast::UnaryOp> for Unary {
    fn from(op: ast::UnaryOp) -> Unary {
        match op {
            ast::UnaryOp::Neg => Unary::Neg,
            ast::UnaryOp::Plus => Unary::Plus,
            ast::UnaryOp::BitNot => Unary::BitNot,
            ast::UnaryOp::Not => Unary::Not,
        }
    }
}

impl From<HUnaryOp> for Unary {
    fn from(op: HUnaryOp) -> Unary {
        match op {
            HUnaryOp::Neg => Unary::Neg,
            HUnaryOp::BitNot => Unary::BitNot,
            HUnaryOp::Not => Unary::Not,
        }
    }
}

/// An operator of two operands: arithmetic and bitwise, comparison, or logic.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Binary {
    Arith(BinOp),
    Compare(CmpOp),
    Logic(BoolOp),
}

impl Binary {
    /// The operator as a user writes it: `+`, `//`, `<=`, `and`...
    pub fn spelling(self) -> &'static str {
        match self {
            Binary::Arith(op) => op.symbol(),
            Binary::Compare(op) => op.symbol(),
            Binary::Logic(BoolOp::And) => "and",
            Binary::Logic(BoolOp::Or) => "or",
        }
    }
}

impl From<BinOp> for Binary {
    fn from(op: BinOp) -> Binary {
        Binary::Arith(op)
    }
}

impl From<CmpOp> for Binary {
    fn from(op: CmpOp) -> Binary {
        Binary::Compare(op)
    }
}

impl From<BoolOp> for Binary {
    fn from(op: BoolOp) -> Binary {
        Binary::Logic(op)
    }
}

/// The part of an operation a refusal points at.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// The whole operation.
    Whole,
    /// The left operand (the only operand of a unary operator).
    Left,
    /// The right operand.
    Right,
}

/// Why an operator refuses its operands: everything a diagnostic needs but the spans.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: Code,
    pub message: String,
    /// Where the primary label goes.
    pub at: Place,
    /// A second label and its text.
    pub secondary: Option<(Place, &'static str)>,
    pub help: Option<&'static str>,
}

impl Refusal {
    fn new(code: Code, message: impl Into<String>, at: Place) -> Refusal {
        Refusal {
            code,
            message: message.into(),
            at,
            secondary: None,
            help: None,
        }
    }

    fn help(mut self, help: &'static str) -> Refusal {
        self.help = Some(help);
        self
    }

    /// The diagnostic, given the spans of the whole operation and of its operands (for a
    /// unary operator, pass the operand's span as both `left` and `right`).
    pub fn diagnostic(&self, whole: Span, left: Span, right: Span) -> Diagnostic {
        let span_of = |p: Place| match p {
            Place::Whole => whole,
            Place::Left => left,
            Place::Right => right,
        };
        let mut d = Diagnostic::error(self.code, self.message.clone()).at(span_of(self.at));
        if let Some((p, label)) = self.secondary {
            d = d.with_secondary(span_of(p), label);
        }
        if let Some(h) = self.help {
            d = d.help(h);
        }
        d
    }
}

/// The rule that an operand is a number (not a bool). `what` names the operation in the
/// message: "negation", "`abs`", "`sum`".
pub fn require_number(what: &str, c: Class) -> Result<(), Refusal> {
    if c == Class::Bool {
        return Err(Refusal::new(
            codes::TYPE_MISMATCH,
            format!("{what} needs a number, not a bool"),
            Place::Left,
        )
        .help("convert with `int<1>(b)` or `uint<1>(b)`"));
    }
    Ok(())
}

/// The rule of a unary operator on an operand of class `a`: the class of the result
/// (the operand's), or why the operator refuses it.
pub fn unary(op: Unary, a: Class) -> Result<Class, Refusal> {
    match op {
        Unary::Neg => require_number("negation", a)?,
        Unary::Plus => require_number("unary `+`", a)?,
        Unary::Abs => require_number("`abs`", a)?,
        Unary::BitNot => {
            if !matches!(a, Class::Int | Class::IntLit | Class::Unknown) {
                return Err(Refusal::new(
                    codes::TYPE_MISMATCH,
                    format!("`~` needs an integer, not {}", a.name()),
                    Place::Left,
                ));
            }
        }
        Unary::Not => {
            if !matches!(a, Class::Bool | Class::Unknown) {
                return Err(Refusal::new(
                    codes::NOT_BOOL,
                    format!("`not` needs a bool, not {}", a.name()),
                    Place::Left,
                )
                .help("compare explicitly, e.g. `x == 0`"));
            }
        }
    }
    Ok(a)
}

/// The rule of a binary operator on operands of classes `a` (left) and `b` (right): the
/// class of the result, or why the operator refuses them.
pub fn binary(op: Binary, a: Class, b: Class) -> Result<Class, Refusal> {
    match op {
        Binary::Arith(op) => arith(op, a, b),
        Binary::Compare(op) => compare(op, a, b),
        Binary::Logic(op) => logic(op, a, b),
    }
}

/// The rule for values that must have one class: the branches of `t if c else e`, the
/// arguments of `min` / `max`. `what` names them in the message ("the branches"). Gives
/// the common class (literals adapt to the other value).
pub fn agree(what: &str, a: Class, b: Class) -> Result<Class, Refusal> {
    use Class::*;
    let refuse = |code, message: String| {
        let mut r = Refusal::new(code, message, Place::Left);
        r.secondary = Some((Place::Right, "this one"));
        r
    };
    Ok(match (a, b) {
        (Unknown, _) | (_, Unknown) => Unknown,
        (x, y) if x == y => x,
        (Bool, _) | (_, Bool) => {
            return Err(refuse(
                codes::TYPE_MISMATCH,
                format!("{what} are {} and {}", a.name(), b.name()),
            ))
        }
        (F32 | F64, IntLit | RealLit) => a,
        (IntLit | RealLit, F32 | F64) => b,
        (F32 | F64, F32 | F64) => F64,
        (F32 | F64, _) | (_, F32 | F64) => {
            let float = if a.is_float() { a } else { b };
            return Err(refuse(
                codes::MIXED_FLOAT,
                format!("{what} mix {} with an exact type", float.name()),
            )
            .help(if float == F64 {
                "convert one side explicitly: `f64(x)` or `fixed<W, I>(y)`"
            } else {
                "convert one side explicitly: `f32(x)` or `fixed<W, I>(y)`"
            }));
        }
        (Int, IntLit) | (IntLit, Int) => Int,
        (IntLit, RealLit) | (RealLit, IntLit) => RealLit,
        _ => Fixed,
    })
}

/// The rule for the condition of `t if c else e` (class `c`): a bool.
pub fn select_condition(c: Class) -> Result<(), Refusal> {
    if !matches!(c, Class::Bool | Class::Unknown) {
        return Err(Refusal::new(
            codes::NOT_BOOL,
            "the condition of `if ... else` must be a bool",
            Place::Left,
        ));
    }
    Ok(())
}

/// `&`, `|`, `^`.
fn is_bitwise(op: BinOp) -> bool {
    matches!(op, BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor)
}

/// `+ - * / // % << >> & | ^ **`.
fn arith(op: BinOp, a: Class, b: Class) -> Result<Class, Refusal> {
    use Class::*;
    let sym = op.symbol();
    if a == Bool || b == Bool {
        let at = if a == Bool { Place::Left } else { Place::Right };
        let help = match op {
            BinOp::BitAnd | BinOp::BitOr => "for logic on bools use `and` / `or`",
            _ => "convert with `int<1>(b)` or `uint<1>(b)`",
        };
        return Err(Refusal::new(
            codes::TYPE_MISMATCH,
            format!("`{sym}` needs numbers, not a bool"),
            at,
        )
        .help(help));
    }
    if matches!(op, BinOp::Shl | BinOp::Shr) {
        return shift(sym, a, b);
    }
    if a == Unknown || b == Unknown {
        return Ok(Unknown);
    }
    if a.is_float() || b.is_float() {
        return float_arith(op, a, b);
    }
    exact_arith(op, a, b)
}

/// `<<` and `>>`: an exact value shifted by an integer.
fn shift(sym: &str, a: Class, b: Class) -> Result<Class, Refusal> {
    if a.is_float() {
        return Err(Refusal::new(
            codes::TYPE_MISMATCH,
            format!("`{sym}` shifts exact values, not {}", a.name()),
            Place::Left,
        )
        .help("multiply by a power of two instead"));
    }
    if !matches!(b, Class::Int | Class::IntLit | Class::Unknown) {
        return Err(Refusal::new(
            codes::TYPE_MISMATCH,
            format!("a shift amount must be an integer, not {}", b.name()),
            Place::Right,
        ));
    }
    Ok(a.materialized())
}

/// Arithmetic with at least one float operand. As numpy promotes, an f32 operand with an
/// f64 one computes in f64, and an exact operand converts to the float (exactly: lowering
/// refuses exact values with more significant bits than the float holds once their types
/// are inferred, 24 for f32 and 53 for f64, which numpy would round).
fn float_arith(op: BinOp, a: Class, b: Class) -> Result<Class, Refusal> {
    let sym = op.symbol();
    let result = match (a.is_float(), b.is_float()) {
        (true, true) => Class::float_join(a, b),
        (true, false) => a,
        _ => b,
    };
    match op {
        BinOp::FloorDiv | BinOp::Mod => Err(Refusal::new(
            codes::BAD_DIVISION,
            format!(
                "`{sym}` is for integers; {} divides with `/`",
                result.name()
            ),
            Place::Whole,
        )),
        _ if is_bitwise(op) => Err(Refusal::new(
            codes::TYPE_MISMATCH,
            format!("`{sym}` needs integers, not {}", result.name()),
            Place::Whole,
        )),
        _ => Ok(result),
    }
}

/// Arithmetic on exact operands (integers, fixed point, literals).
fn exact_arith(op: BinOp, a: Class, b: Class) -> Result<Class, Refusal> {
    use Class::*;
    let sym = op.symbol();
    let both_int = a.is_integer() && b.is_integer();
    let both_lit = a.is_literal() && b.is_literal();
    let exact = match (both_int, both_lit) {
        (true, true) => IntLit,
        (true, false) => Int,
        (false, true) => RealLit,
        (false, false) => Fixed,
    };
    if op == BinOp::Pow {
        // Whether the exponent is a non-negative constant is lowering's check (a `const`
        // parameter's value is known there). Two literals may yet be floats (`2.0 ** 0.5`
        // next to an f64), so lowering decides.
        if both_lit {
            return Ok(exact);
        }
        if !b.is_integer() {
            return Err(Refusal::new(
                codes::TYPE_MISMATCH,
                format!(
                    "the exponent of an exact value must be an integer, not {}",
                    b.name()
                ),
                Place::Right,
            )
            .help("for a fractional power, convert the base to a float: `f64(x) ** 0.5`"));
        }
        return Ok(if a.is_literal() { a } else { a.materialized() });
    }
    match op {
        BinOp::Add | BinOp::Sub | BinOp::Mul => Ok(exact),
        BinOp::Div if both_int => Err(Refusal::new(codes::BAD_DIVISION, "`/` between integers", Place::Whole)
            .help("use `//` for floor division, or convert one side to a fixed-point type for a fractional quotient")),
        BinOp::Div => Ok(if both_lit { RealLit } else { Fixed }),
        BinOp::FloorDiv | BinOp::Mod if !both_int => Err(Refusal::new(
            codes::BAD_DIVISION,
            format!("`{sym}` is defined on integers only"),
            Place::Whole,
        )
        .help("fixed-point values divide with `/` (ap_fixed semantics)")),
        _ if is_bitwise(op) && !both_int => Err(Refusal::new(
            codes::TYPE_MISMATCH,
            format!("`{sym}` needs integers"),
            Place::Whole,
        )
        .help("bitwise operations are defined on int<N> / uint<N> values")),
        BinOp::Shl | BinOp::Shr => unreachable!("shifts have their own rule"),
        _ => Ok(exact),
    }
}

/// `< <= > >= == !=`: numbers of one kind (exact or float), or bools with `==` / `!=`.
/// f32 compares with f64 (converted exactly to f64).
fn compare(op: CmpOp, a: Class, b: Class) -> Result<Class, Refusal> {
    use Class::*;
    let ok = match (a, b) {
        (Unknown, _) | (_, Unknown) => true,
        (Bool, Bool) => matches!(op, CmpOp::Eq | CmpOp::Ne),
        (Bool, _) | (_, Bool) => false,
        // numpy's promotion: the exact side converts to the float.
        _ => true,
    };
    if !ok {
        return Err(Refusal::new(
            codes::TYPE_MISMATCH,
            format!(
                "cannot compare {} with {} using `{}`",
                a.name(),
                b.name(),
                op.symbol()
            ),
            Place::Whole,
        ));
    }
    Ok(Bool)
}

/// `and`, `or`: bools.
fn logic(op: BoolOp, a: Class, b: Class) -> Result<Class, Refusal> {
    for (c, at) in [(a, Place::Left), (b, Place::Right)] {
        if !matches!(c, Class::Bool | Class::Unknown) {
            let w = Binary::Logic(op).spelling();
            return Err(Refusal::new(
                codes::NOT_BOOL,
                format!("`{w}` needs bools, not {}", c.name()),
                at,
            )
            .help("compare explicitly, e.g. `x != 0`; for bits use `&` / `|`"));
        }
    }
    Ok(Class::Bool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_division_of_f32_is_a_division_error() {
        let r = binary(BinOp::FloorDiv.into(), Class::F32, Class::F32).unwrap_err();
        assert_eq!(r.code, codes::BAD_DIVISION);
        let r = binary(BinOp::Mod.into(), Class::Fixed, Class::Int).unwrap_err();
        assert_eq!(r.code, codes::BAD_DIVISION);
    }

    #[test]
    fn bitwise_on_f32_and_bools_are_type_mismatches() {
        for op in [BinOp::BitAnd, BinOp::Shl] {
            let r = binary(op.into(), Class::F32, Class::IntLit).unwrap_err();
            assert_eq!(r.code, codes::TYPE_MISMATCH);
        }
        let r = binary(BinOp::Add.into(), Class::Int, Class::Bool).unwrap_err();
        assert_eq!((r.code, r.at), (codes::TYPE_MISMATCH, Place::Right));
    }

    #[test]
    fn literals_adapt_and_materialize() {
        assert_eq!(
            binary(BinOp::Mul.into(), Class::F32, Class::RealLit),
            Ok(Class::F32)
        );
        assert_eq!(
            binary(BinOp::Add.into(), Class::IntLit, Class::IntLit),
            Ok(Class::IntLit)
        );
        assert_eq!(
            binary(BinOp::Shl.into(), Class::RealLit, Class::IntLit),
            Ok(Class::Fixed)
        );
        assert_eq!(
            binary(BinOp::Div.into(), Class::Int, Class::Int).map_err(|r| r.code),
            Err(codes::BAD_DIVISION)
        );
    }

    #[test]
    fn exact_operands_of_f32_arithmetic_promote_to_f32() {
        assert_eq!(
            binary(BinOp::Add.into(), Class::Fixed, Class::F32),
            Ok(Class::F32)
        );
        assert_eq!(
            binary(CmpOp::Lt.into(), Class::F32, Class::Int),
            Ok(Class::Bool)
        );
        let r = binary(BinOp::FloorDiv.into(), Class::Int, Class::F32).unwrap_err();
        assert_eq!(r.code, codes::BAD_DIVISION);
    }

    #[test]
    fn f64_promotes_f32_and_refuses_exact_values() {
        use Class::*;
        assert_eq!(binary(BinOp::Add.into(), F32, F64), Ok(F64));
        assert_eq!(binary(BinOp::Mul.into(), F64, RealLit), Ok(F64));
        assert_eq!(binary(BinOp::Div.into(), IntLit, F64), Ok(F64));
        assert_eq!(binary(CmpOp::Lt.into(), F64, F32), Ok(Bool));
        assert_eq!(agree("the branches", F32, F64), Ok(F64));
        // An exact operand promotes to the float, as numpy does.
        assert_eq!(binary(BinOp::Sub.into(), F64, Int), Ok(F64));
        let r = binary(BinOp::Mod.into(), F64, F64).unwrap_err();
        assert_eq!(r.code, codes::BAD_DIVISION);
        let r = binary(BinOp::Shl.into(), F64, IntLit).unwrap_err();
        assert_eq!(r.code, codes::TYPE_MISMATCH);
    }

    #[test]
    fn power_rules() {
        use Class::*;
        let pow = |a, b| binary(BinOp::Pow.into(), a, b);
        assert_eq!(pow(Int, IntLit), Ok(Int));
        assert_eq!(pow(Fixed, Int), Ok(Fixed));
        assert_eq!(pow(IntLit, IntLit), Ok(IntLit));
        assert_eq!(pow(RealLit, IntLit), Ok(RealLit));
        assert_eq!(pow(IntLit, RealLit), Ok(RealLit));
        assert_eq!(pow(F32, RealLit), Ok(F32));
        assert_eq!(pow(F32, F64), Ok(F64));
        assert_eq!(pow(RealLit, F64), Ok(F64));
        assert_eq!(
            pow(Int, RealLit).map_err(|r| r.code),
            Err(codes::TYPE_MISMATCH)
        );
        assert_eq!(pow(Int, Fixed).map_err(|r| r.at), Err(Place::Right));
        // An exact exponent of a float base promotes to the float (numpy).
        assert_eq!(pow(F64, Int), Ok(F64));
        assert_eq!(
            pow(Bool, IntLit).map_err(|r| r.code),
            Err(codes::TYPE_MISMATCH)
        );
        assert_eq!(Binary::from(BinOp::Pow).spelling(), "**");
    }

    #[test]
    fn values_that_must_agree() {
        assert_eq!(
            agree("the branches", Class::Int, Class::IntLit),
            Ok(Class::Int)
        );
        assert_eq!(
            agree("the branches", Class::RealLit, Class::F32),
            Ok(Class::F32)
        );
        let r = agree("the branches", Class::Fixed, Class::F32).unwrap_err();
        assert_eq!(r.code, codes::MIXED_FLOAT);
        assert_eq!(r.message, "the branches mix f32 with an exact type");
        let r = agree("the arguments of `max`", Class::Bool, Class::Int).unwrap_err();
        assert_eq!(r.code, codes::TYPE_MISMATCH);
    }

    #[test]
    fn unary_rules_and_spellings() {
        assert_eq!(unary(Unary::Neg, Class::F32), Ok(Class::F32));
        assert_eq!(
            unary(Unary::Neg, Class::Bool).map_err(|r| r.code),
            Err(codes::TYPE_MISMATCH)
        );
        assert_eq!(
            unary(Unary::Not, Class::Int).map_err(|r| r.code),
            Err(codes::NOT_BOOL)
        );
        assert_eq!(
            unary(Unary::BitNot, Class::Fixed).map_err(|r| r.code),
            Err(codes::TYPE_MISMATCH)
        );
        assert_eq!(Unary::from(HUnaryOp::Neg).spelling(), "-");
        assert_eq!(Binary::from(BinOp::FloorDiv).spelling(), "//");
        assert_eq!(Binary::from(BoolOp::Or).spelling(), "or");
        let bools = binary(CmpOp::Lt.into(), Class::Bool, Class::Bool).unwrap_err();
        assert_eq!(bools.code, codes::TYPE_MISMATCH);
        assert_eq!(
            binary(CmpOp::Eq.into(), Class::Bool, Class::Bool),
            Ok(Class::Bool)
        );
    }
}
