//! Dimensions and shapes: constant or symbolic (`N + k`) lengths and their text.

/// A dimension: symbolically `base + k` (base a size variable of a generic kernel, or
/// none for constants), with its value in the instance being generated.
#[derive(Clone, Debug)]
pub struct Dim {
    pub base: Option<String>,
    pub k: i64,
    pub val: i64,
    pub text: String,
}

impl Dim {
    pub(super) fn lit(v: i64) -> Dim {
        Dim {
            base: None,
            k: v,
            val: v,
            text: v.to_string(),
        }
    }
    pub(super) fn named(name: &str, v: i64) -> Dim {
        Dim {
            base: None,
            k: v,
            val: v,
            text: name.to_string(),
        }
    }
    pub(super) fn size(name: &str, v: i64) -> Dim {
        Dim {
            base: Some(name.to_string()),
            k: 0,
            val: v,
            text: name.to_string(),
        }
    }
    /// `self + c`.
    pub(super) fn plus(&self, c: i64) -> Dim {
        if c == 0 {
            return self.clone();
        }
        match &self.base {
            None => {
                if self.text.parse::<i64>().is_ok() {
                    Dim::lit(self.val + c)
                } else {
                    Dim {
                        base: None,
                        k: self.k + c,
                        val: self.val + c,
                        text: format!("{}{}", self.text, signed_term(c)),
                    }
                }
            }
            Some(b) => Dim {
                base: Some(b.clone()),
                k: self.k + c,
                val: self.val + c,
                text: format!("{}{}", b, signed_term(self.k + c)),
            },
        }
    }
    pub(super) fn same(&self, o: &Dim) -> bool {
        self.base == o.base && self.k == o.k
    }
    /// The same dimension as seen from a caller, where all sizes are constants.
    pub(super) fn concrete(&self) -> Dim {
        Dim::lit(self.val)
    }
}

impl Dim {
    /// A literal length that is symbolically `base + c` when `of` has a base.
    pub(super) fn with_base(self, of: &Dim, c: i64) -> Dim {
        match &of.base {
            None => self,
            Some(_) => of.plus(c),
        }
    }
}

pub(super) fn signed_term(c: i64) -> String {
    match c.cmp(&0) {
        std::cmp::Ordering::Less => format!(" - {}", -c),
        std::cmp::Ordering::Greater => format!(" + {c}"),
        std::cmp::Ordering::Equal => String::new(),
    }
}

pub(super) fn same_shape(a: &[Dim], b: &[Dim]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same(y))
}

pub(super) fn shape_text(s: &[Dim]) -> String {
    s.iter()
        .map(|d| d.text.clone())
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn numel(s: &[Dim]) -> i64 {
    s.iter().map(|d| d.val).product()
}
