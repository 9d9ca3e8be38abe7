//! Loops: headers (`range(...)` in all its forms: steps, negative steps, triangular
//! bounds, sizes; and `grid(...)`) with the value range of every loop variable, and the
//! loop nests of statements.

use super::env::{Body, Env, LVar};
use super::shape::{numel, shape_text, Dim};
use super::Gen;

/// A loop header: the text after `for`, the loop variables with their value ranges, and
/// a bound of the trip count.
pub(super) struct LoopHeader {
    pub(super) text: String,
    pub(super) vars: Vec<LVar>,
    pub(super) trips: i64,
}

impl LoopHeader {
    /// `{name} in {tensor}` over the first axis, `trips` long: no loop variable.
    pub(super) fn foreach(name: &str, tensor: &str, trips: i64) -> LoopHeader {
        LoopHeader {
            text: format!("{name} in {tensor}"),
            vars: Vec::new(),
            trips,
        }
    }

    /// `{name} in {range}`, over `lo..=hi` in `trips` trips.
    pub(super) fn range(name: String, range: String, lo: i64, hi: i64, trips: i64) -> LoopHeader {
        LoopHeader {
            text: format!("{name} in {range}"),
            vars: vec![LVar { name, lo, hi }],
            trips,
        }
    }
}

/// The loops of a nest being written: their scope marks, and the state to restore when
/// the nest is left.
pub(super) struct Nest {
    marks: Vec<usize>,
    loops: usize,
    pub(super) trips: i64,
}

impl Nest {
    pub(super) fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }
}

impl Body {
    /// A new loop nest at the current position (no loop entered yet).
    pub(super) fn nest(&self) -> Nest {
        Nest {
            marks: Vec::new(),
            loops: self.env.loops.len(),
            trips: self.env.trips,
        }
    }

    /// Writes the header `for ...:` of loop `h` and enters its body.
    pub(super) fn enter_loop(&mut self, nest: &mut Nest, h: LoopHeader) {
        nest.marks.push(self.open(format!("for {}:", h.text)));
        self.env.loops.extend(h.vars);
        self.env.trips *= h.trips.max(1);
    }

    /// Leaves every loop of `nest`.
    pub(super) fn leave(&mut self, nest: Nest) {
        for m in nest.marks.into_iter().rev() {
            self.close(m);
        }
        self.env.loops.truncate(nest.loops);
        self.env.trips = nest.trips;
    }
}

impl Gen {
    /// A loop over every index of `dims`: `grid(...)`, or over one dimension sometimes a
    /// `range(...)`. `compr`: the header of a comprehension (whose extent is the trip
    /// count).
    pub(super) fn full_loop(&mut self, dims: &[Dim], compr: bool) -> LoopHeader {
        let n = dims.len();
        let names: Vec<String> = (0..n).map(|_| self.fresh_loop()).collect();
        let use_grid = n > 1 || self.chance(30);
        let vars: Vec<LVar> = names
            .iter()
            .zip(dims)
            .map(|(nm, d)| LVar {
                name: nm.clone(),
                lo: 0,
                hi: d.val - 1,
            })
            .collect();
        let trips = numel(dims);
        if use_grid {
            self.f("loop: grid(...)");
            return LoopHeader {
                text: format!("{} in grid({})", names.join(", "), shape_text(dims)),
                vars,
                trips,
            };
        }
        let d = &dims[0];
        // Known bug `comprehension-negative-step`: the extent of a comprehension over
        // a range with a negative step is wrong.
        let neg_ok = !(compr && self.avoid("comprehension-negative-step"));
        let h = match self.rng.below(4) {
            0 => format!("range({})", d.text),
            2 if !neg_ok => format!("range({})", d.text),
            1 => format!("range(0, {})", d.text),
            2 => {
                self.f("loop: negative step");
                format!("range({}, -1, -1)", d.plus(-1).text)
            }
            _ => format!("range(0, {}, 1)", d.text),
        };
        self.f("loop: range(...)");
        LoopHeader {
            text: format!("{} in {h}", names[0]),
            vars,
            trips,
        }
    }

    /// A single `range(...)` loop, possibly triangular (bounded by an outer loop
    /// variable), with a step, or over a size; `allow_empty`: it may run zero times.
    pub(super) fn range_loop(&mut self, env: &Env, allow_empty: bool) -> LoopHeader {
        let name = self.fresh_loop();
        let outer = env.small_loops(9);
        let hi_const = self.rng.range(1, 8);
        let choice = self
            .rng
            .weighted(&[40, if outer.is_empty() { 0 } else { 25 }, 15, 10]);
        match choice {
            1 => {
                let o = self.rng.pick(&outer);
                self.triangular_loop(name, &o, allow_empty)
            }
            2 => {
                let lo = self.rng.range(-2, 3);
                let step = self.rng.range(2, 3);
                let hi = lo + self.rng.range(1, 9);
                self.f("loop: range with step");
                let last = lo + (hi - lo - 1) / step * step;
                let trips = (hi - lo + step - 1) / step;
                LoopHeader::range(name, format!("range({lo}, {hi}, {step})"), lo, last, trips)
            }
            3 => {
                let hi = self.rng.range(0, 6);
                let lo = hi - self.rng.range(1, 6);
                self.f("loop: negative step");
                LoopHeader::range(name, format!("range({hi}, {lo}, -1)"), lo + 1, hi, hi - lo)
            }
            _ => self.plain_range_loop(env, name, hi_const),
        }
    }

    /// A loop whose bounds depend on the outer loop variable `o`.
    fn triangular_loop(&mut self, name: String, o: &LVar, allow_empty: bool) -> LoopHeader {
        self.f("loop: triangular bounds");
        // Bounds that are not affine (`o // 2 + 1`, `o % 3`) run guarded: only where the
        // loop may run zero times (statement loops, sums).
        match self.rng.below(if allow_empty { 5 } else { 3 }) {
            3 => {
                self.f("loop: bound not affine (o // 2 + 1)");
                let top = o.hi.max(0) / 2;
                LoopHeader::range(name, format!("range({} // 2 + 1)", o.name), 0, top, top + 1)
            }
            4 => {
                self.f("loop: bound not affine (o % 3, step 2)");
                LoopHeader::range(name, format!("range({} % 3, 5, 2)", o.name), 0, 4, 3)
            }
            0 if allow_empty => LoopHeader::range(
                name,
                format!("range({})", o.name),
                0,
                (o.hi - 1).max(0),
                o.hi.max(1),
            ),
            1 => LoopHeader::range(name, format!("range({} + 1)", o.name), 0, o.hi, o.hi + 1),
            _ => {
                let top = o.hi + 1 + self.rng.range(0, 2);
                let range = format!("range({}, {top})", o.name);
                LoopHeader::range(name, range, o.lo, top - 1, top - o.lo)
            }
        }
    }

    /// `range(N)` over a size or const, or `range(lo, lo + len)` with `len` trips.
    fn plain_range_loop(&mut self, env: &Env, name: String, len: i64) -> LoopHeader {
        if !env.ints.is_empty() && !env.in_lambda && self.chance(30) {
            let d = self.rng.pick(&env.ints);
            if d.val >= 1 {
                return LoopHeader::range(name, format!("range({})", d.text), 0, d.val - 1, d.val);
            }
        }
        let lo = if self.chance(25) {
            self.rng.range(-3, 2)
        } else {
            0
        };
        let hi = lo + len;
        let h = if lo == 0 && self.chance(50) {
            format!("range({hi})")
        } else {
            format!("range({lo}, {hi})")
        };
        LoopHeader::range(name, h, lo, hi - 1, len)
    }

    /// A new loop variable name.
    pub(super) fn fresh_loop(&mut self) -> String {
        let base = self.rng.pick(&["i", "j", "k", "u", "v", "c"]);
        self.fresh(base)
    }
}
