//! Banked tensors: how a tensor's `partition` directives split it into memories, and
//! which bank an access reaches.
//!
//! The IR's [`Partition`]s split each dimension of a tensor: cyclic by `f` puts index `i`
//! in bank `i mod f` at offset `i / f`; block by `f` puts it in bank `i / b` at offset
//! `i mod b` with `b = ceil(n / f)`; complete gives every index its own bank. A tensor's
//! bank is the row-major combination of its dimensions' banks and its offset within the
//! bank the row-major combination of their offsets, so every bank is a memory of the same
//! length with its own ports.
//!
//! [`Banking::static_bank`] proves the bank of an access from its affine index when every
//! loop counter's coefficient in a cyclic dimension is a multiple of the factor (the
//! counter cannot move the bank: `result[2*i0_o + 1, ...]` is always in bank 1 of a cyclic
//! 2 split), and when partitioned block or complete dimensions have a constant index.
//! [`Banking::reach`] lists the banks an access whose bank moves with the loop counters can
//! reach over their ranges (a sliding window's read `x_buf[c, i + u, j + v]`: 48 of
//! conv_relu's 432): the inputs of the multiplexer that read needs. The RTL back end builds
//! its memories and multiplexers from these; the estimate prices the multiplexers.

use crate::ir::{Affine, Partition, PartitionKind};

/// How one dimension is split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dim {
    /// The dimension's extent.
    pub n: usize,
    /// `None`: not partitioned (one bank).
    pub kind: Option<PartitionKind>,
    /// Banks along this dimension.
    pub banks: usize,
    /// Offsets along this dimension within a bank.
    pub len: usize,
    /// Block size (block partitions only).
    pub blk: usize,
}

/// The banks of one tensor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Banking {
    pub dims: Vec<Dim>,
}

/// The values affine `ix` takes over the counters' `ranges` (modulo `modulus` when
/// given), when some coefficient is a stride (not ±1) and at most [`MAX_INDEX_VALUES`]
/// partial sums need listing; `None` otherwise (the interval of `Affine::range` is then
/// what the caller uses: exact when every step is one) or when a counter's range is not
/// known.
fn index_values(
    ix: &Affine,
    ranges: &[Option<(i64, i64)>],
    modulus: Option<i64>,
) -> Option<Vec<i64>> {
    // Counters with steps of one over whole ranges take every value of the interval.
    if ix.terms.iter().all(|&(_, c)| c.abs() <= 1) {
        return None;
    }
    let reduce = |x: i64| modulus.map_or(x, |m| x.rem_euclid(m));
    let mut values = vec![reduce(ix.constant)];
    for &(v, c) in &ix.terms {
        let (lo, hi) = ranges.get(v.index()).copied().flatten()?;
        // Modulo m the counter's values repeat after m of them.
        let n = hi.checked_sub(lo)?.checked_add(1)?;
        let n = modulus.map_or(n, |m| n.min(m));
        if (values.len() as i64).checked_mul(n)? > MAX_INDEX_VALUES {
            return None;
        }
        let mut next = Vec::with_capacity(values.len() * n as usize);
        for t in lo..lo.checked_add(n)? {
            let step = c.checked_mul(t)?;
            for &x in &values {
                next.push(reduce(x.checked_add(step)?));
            }
        }
        next.sort_unstable();
        next.dedup();
        values = next;
    }
    Some(values)
}

/// The most partial sums [`index_values`] lists.
const MAX_INDEX_VALUES: i64 = 1 << 14;

impl Banking {
    /// The banking of a tensor of `shape` with `parts`, or `None` when it is one bank.
    pub fn of(shape: &[usize], parts: &[Partition]) -> Option<Banking> {
        let mut dims: Vec<Dim> = shape
            .iter()
            .map(|&n| Dim {
                n,
                kind: None,
                banks: 1,
                len: n.max(1),
                blk: n.max(1),
            })
            .collect();
        for p in parts {
            let Some(d) = dims.get_mut(p.dim) else {
                continue;
            };
            let n = d.n.max(1);
            *d = match p.kind {
                PartitionKind::Cyclic => {
                    let f = (p.factor.max(1) as usize).min(n);
                    Dim {
                        n,
                        kind: Some(p.kind),
                        banks: f,
                        len: n.div_ceil(f),
                        blk: 1,
                    }
                }
                PartitionKind::Block => {
                    let blk = n.div_ceil(p.factor.max(1) as usize);
                    Dim {
                        n,
                        kind: Some(p.kind),
                        banks: n.div_ceil(blk),
                        len: blk,
                        blk,
                    }
                }
                PartitionKind::Complete => Dim {
                    n,
                    kind: Some(p.kind),
                    banks: n,
                    len: 1,
                    blk: 1,
                },
            };
        }
        let b = Banking { dims };
        (b.count() > 1).then_some(b)
    }

    /// The number of banks.
    pub fn count(&self) -> usize {
        self.dims.iter().map(|d| d.banks).product()
    }

    /// The elements of one bank.
    pub fn bank_len(&self) -> usize {
        self.dims.iter().map(|d| d.len).product::<usize>().max(1)
    }

    fn strides(ext: impl Iterator<Item = usize> + Clone) -> Vec<i64> {
        let v: Vec<usize> = ext.collect();
        let mut s = vec![1i64; v.len()];
        for d in (0..v.len().saturating_sub(1)).rev() {
            s[d] = s[d + 1] * v[d + 1] as i64;
        }
        s
    }

    pub fn bank_strides(&self) -> Vec<i64> {
        Self::strides(self.dims.iter().map(|d| d.banks))
    }

    pub fn off_strides(&self) -> Vec<i64> {
        Self::strides(self.dims.iter().map(|d| d.len))
    }

    pub fn flat_strides(&self) -> Vec<i64> {
        Self::strides(self.dims.iter().map(|d| d.n))
    }

    /// The bank of an access whose index in dimension `d` is `index[d]` (already with
    /// the unrolled counters substituted) plus a data-dependent part where `dynamic[d]`,
    /// when it is the same for every value of the loop counters; `None` otherwise.
    pub fn static_bank(&self, index: &[Affine], dynamic: &[bool]) -> Option<usize> {
        let mut bank = 0usize;
        for (d, stride) in self.bank_strides().into_iter().enumerate() {
            let dy = dynamic.get(d).copied().unwrap_or(false);
            bank += self.dim_static_bank(d, index.get(d)?, dy)? * stride as usize;
        }
        Some(bank)
    }

    /// The bank along dimension `d` of an index `ix` there (plus a data-dependent part
    /// when `dynamic`), when it is the same for every value of the loop counters (0 for a
    /// dimension that is not partitioned); `None` when it moves.
    pub fn dim_static_bank(&self, d: usize, ix: &Affine, dynamic: bool) -> Option<usize> {
        let dim = self.dims.get(d)?;
        let Some(kind) = dim.kind else {
            return Some(0);
        };
        if dynamic {
            return None;
        }
        let b = match kind {
            PartitionKind::Cyclic => {
                let f = dim.banks as i64;
                if ix.terms.iter().any(|&(_, c)| c.rem_euclid(f) != 0) {
                    return None;
                }
                ix.constant.rem_euclid(f)
            }
            PartitionKind::Block => ix.as_constant()?.div_euclid(dim.blk as i64),
            PartitionKind::Complete => ix.as_constant()?,
        };
        (0..dim.banks as i64).contains(&b).then_some(b as usize)
    }

    /// Whether two accesses at `a` and `b` (affine indices, the unrolled counters
    /// substituted, no data-dependent part) can fall in one bank at different elements
    /// for some value of the counters. `false` when they are the same element, or when in
    /// some partitioned dimension their indices differ by a constant that puts them in
    /// different banks: a multiple of neither... any difference that is not a multiple of
    /// `f` in a cyclic-`f` dimension, any nonzero one in a complete dimension. The reads
    /// of a sliding window over a buffer split cyclic `f >= window` along each of its
    /// dimensions never meet: one read port per bank serves them all.
    pub fn may_meet(&self, a: &[Affine], b: &[Affine]) -> bool {
        let mut same = true;
        for (d, dim) in self.dims.iter().enumerate() {
            let (Some(x), Some(y)) = (a.get(d), b.get(d)) else {
                return true;
            };
            let Some(delta) = x.checked_add_scaled(y, -1).and_then(|e| e.as_constant()) else {
                same = false;
                continue;
            };
            same &= delta == 0;
            let apart = match dim.kind {
                Some(PartitionKind::Cyclic) => delta.rem_euclid(dim.banks as i64) != 0,
                Some(PartitionKind::Complete) => delta != 0,
                Some(PartitionKind::Block) | None => false,
            };
            if apart {
                return false;
            }
        }
        !same
    }

    /// The banks an access whose index in dimension `d` is `index[d]` (the unrolled
    /// counters substituted) can reach, ascending, given the values each loop counter
    /// holds (`ranges`, by `LoopVarId`): per dimension the banks of the values its index
    /// takes (all of them for a data-dependent index or a counter of unknown range), then
    /// their row-major combinations. A window read `x[c, i + u, j + v]` of a tensor split
    /// completely along its rows reaches the 16 rows `u..u + 16` that `i` moves over, not
    /// the 18 of the tensor, and only the channel `c`.
    pub fn reach(
        &self,
        index: &[Affine],
        dynamic: &[bool],
        ranges: &[Option<(i64, i64)>],
    ) -> Vec<usize> {
        let mut banks = vec![0usize];
        for (d, stride) in self.bank_strides().into_iter().enumerate() {
            let Some(here) = self.dim_reach(d, index, dynamic, ranges) else {
                continue;
            };
            let stride = stride as usize;
            banks = banks
                .iter()
                .flat_map(|&k| here.iter().map(move |&b| k + b * stride))
                .collect();
        }
        banks.sort_unstable();
        banks.dedup();
        banks
    }

    /// How many banks [`Banking::reach`] lists, without listing them (the product of
    /// the dimensions' counts).
    pub fn reach_count(
        &self,
        index: &[Affine],
        dynamic: &[bool],
        ranges: &[Option<(i64, i64)>],
    ) -> usize {
        (0..self.dims.len())
            .filter_map(|d| self.dim_reach(d, index, dynamic, ranges))
            .map(|here| here.len())
            .fold(1usize, usize::saturating_mul)
    }

    /// The banks along dimension `d` that the access reaches, ascending (`None` for a
    /// dimension that is not partitioned).
    fn dim_reach(
        &self,
        d: usize,
        index: &[Affine],
        dynamic: &[bool],
        ranges: &[Option<(i64, i64)>],
    ) -> Option<Vec<usize>> {
        let dim = &self.dims[d];
        let kind = dim.kind?;
        let all = || (0..dim.banks).collect::<Vec<usize>>();
        let Some(ix) = index
            .get(d)
            .filter(|_| !dynamic.get(d).copied().unwrap_or(false))
        else {
            return Some(all());
        };
        let Some((lo, hi)) = ix.range(ranges) else {
            return Some(all());
        };
        let in_range = |v: i64| (0..dim.banks as i64).contains(&v).then_some(v as usize);
        // The values themselves when they are few (a strided `2*c_o + 1` takes every
        // other one), else every value of the interval.
        let banks_of = |values: &mut dyn Iterator<Item = i64>| -> Vec<usize> {
            let mut v: Vec<usize> = values
                .filter_map(|x| match kind {
                    PartitionKind::Cyclic => in_range(x.rem_euclid(dim.banks as i64)),
                    PartitionKind::Block => in_range(x.div_euclid(dim.blk as i64)),
                    PartitionKind::Complete => in_range(x),
                })
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let modulus = (kind == PartitionKind::Cyclic).then_some(dim.banks as i64);
        Some(match index_values(ix, ranges, modulus) {
            Some(values) => banks_of(&mut values.into_iter()),
            None => match kind {
                PartitionKind::Cyclic if hi.saturating_sub(lo) >= dim.banks as i64 - 1 => all(),
                PartitionKind::Cyclic => banks_of(&mut (lo..=hi)),
                PartitionKind::Block => {
                    let b = dim.blk as i64;
                    (lo.div_euclid(b).max(0)..=hi.div_euclid(b).min(dim.banks as i64 - 1))
                        .filter_map(in_range)
                        .collect()
                }
                PartitionKind::Complete => (lo.max(0)..=hi.min(dim.banks as i64 - 1))
                    .filter_map(in_range)
                    .collect(),
            },
        })
    }

    /// The offset in its bank of an access whose bank [`Banking::static_bank`] proved, as
    /// an affine form of the counters (no division in hardware): in a cyclic dimension
    /// `(i - b) / f`, exact since every coefficient of `i` and `i - b` is a multiple of `f`.
    pub fn static_offset(&self, index: &[Affine]) -> Option<Affine> {
        let os = self.off_strides();
        let mut off = Affine::constant(0);
        for (d, dim) in self.dims.iter().enumerate() {
            let ix = index.get(d)?;
            let o = match dim.kind {
                None => ix.clone(),
                Some(PartitionKind::Cyclic) => {
                    let f = dim.banks as i64;
                    let b = ix.constant.rem_euclid(f);
                    let mut o = Affine::constant((ix.constant - b) / f);
                    for &(v, c) in &ix.terms {
                        if c % f != 0 {
                            return None;
                        }
                        o = o.add_scaled(&Affine::var(v), c / f);
                    }
                    o
                }
                Some(PartitionKind::Block) => {
                    Affine::constant(ix.as_constant()?.rem_euclid(dim.blk as i64))
                }
                Some(PartitionKind::Complete) => Affine::constant(0),
            };
            off = off.add_scaled(&o, os[d]);
        }
        Some(off)
    }

    /// The bank and the offset in it of the element at row-major position `flat`.
    pub fn locate(&self, flat: usize) -> (usize, usize) {
        let (bs, os) = (self.bank_strides(), self.off_strides());
        let (mut bank, mut off, mut rest) = (0usize, 0usize, flat);
        for (d, dim) in self.dims.iter().enumerate().rev() {
            let n = dim.n.max(1);
            let i = rest % n;
            rest /= n;
            let (b, o) = match dim.kind {
                None => (0, i),
                Some(PartitionKind::Cyclic) => (i % dim.banks, i / dim.banks),
                Some(PartitionKind::Block) => (i / dim.blk, i % dim.blk),
                Some(PartitionKind::Complete) => (i, 0),
            };
            bank += b * bs[d] as usize;
            off += o * os[d] as usize;
        }
        (bank, off)
    }

    /// A human-readable description (`2 banks of 1728`).
    pub fn describe(&self) -> String {
        format!("{} banks of {}", self.count(), self.bank_len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(dim: usize, kind: PartitionKind, factor: u32) -> Partition {
        Partition { dim, kind, factor }
    }

    /// Every element of a few bankings: its bank and offset (computed as the Verilog
    /// does, here in Rust) are unique and `join` gives the element back.
    #[test]
    fn banks_cover_every_element_once() {
        let cases = vec![
            (vec![6, 24, 24], vec![part(0, PartitionKind::Cyclic, 2)]),
            (
                vec![6, 12, 12],
                vec![
                    part(0, PartitionKind::Complete, 0),
                    part(1, PartitionKind::Cyclic, 5),
                    part(2, PartitionKind::Block, 5),
                ],
            ),
            (vec![7], vec![part(0, PartitionKind::Block, 3)]),
        ];
        for (shape, parts) in cases {
            let b = Banking::of(&shape, &parts).expect("banked");
            let n: usize = shape.iter().product();
            let mut seen = std::collections::HashSet::new();
            for flat in 0..n {
                let mut idx = vec![0usize; shape.len()];
                let mut r = flat;
                for d in (0..shape.len()).rev() {
                    idx[d] = r % shape[d];
                    r /= shape[d];
                }
                let (bs, os) = (b.bank_strides(), b.off_strides());
                let (mut bank, mut off) = (0i64, 0i64);
                for (d, dim) in b.dims.iter().enumerate() {
                    let i = idx[d] as i64;
                    let (bd, od) = match dim.kind {
                        None => (0, i),
                        Some(PartitionKind::Cyclic) => (i % dim.banks as i64, i / dim.banks as i64),
                        Some(PartitionKind::Block) => (i / dim.blk as i64, i % dim.blk as i64),
                        Some(PartitionKind::Complete) => (i, 0),
                    };
                    bank += bd * bs[d];
                    off += od * os[d];
                }
                assert!((bank as usize) < b.count() && (off as usize) < b.bank_len());
                assert_eq!(b.locate(flat), (bank as usize, off as usize));
                assert!(seen.insert((bank, off)), "{shape:?} {flat}");
                // join, evaluated by substituting numbers into the same arithmetic
                let mut back = 0i64;
                let fs = b.flat_strides();
                for (d, dim) in b.dims.iter().enumerate() {
                    let bd = (bank / bs[d]) % dim.banks as i64;
                    let od = (off / os[d]) % dim.len as i64;
                    let i = match dim.kind {
                        None => od,
                        Some(PartitionKind::Cyclic) => od * dim.banks as i64 + bd,
                        Some(PartitionKind::Block) => bd * dim.blk as i64 + od,
                        Some(PartitionKind::Complete) => bd,
                    };
                    back += i * fs[d];
                }
                assert_eq!(back, flat as i64);
            }
        }
    }

    /// The bank of element `idx` (as the Verilog computes it).
    fn bank_of(b: &Banking, idx: &[i64]) -> usize {
        let bs = b.bank_strides();
        let mut bank = 0i64;
        for (d, dim) in b.dims.iter().enumerate() {
            let i = idx[d];
            bank += bs[d]
                * match dim.kind {
                    None => 0,
                    Some(PartitionKind::Cyclic) => i % dim.banks as i64,
                    Some(PartitionKind::Block) => i / dim.blk as i64,
                    Some(PartitionKind::Complete) => i,
                };
        }
        bank as usize
    }

    /// `reach` holds the bank of every element an access can touch over its counters'
    /// ranges (checked by enumerating them), and for conv_relu's window read of a buffer
    /// split completely along channels and columns and cyclic 3 along rows it is the
    /// 3 x 16 banks the window moves over, not all 432.
    #[test]
    fn reach_covers_every_bank_an_access_touches() {
        let (i, j) = (crate::ir::LoopVarId(0), crate::ir::LoopVarId(1));
        let ranges = vec![Some((0, 15)), Some((0, 15))];
        let window = Banking::of(
            &[8, 18, 18],
            &[
                part(0, PartitionKind::Complete, 0),
                part(1, PartitionKind::Cyclic, 3),
                part(2, PartitionKind::Complete, 0),
            ],
        )
        .unwrap();
        let blocked = Banking::of(
            &[6, 24, 24],
            &[
                part(1, PartitionKind::Block, 4),
                part(2, PartitionKind::Cyclic, 4),
            ],
        )
        .unwrap();
        // A strided index reaches only the banks of the values it takes: `2*i + 1` the
        // odd channels of a complete split, `2*j` the even banks of a cyclic 4 one.
        let strided = Banking::of(
            &[32, 32],
            &[
                part(0, PartitionKind::Complete, 0),
                part(1, PartitionKind::Cyclic, 4),
            ],
        )
        .unwrap();
        let shifted = |v, c| Affine::var(v).add_scaled(&Affine::constant(1), c);
        let cases = vec![
            (
                &strided,
                vec![
                    Affine::var(i)
                        .add_scaled(&Affine::var(i), 1)
                        .add_scaled(&Affine::constant(1), 1),
                    Affine::var(j).add_scaled(&Affine::var(j), 1),
                ],
                Some(16 * 2),
            ),
            (
                &window,
                vec![Affine::constant(5), shifted(i, 2), shifted(j, 1)],
                Some(48),
            ),
            (
                &window,
                vec![
                    Affine::constant(0),
                    Affine::var(i).add_scaled(&Affine::var(i), 2),
                    shifted(j, 0),
                ],
                Some(16),
            ),
            (
                &blocked,
                vec![
                    Affine::constant(1),
                    shifted(i, 3),
                    Affine::var(j).add_scaled(&Affine::var(j), 1),
                ],
                None,
            ),
            (
                &blocked,
                vec![
                    Affine::var(i).add_scaled(&Affine::constant(1), -10),
                    shifted(i, 0),
                    shifted(j, 2),
                ],
                None,
            ),
        ];
        for (b, index, want) in cases {
            let reach = b.reach(&index, &[], &ranges);
            assert_eq!(b.reach_count(&index, &[], &ranges), reach.len());
            assert!(reach.windows(2).all(|w| w[0] < w[1]), "{reach:?}");
            for vi in 0..16 {
                for vj in 0..16 {
                    let at = |a: &Affine| {
                        a.constant
                            + a.terms
                                .iter()
                                .map(|&(v, c)| c * if v == i { vi } else { vj })
                                .sum::<i64>()
                    };
                    let idx: Vec<i64> = index.iter().map(at).collect();
                    if idx
                        .iter()
                        .zip(&b.dims)
                        .any(|(&x, d)| x < 0 || x >= d.n as i64)
                    {
                        continue;
                    }
                    let k = bank_of(b, &idx);
                    assert!(reach.contains(&k), "bank {k} of {idx:?} not in {reach:?}");
                }
            }
            if let Some(n) = want {
                assert_eq!(reach.len(), n, "{reach:?}");
            }
        }
        // A data-dependent dimension or a counter of unknown range reaches every bank.
        let index = [Affine::constant(5), shifted(i, 2), shifted(j, 1)];
        assert_eq!(
            window.reach(&index, &[false, false, true], &ranges).len(),
            3 * 18
        );
        assert_eq!(window.reach(&index, &[], &[None, None]).len(), 3 * 18);
    }

    /// The reads of a 3 x 3 window over a buffer split cyclic 3 along rows and columns
    /// never meet in a bank; two reads a multiple of 3 apart, or apart along a dimension
    /// that is not split, may; the same element is no conflict.
    #[test]
    fn window_reads_meet_in_no_bank() {
        let (i, j) = (crate::ir::LoopVarId(0), crate::ir::LoopVarId(1));
        let b = Banking::of(
            &[4, 12, 12],
            &[
                part(1, PartitionKind::Cyclic, 3),
                part(2, PartitionKind::Cyclic, 3),
            ],
        )
        .unwrap();
        let at = |c: i64, u: i64, v: i64| {
            vec![
                Affine::constant(c),
                Affine::var(i).add_scaled(&Affine::constant(1), u),
                Affine::var(j).add_scaled(&Affine::constant(1), v),
            ]
        };
        for p in 0..9 {
            for q in 0..9 {
                let meet = b.may_meet(&at(0, p / 3, p % 3), &at(0, q / 3, q % 3));
                assert!(!meet, "{p} {q}");
            }
        }
        assert!(b.may_meet(&at(0, 0, 0), &at(0, 3, 0)));
        assert!(b.may_meet(&at(0, 0, 0), &at(1, 0, 0)));
        let moved = vec![Affine::constant(0), Affine::var(j), Affine::var(i)];
        assert!(b.may_meet(&at(0, 0, 0), &moved));
    }

    #[test]
    fn static_banks_of_blocked_channels() {
        let b = Banking::of(&[6, 24, 24], &[part(0, PartitionKind::Cyclic, 2)]).unwrap();
        let v = crate::ir::LoopVarId(0);
        let w = crate::ir::LoopVarId(1);
        let ch = Affine::var(v).add_scaled(&Affine::constant(1), 0);
        let two = Affine::constant(1).add_scaled(&Affine::var(v), 2);
        let row = Affine::var(w);
        assert_eq!(
            b.static_bank(&[two.clone(), row.clone(), row.clone()], &[]),
            Some(1)
        );
        assert_eq!(b.static_bank(&[ch, row.clone(), row.clone()], &[]), None);
        assert_eq!(
            b.static_bank(
                &[two.clone(), row.clone(), row.clone()],
                &[true, false, false]
            ),
            None
        );
        // Element (2v + 1, w, w) is at offset v * 576 + w * 24 + w of bank 1: affine.
        let off = b.static_offset(&[two, row.clone(), row]).unwrap();
        for (vv, ww) in [(0i64, 0i64), (1, 3), (2, 23)] {
            let got = off.constant
                + off
                    .terms
                    .iter()
                    .map(|&(x, c)| c * if x == v { vv } else { ww })
                    .sum::<i64>();
            assert_eq!(got, vv * 576 + ww * 25, "{off:?}");
        }
    }
}
