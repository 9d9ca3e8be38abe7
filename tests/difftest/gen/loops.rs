//! Loop headers: `range(...)` in all its forms (steps, negative steps, triangular bounds,
//! sizes) and `grid(...)`, with the value range of every loop variable.

use super::env::{Env, LVar};
use super::shape::{numel, shape_text, Dim};
use super::Gen;

impl Gen {
    /// A loop header for a generator, comprehension or statement: (header after `for`,
    /// loop variables with their value ranges, trip count bound, may be empty).
    pub(super) fn loop_header(
        &mut self,
        env: &Env,
        n: usize,
        full: Option<&[Dim]>,
        allow_empty: bool,
    ) -> (String, Vec<LVar>, i64, bool) {
        self.loop_header_in(env, n, full, allow_empty, false)
    }

    /// `compr`: the header of a comprehension (whose extent is the trip count).
    pub(super) fn loop_header_in(
        &mut self,
        env: &Env,
        n: usize,
        full: Option<&[Dim]>,
        allow_empty: bool,
        compr: bool,
    ) -> (String, Vec<LVar>, i64, bool) {
        let names: Vec<String> = (0..n).map(|_| self.fresh_loop()).collect();
        // grid(...) over full dims, or a range.
        if let Some(dims) = full {
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
                return (
                    format!("{} in grid({})", names.join(", "), shape_text(dims)),
                    vars,
                    trips,
                    false,
                );
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
            return (format!("{} in {h}", names[0]), vars, trips, false);
        }
        // A single range, possibly triangular.
        assert_eq!(n, 1);
        let name = names[0].clone();
        let outer: Vec<LVar> = env
            .loops
            .iter()
            .filter(|l| l.lo >= 0 && l.hi <= 9)
            .cloned()
            .collect();
        let hi_const = self.rng.range(1, 8);
        let choice = self
            .rng
            .weighted(&[40, if outer.is_empty() { 0 } else { 25 }, 15, 10]);
        match choice {
            1 => {
                let o = self.rng.pick(&outer);
                self.f("loop: triangular bounds");
                match self.rng.below(3) {
                    0 if allow_empty => (
                        format!("{name} in range({})", o.name),
                        vec![LVar {
                            name,
                            lo: 0,
                            hi: (o.hi - 1).max(0),
                        }],
                        o.hi.max(1),
                        true,
                    ),
                    1 => (
                        format!("{name} in range({} + 1)", o.name),
                        vec![LVar {
                            name,
                            lo: 0,
                            hi: o.hi,
                        }],
                        o.hi + 1,
                        false,
                    ),
                    _ => {
                        let top = o.hi + 1 + self.rng.range(0, 2);
                        (
                            format!("{name} in range({}, {top})", o.name),
                            vec![LVar {
                                name,
                                lo: o.lo,
                                hi: top - 1,
                            }],
                            top - o.lo,
                            false,
                        )
                    }
                }
            }
            2 => {
                let lo = self.rng.range(-2, 3);
                let step = self.rng.range(2, 3);
                let hi = lo + self.rng.range(1, 9);
                self.f("loop: range with step");
                let last = lo + (hi - lo - 1) / step * step;
                (
                    format!("{name} in range({lo}, {hi}, {step})"),
                    vec![LVar { name, lo, hi: last }],
                    (hi - lo + step - 1) / step,
                    false,
                )
            }
            3 => {
                let hi = self.rng.range(0, 6);
                let lo = hi - self.rng.range(1, 6);
                self.f("loop: negative step");
                (
                    format!("{name} in range({hi}, {lo}, -1)"),
                    vec![LVar {
                        name,
                        lo: lo + 1,
                        hi,
                    }],
                    hi - lo,
                    false,
                )
            }
            _ => {
                if !env.ints.is_empty() && !env.in_lambda && self.chance(30) {
                    let d = self.rng.pick(&env.ints);
                    if d.val >= 1 {
                        return (
                            format!("{name} in range({})", d.text),
                            vec![LVar {
                                name,
                                lo: 0,
                                hi: d.val - 1,
                            }],
                            d.val,
                            false,
                        );
                    }
                }
                let lo = if self.chance(25) {
                    self.rng.range(-3, 2)
                } else {
                    0
                };
                let hi = lo + hi_const;
                let h = if lo == 0 && self.chance(50) {
                    format!("range({hi})")
                } else {
                    format!("range({lo}, {hi})")
                };
                (
                    format!("{name} in {h}"),
                    vec![LVar {
                        name,
                        lo,
                        hi: hi - 1,
                    }],
                    hi_const,
                    false,
                )
            }
        }
    }

    pub(super) fn fresh_loop(&mut self) -> String {
        let base = self.rng.pick(&["i", "j", "k", "u", "v", "c"]);
        self.fresh(base)
    }
}
