//! The spanned abstract syntax tree, exactly as written.
//!
//! The grammar (grammar.lalrpop) builds these nodes and nothing else: every check lives in
//! Rust code (resolve/, check/). Names are still strings here; the checker resolves
//! them and produces the HIR (hir.rs).

use crate::span::Span;

#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// One source file.
#[derive(Clone, Debug, PartialEq)]
pub struct Module {
    pub items: Vec<Item>,
    /// Names of `type`, `const` and `param` items that did not parse (reported): uses of
    /// them stay silent, as uses of items whose definitions do not resolve do.
    pub unparsed: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub kind: ItemKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ItemKind {
    /// `import a.b [as c]`
    Import {
        path: Vec<Ident>,
        alias: Option<Ident>,
    },
    /// `from a.b import x [as y], ...`
    FromImport {
        path: Vec<Ident>,
        names: Vec<(Ident, Option<Ident>)>,
    },
    /// `type name = T`
    TypeAlias {
        name: Ident,
        ty: TypeExpr,
    },
    /// `const N = 16`
    Const {
        name: Ident,
        value: Expr,
    },
    /// `param w: T[...] = load("w.npy")` or `param s: T = 0.5`
    Param {
        name: Ident,
        ty: TypeExpr,
        init: Expr,
    },
    Kernel(Kernel),
    /// `def dist(a, b, n): ...`: a helper function, inlined at every call (inline.rs).
    Def(HelperDef),
    /// `schedule conv2d for fpga:` and a block of primitive calls (`unroll(k, 4)`).
    Schedule {
        kernel: Ident,
        target: Ident,
        body: Block,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Kernel {
    pub name: Ident,
    /// Element-type variables: `kernel relu[T](...)`.
    pub type_params: Vec<Ident>,
    pub params: Vec<Param>,
    pub results: Vec<TypeExpr>,
    pub body: Block,
    /// The `kernel name(...) -> ...` header.
    pub header_span: Span,
}

/// A helper function: untyped parameters (scalars, tensors, slices or sizes, whatever the
/// call passes) and a body of assignments to names ending with one `return`.
#[derive(Clone, Debug, PartialEq)]
pub struct HelperDef {
    pub name: Ident,
    pub params: Vec<Ident>,
    pub body: Block,
    /// The `def name(...)` header.
    pub header_span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub ty: ParamType,
    pub default: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ParamType {
    /// A scalar or tensor value.
    Value(TypeExpr),
    /// `const`: a compile-time integer (used in shapes and loop bounds).
    Const(Span),
}

/// A type as written: a scalar element type, or a tensor type.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    pub kind: TypeExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeExprKind {
    Scalar(ElemTypeExpr),
    /// `T[d0, d1, ...]`; `elem` is `None` for `[d0, ...]` (element type inferred).
    Tensor {
        elem: Option<ElemTypeExpr>,
        dims: Vec<DimExpr>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct ElemTypeExpr {
    pub kind: ElemTypeKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ElemTypeKind {
    /// A builtin type: `int<8>`, `fixed<8,4,rnd,sat>`, `bin`, `f32`...
    Prim { prim: PrimType, args: Vec<Expr> },
    /// A type alias or a type variable.
    Named(Ident),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PrimType {
    Int,
    Uint,
    Fixed,
    Ufixed,
    Bin,
    Tern,
    F32,
    F64,
    Bool,
}

impl PrimType {
    pub fn name(self) -> &'static str {
        match self {
            PrimType::Int => "int",
            PrimType::Uint => "uint",
            PrimType::Fixed => "fixed",
            PrimType::Ufixed => "ufixed",
            PrimType::Bin => "bin",
            PrimType::Tern => "tern",
            PrimType::F32 => "f32",
            PrimType::F64 => "f64",
            PrimType::Bool => "bool",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum DimExpr {
    /// A size expression: `16`, `H`, `H - 2`, `(H - R) // stride + 1`.
    Size(Expr),
    /// `*S`: the rest of the shape, bound to a shape variable.
    Rest(Ident),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// `name: T [= init]`
    Decl {
        name: Ident,
        ty: TypeExpr,
        init: Option<Expr>,
    },
    /// `a = e`, `a, b = e`, `x[i, j] = e`, `x[0:4] = e`
    Assign {
        targets: Vec<Expr>,
        value: Expr,
    },
    /// `a += e` and friends.
    AugAssign {
        target: Expr,
        op: BinOp,
        value: Expr,
    },
    For {
        vars: Vec<Ident>,
        iter: Expr,
        body: Block,
    },
    /// `while cond, max=N:`: at most N iterations (hardware needs a bound).
    While {
        cond: Expr,
        /// The bound's keyword (must be `max`) and value.
        max: Option<(Ident, Expr)>,
        body: Block,
    },
    If {
        branches: Vec<(Expr, Block)>,
        else_block: Option<Block>,
    },
    Return(Vec<Expr>),
    Expr(Expr),
    Pass,
    Break,
    Continue,
    /// Statements indented deeper than their block for no reason (an error the checker
    /// reports; parsed so that the rest of the kernel still is).
    UnexpectedIndent(Block),
    /// A statement that did not parse (already reported).
    Error,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Shl,
    Shr,
    BitAnd,
    BitOr,
    BitXor,
    /// `**`: a constant integer power of an exact value, or a float power.
    Pow,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::FloorDiv => "//",
            BinOp::Mod => "%",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
            BinOp::Pow => "**",
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Neg,
    Plus,
    BitNot,
    Not,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum BoolOp {
    And,
    Or,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Int(u128),
    /// A real literal: its source text (for exact decimal handling) and value.
    Float(String),
    Bool(bool),
    Str(String),
    Name(String),
    /// `module.name`
    Attr(Box<Expr>, Ident),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `a < b <= c`: chained comparisons, each operand evaluated once.
    Compare(Box<Expr>, Vec<(CmpOp, Expr)>),
    BoolOp(BoolOp, Box<Expr>, Box<Expr>),
    /// `a if cond else b`
    IfElse {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    Call {
        func: Box<Expr>,
        args: Vec<Arg>,
    },
    Index {
        base: Box<Expr>,
        subs: Vec<Subscript>,
    },
    /// A builtin type used as a value: the callee of a cast, or a type argument.
    TypeLit(ElemTypeExpr),
    Lambda {
        params: Vec<Ident>,
        body: Box<Expr>,
    },
    /// `[e for i, j in grid(N, M)]`: a tensor built element by element.
    Comprehension(Box<Generator>),
    /// `e for i in range(N)`: only as the sole argument of a reduction.
    Generator(Box<Generator>),
    /// `[1, 2, 3]`, `[[1, 2], [3, 4]]`: a constant tensor (a list literal).
    List(Vec<Expr>),
    /// `(a, b)` / `a, b`
    Tuple(Vec<Expr>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Generator {
    pub elem: Expr,
    pub vars: Vec<Ident>,
    pub iter: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Subscript {
    Index(Expr),
    Slice {
        lo: Option<Expr>,
        hi: Option<Expr>,
        step: Option<Expr>,
        span: Span,
    },
}

impl Subscript {
    pub fn span(&self) -> Span {
        match self {
            Subscript::Index(e) => e.span,
            Subscript::Slice { span, .. } => *span,
        }
    }
}
