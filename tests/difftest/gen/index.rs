//! Indices and views: affine indices of the loop variables (provably in bounds, or
//! guarded), data-dependent indices read from integer tensors, element reads and slices.

use super::env::{Env, Var};
use super::model::Kind;
use super::shape::{same_shape, signed_term, Dim};
use super::Gen;

impl Gen {
    /// An index into `dim`: an affine expression of the loop variables (or a constant)
    /// and, when it is not provably in bounds, the condition that guards it.
    pub(super) fn index(&mut self, env: &Env, dim: &Dim) -> (String, Option<String>) {
        if let Some(data) = self.data_index(env, dim) {
            return data;
        }
        let d = dim.val;
        if env.loops.is_empty() || self.chance(12) {
            let v = self.rng.range(0, d - 1);
            return (v.to_string(), None);
        }
        let nterms = if env.loops.len() > 1 && self.chance(25) {
            2
        } else {
            1
        };
        let mut terms: Vec<(i64, String)> = Vec::new();
        let (mut lo, mut hi) = (0i64, 0i64);
        for _ in 0..nterms {
            let v = self.rng.pick(&env.loops);
            if terms.iter().any(|(_, n)| *n == v.name) {
                continue;
            }
            let c = match self.rng.weighted(&[75, 10, 15]) {
                0 => 1,
                1 => 2,
                _ => -1,
            };
            let (a, b) = (c * v.lo, c * v.hi);
            lo += a.min(b);
            hi += a.max(b);
            terms.push((c, v.name.clone()));
        }
        if terms.len() > 1 {
            self.f("index: two loop variables");
        }
        if terms.iter().any(|(c, _)| *c == 2) {
            self.f("index: strided (2 * i)");
        }
        let (kmin, kmax) = (-lo, d - 1 - hi);
        let (k, guard) = if kmin <= kmax && !self.chance(15) {
            let k = match self.rng.below(3) {
                0 => kmin,
                1 => kmax,
                _ => self.rng.range(kmin, kmax),
            };
            (k, false)
        } else {
            // Not provably in bounds: an offset near the valid ones, guarded.
            let k = if kmin <= kmax {
                self.rng.range(kmin - 1, kmax + 1)
            } else {
                self.rng.range(kmax.min(kmin), kmax.max(kmin))
            };
            (k, true)
        };
        let text = affine(&terms, k);
        if !guard {
            return (text, None);
        }
        let (lo, hi) = (lo + k, hi + k);
        let g = if lo >= 0 && hi < d {
            // Always in bounds: a redundant guard.
            format!("0 <= {text} < {}", dim.text)
        } else if lo >= 0 {
            format!("{text} < {}", dim.text)
        } else if hi < d {
            if self.chance(50) {
                format!("{text} >= 0")
            } else {
                format!("0 <= {text}")
            }
        } else {
            format!("0 <= {text} < {}", dim.text)
        };
        self.f("index: guarded");
        (text, Some(g))
    }

    /// Sometimes, a data-dependent index into `dim` read from an integer tensor: wrapped
    /// or clamped into the dimension (proven by range analysis), or reduced modulo one
    /// more than it and guarded (checked at run time, never out of bounds).
    pub(super) fn data_index(&mut self, env: &Env, dim: &Dim) -> Option<(String, Option<String>)> {
        if env.in_lambda || !self.chance(8) {
            return None;
        }
        let cands: Vec<Var> = env
            .tensors(Some(Kind::Ex))
            .into_iter()
            .filter(|v| v.t.is_int())
            .collect();
        if cands.is_empty() {
            return None;
        }
        let v = self.rng.pick(&cands);
        let (e, guard) = self.element(env, &v);
        if guard.is_some() {
            return None;
        }
        let d = &dim.text;
        self.f("index: data-dependent");
        Some(match self.rng.below(3) {
            0 => (format!("({e}) % ({d})"), None),
            1 => (format!("min(max({e}, 0), ({d}) - 1)"), None),
            _ => {
                self.f("index: data-dependent, checked at run time");
                let ix = format!("({e}) % (({d}) + 1)");
                let g = format!("{ix} < {d}");
                (ix, Some(g))
            }
        })
    }

    /// `x[i, j]` with in-bounds (or guarded) indices: (text, guard).
    pub(super) fn element(&mut self, env: &Env, v: &Var) -> (String, Option<String>) {
        let shape = v.shape.clone().unwrap();
        let mut idx = Vec::new();
        let mut guards = Vec::new();
        for d in &shape {
            let (i, g) = self.index(env, d);
            idx.push(i);
            guards.extend(g);
        }
        let guard = if guards.is_empty() {
            None
        } else {
            Some(guards.join(" and "))
        };
        // Constant indices sometimes count from the end (`x[-1]`).
        for (i, d) in idx.iter_mut().zip(&shape) {
            if let Ok(c) = i.parse::<i64>() {
                if (0..d.val).contains(&c) && self.chance(25) {
                    *i = (c - d.val).to_string();
                    self.f("index: negative constant (from the end)");
                }
            }
        }
        (self.chained(&v.name, idx), guard)
    }

    /// `name[parts]`, sometimes written as a chain of subscripts with the same meaning:
    /// `x[i][j]` for `x[i, j]`, `x[2:][:, j]` for `x[2:, j]`, and a constant slice
    /// `lo:hi` split into a slice of a slice (`x[lo:][:hi - lo]`).
    pub(super) fn chained(&mut self, name: &str, parts: Vec<String>) -> String {
        if parts.len() < 2 && parts.first().is_none_or(|p| plain_slice(p).is_none()) {
            return format!("{name}[{}]", parts.join(", "));
        }
        if !self.chance(20) {
            return format!("{name}[{}]", parts.join(", "));
        }
        let split = self.rng.range(1, parts.len().max(2) as i64 - 1) as usize;
        let split = split.min(parts.len());
        let mut first = Vec::new();
        let mut second = Vec::new();
        for p in &parts[..split] {
            match plain_slice(p) {
                Some((lo, hi)) if self.chance(50) => {
                    first.push(format!("{lo}:"));
                    second.push(format!(":{}", hi - lo));
                    self.f("index: slice of a slice");
                }
                _ if p.contains(':') => {
                    first.push(p.clone());
                    second.push(":".into());
                }
                _ => first.push(p.clone()),
            }
        }
        second.extend(parts[split..].iter().cloned());
        self.f("index: chained subscripts a[i][j]");
        // Trailing whole dimensions may be left out of the last bracket.
        while second.last().is_some_and(|p| p == ":") && self.chance(50) {
            second.pop();
        }
        if second.is_empty() {
            format!("{name}[{}]", first.join(", "))
        } else {
            format!("{name}[{}][{}]", first.join(", "), second.join(", "))
        }
    }

    /// A view of `v` with the shape `target` (a slice, or `v` itself), when one exists.
    pub(super) fn view_as(&mut self, env: &Env, v: &Var, target: &[Dim]) -> Option<String> {
        let shape = v.shape.clone()?;
        if same_shape(&shape, target) && self.chance(60) {
            return Some(v.name.clone());
        }
        if shape.len() < target.len() {
            return None;
        }
        // Match target dims to a subsequence of the source dims, from the right.
        let mut parts: Vec<String> = vec![String::new(); shape.len()];
        let mut t = target.len();
        for s in (0..shape.len()).rev() {
            let remaining_src = s + 1;
            let need = t;
            let take = t > 0
                && shape[s].val >= target[t - 1].val
                && (remaining_src == need || self.chance(70));
            if take {
                let want = &target[t - 1];
                parts[s] = self.slice_of(env, &shape[s], want)?;
                t -= 1;
            } else {
                if remaining_src <= need {
                    return None;
                }
                let (i, g) = self.index(env, &shape[s]);
                if g.is_some() {
                    // Slices must be in bounds: use a constant index instead.
                    parts[s] = self.rng.range(0, shape[s].val - 1).to_string();
                } else {
                    parts[s] = i;
                }
            }
        }
        if t > 0 {
            return None;
        }
        self.f("expr: slice");
        Some(self.chained(&v.name, parts))
    }

    /// A slice of `src` whose length is `want` (symbolically equal), if possible.
    pub(super) fn slice_of(&mut self, env: &Env, src: &Dim, want: &Dim) -> Option<String> {
        if src.same(want) {
            if self.chance(70) {
                return Some(":".into());
            }
            return Some(format!("0:{}", src.text));
        }
        let len = want.val;
        if len > src.val {
            return None;
        }
        match (&src.base, &want.base) {
            (None, None) => {
                // Constant bounds, sometimes a step, sometimes moving with a loop variable.
                if self.chance(20) && 2 * (len - 1) < src.val {
                    let lo = self.rng.range(0, src.val - 2 * (len - 1) - 1);
                    self.f("expr: slice with step");
                    return Some(format!("{lo}:{}:2", lo + 2 * len - 1));
                }
                let slack = src.val - len;
                if slack > 0 && self.chance(25) {
                    if let Some(v) = env.small_loops(slack).first() {
                        self.f("expr: slice moving with a loop variable");
                        return Some(format!("{}:{} + {len}", v.name, v.name));
                    }
                }
                if self.chance(10) {
                    // Backwards: `f:f - len:-1` from element f down (Python's meaning).
                    let f = self.rng.range(len - 1, src.val - 1);
                    self.f("expr: slice with a negative step");
                    let stop = f - len;
                    return Some(if stop < 0 {
                        format!("{f}::-1")
                    } else if f == src.val - 1 && self.chance(30) {
                        format!(":{stop}:-1")
                    } else {
                        format!("{f}:{stop}:-1")
                    });
                }
                let lo = self.rng.range(0, slack);
                if self.chance(10) && lo + len < src.val {
                    // Bounds counted from the end.
                    self.f("expr: slice with negative bounds");
                    return Some(format!("{}:{}", lo - src.val, lo + len - src.val));
                }
                if lo == 0 && self.chance(30) {
                    return Some(format!(":{len}"));
                }
                if lo + len == src.val && self.chance(30) {
                    return Some(format!("{lo}:"));
                }
                Some(format!("{lo}:{}", lo + len))
            }
            (Some(b), Some(wb)) if b == wb => {
                // src = N + a, want = N + c with c < a: lo:lo + N + c.
                let slack = src.k - want.k;
                if slack < 0 {
                    return None;
                }
                let lo = self.rng.range(0, slack);
                let hi = src.plus(-(slack - lo));
                Some(format!("{lo}:{}", hi.text))
            }
            (Some(_), None) => {
                let lo = self.rng.range(0, src.val - len);
                Some(format!("{lo}:{}", lo + len))
            }
            _ => None,
        }
    }
}

/// The text of `sum(c * name) + k` (`terms` are the `(c, name)`).
pub(super) fn affine(terms: &[(i64, String)], k: i64) -> String {
    let mut s = String::new();
    let lead_neg = terms.first().is_some_and(|(c, _)| *c < 0);
    if lead_neg && k > 0 {
        s.push_str(&k.to_string());
    }
    for (i, (c, n)) in terms.iter().enumerate() {
        let mag = c.abs();
        let t = if mag == 1 {
            n.clone()
        } else {
            format!("{mag} * {n}")
        };
        if i == 0 && !(lead_neg && k > 0) {
            if *c < 0 {
                s.push('-');
            }
            s.push_str(&t);
        } else {
            s.push_str(if *c < 0 { " - " } else { " + " });
            s.push_str(&t);
        }
    }
    if !(lead_neg && k > 0) {
        s.push_str(&signed_term(k));
    }
    s
}

/// The constant bounds of a slice written `lo:hi` (both non-negative integers).
fn plain_slice(p: &str) -> Option<(i64, i64)> {
    let (lo, hi) = p.split_once(':')?;
    let (lo, hi) = (
        lo.trim().parse::<i64>().ok()?,
        hi.trim().parse::<i64>().ok()?,
    );
    (lo >= 0 && hi > lo).then_some((lo, hi))
}
