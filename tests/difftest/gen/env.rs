//! The scope of the code being generated (variables, loop variables, lambda parameters)
//! and the body of a kernel being written.

use super::model::{Kind, Ty, E, T};
use super::shape::Dim;

/// A named value in scope.
#[derive(Clone, Debug)]
pub(super) struct Var {
    pub(super) name: String,
    pub(super) t: T,
    /// None for scalars.
    pub(super) shape: Option<Vec<Dim>>,
    /// The declared element type (stores and assignments convert to it).
    pub(super) decl: Option<Ty>,
    /// Elements may be stored (a local tensor with a declared element type).
    pub(super) store: bool,
    /// The name may be assigned again (a scalar local).
    pub(super) assign: bool,
    /// Fully written (tensors) / assigned (scalars).
    pub(super) readable: bool,
    /// A kernel input or local of this kernel (candidates for results).
    pub(super) local: bool,
}

impl Var {
    /// A value computed once: readable, neither stored into nor assigned again.
    pub(super) fn value(name: String, t: T, shape: Option<Vec<Dim>>) -> Var {
        Var {
            name,
            t,
            shape,
            decl: None,
            store: false,
            assign: false,
            readable: true,
            local: true,
        }
    }

    /// A read of the whole value.
    pub(super) fn read(&self) -> E {
        E {
            s: self.name.clone(),
            t: self.t,
        }
    }

    /// An input or parameter of a declared type.
    pub(super) fn declared(name: String, ty: Ty, shape: Option<Vec<Dim>>) -> Var {
        let t = ty.t;
        Var {
            decl: Some(ty),
            ..Var::value(name, t, shape)
        }
    }
}

#[derive(Clone, Debug)]
pub(super) struct LVar {
    pub(super) name: String,
    pub(super) lo: i64,
    pub(super) hi: i64,
}

/// A lambda parameter: reads the current element, or neighbours `p[o...]` within
/// `radius` of it.
#[derive(Clone, Debug)]
pub(super) struct Win {
    pub(super) name: String,
    pub(super) t: T,
    pub(super) radius: Vec<i64>,
}

#[derive(Clone, Debug, Default)]
pub(super) struct Env {
    pub(super) vars: Vec<Var>,
    pub(super) loops: Vec<LVar>,
    /// Integer names usable as values: sizes, const parameters, module consts.
    pub(super) ints: Vec<Dim>,
    /// Type variables in scope and the model of what they are bound to.
    pub(super) tvars: Vec<(String, T)>,
    /// Type variables bound to integer types (int, uint, bin, tern, ...).
    pub(super) tv_int: Vec<String>,
    /// Lambda parameters (inside a lambda nothing else is visible).
    pub(super) windows: Vec<Win>,
    pub(super) in_lambda: bool,
    /// Inside a generic kernel.
    pub(super) generic: bool,
    /// Loop / branch nesting.
    pub(super) nest: usize,
    /// Product of the trip counts of the enclosing loops (keeps run time small).
    pub(super) trips: i64,
    /// Inside the body of a reduction (`sum(e for ...)`, `max(...)`).
    pub(super) in_reduce: bool,
}

impl Env {
    pub(super) fn new() -> Env {
        Env {
            trips: 1,
            ..Default::default()
        }
    }
    pub(super) fn scalars(&self, kind: Kind) -> Vec<Var> {
        self.vars
            .iter()
            .filter(|v| v.shape.is_none() && v.readable && v.t.kind() == kind)
            .cloned()
            .collect()
    }
    pub(super) fn tensors(&self, kind: Option<Kind>) -> Vec<Var> {
        self.vars
            .iter()
            .filter(|v| v.shape.is_some() && v.readable)
            .filter(|v| kind.is_none_or(|k| v.t.kind() == k))
            .cloned()
            .collect()
    }
    /// The loop variables whose values are all in `0..=max`.
    pub(super) fn small_loops(&self, max: i64) -> Vec<LVar> {
        self.loops
            .iter()
            .filter(|l| l.lo >= 0 && l.hi <= max)
            .cloned()
            .collect()
    }

    pub(super) fn var_mut(&mut self, name: &str) -> &mut Var {
        self.vars
            .iter_mut()
            .rev()
            .find(|v| v.name == name)
            .expect("var")
    }
}

/// The statements of a kernel body being written.
pub(super) struct Body {
    pub(super) lines: Vec<String>,
    pub(super) ind: usize,
    pub(super) env: Env,
}

impl Body {
    pub(super) fn new(env: Env) -> Body {
        Body {
            lines: Vec::new(),
            ind: 1,
            env,
        }
    }
    pub(super) fn line(&mut self, s: impl AsRef<str>) {
        self.lines
            .push(format!("{}{}", "    ".repeat(self.ind), s.as_ref()));
    }
    /// Enters a block: returns the scope mark to give back to `close`.
    pub(super) fn open(&mut self, header: String) -> usize {
        self.line(header);
        self.ind += 1;
        self.env.nest += 1;
        self.env.vars.len()
    }
    pub(super) fn close(&mut self, mark: usize) {
        self.ind -= 1;
        self.env.nest -= 1;
        self.env.vars.truncate(mark);
    }
}
