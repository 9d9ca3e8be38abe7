//! Tiles of a weight tensor in DDR: which part of the tensor a compute node needs at a time,
//! and the on-chip buffer it copies that part into (ddr.rs moves the tensor off chip).
//!
//! A node reads a weight tensor `x` through affine loads. For a loop `P` around every load
//! (not inside a pipelined or unrolled loop) and a dimension `d`, the loads of one
//! iteration of `P` cover `x[.., start .. start + extent, ..]`, where `start` is an
//! affine form of the counters of `P` and the loops around it and `extent` is a constant:
//! the inner loops' counters are replaced by their extreme values. The tile is that box:
//! the tensor's shape with `extent` in dimension `d`. It is copied at the start of `P`'s
//! body and the loads read the tile at `index[d] - start`. The copy is a flattened nest
//! pipelined over the tile's outer dimensions whose iteration moves a word of
//! consecutive elements that fall in distinct banks of the tile ([`copy_word`]: the
//! innermost dimensions completely partitioned, then one element of each bank of a
//! cyclic dimension), in `ceil(bits / 512)` cycles: the m_axi port reads 512-bit words
//! (`max_widen_bitwidth`, estimate/ `DDR_WORD_BITS`). The tile chosen is the smallest whose copies move at most
//! the tensor once per image, or once per row when the node computes row by row
//! (ir/stage.rs) and the row loop is `P` or around it: a row stage re-runs its nest per
//! row, so a copy there runs once per row whatever its place, and the copy goes into the
//! row loop when the row loop lies inside `P`, so that the IR runs it as often as the
//! hardware does. With no such tile (a data-dependent index, a dense stage fed value by
//! value) the node copies the whole tensor before its loops.
//!
//! VGG16's fourth convolution, row by row (row loop `i1`), with its weights in DDR:
//!
//! ```text
//! before: for i0 in 0..256: for i1 in 0..56: [flatten] for i2 in 0..56: [flatten]
//!             for c_o in 0..32: [pipeline II=1] ... w[i0, c_i, u, v] ...
//! after:  for i0 in 0..256: for i1 in 0..56: [flatten]
//!             for w_t0 in 0..1: for w_t1o in 0..64: [pipeline II=1, flatten]
//!                 for w_t1 in 2*w_t1o..2*w_t1o + 2: for w_t2 in 0..3: for w_t3 in 0..3:
//!                     w_tile[w_t0, w_t1, w_t2, w_t3] = w[i0 + w_t0, w_t1, w_t2, w_t3]
//!             for i2 in 0..56:
//!                 for c_o in 0..32: [pipeline II=1] ... w_tile[i0 - i0, c_i, u, v] ...
//! ```
//!
//! With the weights split cyclic 2 along the input channels (CPF 2) and completely along
//! the kernel window, an iteration moves 18 weights of 16 bits (288 bits, one word). The
//! tile holds 1,152 weights instead of 294,912; the stage reads the tensor from DDR once
//! per output row (56 times per image).

use crate::ir::{
    walk_stmts, Access, Affine, Block, Expr, Instance, Loop, LoopDirectives, LoopVarId, Partition,
    PartitionKind, Stmt, Tensor, TensorId, TensorKind,
};

/// A loop as the tile search sees it: its counter's bounds and whether the hardware
/// pipelines or unrolls it.
#[derive(Clone, Debug)]
struct Head {
    var: LoopVarId,
    lo: Affine,
    hi: Affine,
    step: i64,
    pipelined: bool,
}

impl Head {
    fn of(l: &Loop) -> Head {
        Head {
            var: l.var,
            lo: l.lo.clone(),
            hi: l.hi.clone(),
            step: l.step,
            pipelined: l.directives.pipeline_ii.is_some() || l.directives.unroll.is_some(),
        }
    }
}

/// Where and what a node copies of a weight tensor.
#[derive(Clone, Debug)]
pub(super) struct Tile {
    /// The dimension the tile cuts (its extent there is `extent`; whole in the others).
    pub dim: usize,
    /// The tile's first index in `dim`: an affine form of the counters around the copy.
    pub start: Affine,
    pub extent: usize,
    /// The loop whose body starts with the copy; `None`: before the node's statements.
    pub at: Option<LoopVarId>,
    /// How many times the copy runs per call of the node (per image).
    pub copies: u64,
}

impl Tile {
    /// The whole tensor of shape `shape`, copied once before the node's loops.
    pub fn whole(shape: &[usize]) -> Tile {
        Tile {
            dim: 0,
            start: Affine::constant(0),
            extent: shape.first().copied().unwrap_or(1),
            at: None,
            copies: 1,
        }
    }

    /// The tile's shape for a tensor of shape `shape`.
    pub fn shape(&self, shape: &[usize]) -> Vec<usize> {
        let mut s = shape.to_vec();
        if let Some(e) = s.get_mut(self.dim) {
            *e = self.extent;
        }
        s
    }

    /// Elements the copies move per call: the tile's elements times its copies.
    pub fn traffic(&self, shape: &[usize]) -> u64 {
        let elems: u64 = self.shape(shape).iter().map(|&e| e as u64).product();
        elems.saturating_mul(self.copies)
    }
}

/// The smallest and the largest value of `a` as affine forms of the counters outside
/// `inner` (innermost last): each inner counter replaced by its first or last value.
/// `None` when a loop runs backwards or the arithmetic leaves `i64`.
fn extremes(a: &Affine, inner: &[Head]) -> Option<(Affine, Affine)> {
    let (mut lo, mut hi) = (a.clone(), a.clone());
    for h in inner.iter().rev() {
        for (form, smallest) in [(&mut lo, true), (&mut hi, false)] {
            let k = form.coeff(h.var);
            if k == 0 {
                continue;
            }
            if h.step <= 0 {
                return None;
            }
            let last = h.hi.checked_add_scaled(&Affine::constant(1), -1)?;
            let at = if (k > 0) == smallest { &h.lo } else { &last };
            *form = form
                .checked_add_scaled(&Affine::var(h.var), -k)?
                .checked_add_scaled(at, k)?;
        }
    }
    Some((lo, hi))
}

/// The range of `a` over the loops `heads` (outermost first), as constants.
fn interval(a: &Affine, heads: &[Head]) -> Option<(i64, i64)> {
    let (lo, hi) = extremes(a, heads)?;
    Some((lo.as_constant()?, hi.as_constant()?))
}

/// The most iterations each loop of `heads` runs, multiplied: the runs of a statement at
/// the start of the innermost one's body.
fn runs(heads: &[Head]) -> Option<u64> {
    let mut n: u64 = 1;
    for (i, h) in heads.iter().enumerate() {
        let span = h.hi.checked_add_scaled(&h.lo, -1)?;
        let (_, most) = interval(&span, &heads[..i])?;
        if h.step <= 0 {
            return None;
        }
        let trips = if most <= 0 {
            0
        } else {
            (most as u64).div_ceil(h.step as u64)
        };
        n = n.saturating_mul(trips);
    }
    Some(n)
}

/// Every load of `x` in `body` with the loops around it (outermost first).
fn loads_with_loops(inst: &Instance, body: &Block, x: TensorId) -> Vec<(Access, Vec<Head>)> {
    let mut out = Vec::new();
    walk_stmts(body, &mut Vec::new(), &mut |s, loops| {
        for r in crate::ir::stmt_roots(s) {
            inst.for_each_subexpr_id(r, &mut |_, ex| {
                if let Expr::Load(a) = ex {
                    if a.tensor == x {
                        out.push((a.clone(), loops.iter().map(|l| Head::of(l)).collect()));
                    }
                }
            });
        }
    });
    out
}

/// The tile node `body` copies of `x` (module doc); `row_var` is the node's row loop when
/// its stage computes row by row.
pub(super) fn plan_tile(
    inst: &Instance,
    body: &Block,
    x: TensorId,
    row_var: Option<LoopVarId>,
) -> Tile {
    let shape = inst.tensor(x).shape.clone();
    let whole = Tile::whole(&shape);
    let len = inst.tensor(x).len() as u64;
    let loads = loads_with_loops(inst, body, x);
    if loads.is_empty() {
        return whole;
    }
    // The loops around every load.
    let mut common: Vec<Head> = loads[0].1.clone();
    for (_, heads) in &loads[1..] {
        let same = common
            .iter()
            .zip(heads)
            .take_while(|(a, b)| a.var == b.var)
            .count();
        common.truncate(same);
    }
    let mut best: Option<(u64, u64, Tile)> = None;
    for p in 0..common.len() {
        // The copy goes into `at`: `p`, or the row loop when it lies inside `p`.
        let at = match row_var.and_then(|r| common.iter().position(|h| h.var == r)) {
            Some(r) if r > p => r,
            _ => p,
        };
        if common[..=at].iter().any(|h| h.pipelined) {
            break;
        }
        let Some(copies) = runs(&common[..=at]) else {
            continue;
        };
        // Copies per row are what a row stage pays anyway.
        let allowed = match row_var.and_then(|r| common[..=at].iter().position(|h| h.var == r)) {
            Some(r) => runs(&common[r..=r]).unwrap_or(1).max(1),
            None => 1,
        };
        for dim in 0..shape.len() {
            let Some((start, extent)) = box_in(&loads, dim, at) else {
                continue;
            };
            if extent >= shape[dim] || start.as_constant().is_some() {
                continue;
            }
            // Every tile lies inside the tensor.
            match interval(&start, &common[..=at]) {
                Some((lo, hi)) if lo >= 0 && hi + extent as i64 <= shape[dim] as i64 => {}
                _ => continue,
            }
            let tile = Tile {
                dim,
                start,
                extent,
                at: Some(common[at].var),
                copies,
            };
            let traffic = tile.traffic(&shape);
            if traffic > len.saturating_mul(allowed) {
                continue;
            }
            let elems = traffic / copies.max(1);
            if best
                .as_ref()
                .is_none_or(|(e, t, _)| (elems, traffic) < (*e, *t))
            {
                best = Some((elems, traffic, tile));
            }
        }
    }
    best.map_or(whole, |(_, _, t)| t)
}

/// The box the loads cover in `dim` during one run of the body of loop `at` (the
/// position in every load's loops): its first index (an affine form of the counters of
/// `at` and around it) and its extent.
fn box_in(loads: &[(Access, Vec<Head>)], dim: usize, at: usize) -> Option<(Affine, usize)> {
    let mut spans: Vec<(Affine, Affine)> = Vec::new();
    for (a, heads) in loads {
        if a.dynamic_at(dim).is_some() {
            return None;
        }
        spans.push(extremes(a.index.get(dim)?, &heads[at + 1..])?);
    }
    // The first index: the smallest of the loads' (they differ by constants).
    let first = &spans[0].0;
    let mut lo_off = 0i64;
    for (lo, _) in &spans {
        lo_off = lo_off.min(lo.checked_add_scaled(first, -1)?.as_constant()?);
    }
    let start = first.checked_add_scaled(&Affine::constant(lo_off), 1)?;
    let mut last = 0i64;
    for (_, hi) in &spans {
        last = last.max(hi.checked_add_scaled(&start, -1)?.as_constant()?);
    }
    Some((start, usize::try_from(last.checked_add(1)?).ok()?))
}

/// Builds `tile` of `x` for the node body `body`: a new on-chip tensor `X_tile` (or
/// `X_buf` for the whole tensor) with `parts` cut to its shape, its copy at the tile's
/// place, and the loads of `x` in `body` reading it. Returns the tile tensor.
pub(super) fn build_tile(
    inst: &mut Instance,
    body: &mut Block,
    x: TensorId,
    tile: &Tile,
    parts: &[Partition],
) -> TensorId {
    let xt = inst.tensor(x).clone();
    let shape = tile.shape(&xt.shape);
    let rank = shape.len();
    let suffix = if tile.at.is_some() { "tile" } else { "buf" };
    let buf = inst.add_tensor(Tensor {
        name: format!("{}_{suffix}", xt.name),
        kind: TensorKind::Temp,
        shape: shape.clone(),
        partition: parts
            .iter()
            .filter(|q| q.dim < rank)
            .map(|q| Partition {
                factor: q.factor.min(shape[q.dim] as u32).max(1),
                ..*q
            })
            .map(|q| {
                // A cut dimension of one element needs no banks.
                if shape[q.dim] == 1 && q.kind != PartitionKind::Complete {
                    Partition { factor: 1, ..q }
                } else {
                    q
                }
            })
            .filter(|q| q.kind == PartitionKind::Complete || q.factor > 1)
            .collect(),
        stream_depth: None,
        stream_width: 1,
        bound_to: Vec::new(),
        ..xt.clone()
    });
    for e in crate::ir::loads_of(inst, body, x) {
        if let Expr::Load(a) = &mut inst.exprs[e.index()] {
            a.tensor = buf;
            if tile.at.is_some() {
                a.index[tile.dim] = a.index[tile.dim].add_scaled(&tile.start, -1);
            }
        }
    }
    let word = copy_word(&shape, &inst.tensor(buf).partition, &xt.elem);
    let tag = if tile.at.is_some() { "t" } else { "d" };
    let vars: Vec<LoopVarId> = (0..rank)
        .map(|d| inst.add_loop_var(format!("{}_{tag}{d}", xt.name), xt.span))
        .collect();
    // The split dimension's outer counter: its elements `f * o .. f * o + f`.
    let outer = word
        .split
        .map(|(d, _)| inst.add_loop_var(format!("{}_{tag}{d}o", xt.name), xt.span));
    let src_index: Vec<Affine> = vars
        .iter()
        .enumerate()
        .map(|(d, &v)| {
            if d == tile.dim && tile.at.is_some() {
                tile.start.add_scaled(&Affine::var(v), 1)
            } else {
                Affine::var(v)
            }
        })
        .collect();
    let access = |t: TensorId, index: Vec<Affine>| Access {
        tensor: t,
        index,
        dynamic: Vec::new(),
        checked: false,
        guarded: false,
    };
    let load = inst.add_expr(Expr::Load(access(x, src_index)), xt.span);
    inst.expr_types[load.index()] = Some(xt.elem);
    inst.expr_ranges[load.index()] = xt.range.clone();
    let mut copy = vec![Stmt::Store {
        access: access(buf, vars.iter().map(|&v| Affine::var(v)).collect()),
        value: load,
        span: xt.span,
    }];
    // Innermost first: the dimensions of the word (unrolled inside the pipelined loop),
    // then the pipelined loop, then the loops flattened into it.
    let pipelined = word.pipelined;
    for d in (0..rank).rev() {
        let lp = |var, lo: Affine, hi: Affine, body, directives| {
            Stmt::For(Loop {
                var,
                lo,
                hi,
                step: 1,
                body,
                directives,
                span: xt.span,
            })
        };
        let plain = LoopDirectives {
            pipeline_ii: None,
            unroll: None,
            flatten: false,
        };
        let around = LoopDirectives {
            pipeline_ii: (d == pipelined).then_some(word.ii),
            unroll: None,
            flatten: d > 0,
        };
        match (word.split, outer) {
            (Some((sd, f)), Some(o)) if sd == d => {
                // for o in 0..n/f: [pipeline II=1] for v in f*o..f*o + f: (unrolled)
                let start = Affine::var(o).scale(f as i64);
                let inner = lp(
                    vars[d],
                    start.clone(),
                    start.add_scaled(&Affine::constant(f as i64), 1),
                    copy,
                    plain,
                );
                copy = vec![lp(
                    o,
                    Affine::constant(0),
                    Affine::constant((shape[d] / f) as i64),
                    vec![inner],
                    around,
                )];
            }
            _ => {
                let directives = if d > pipelined { plain } else { around };
                copy = vec![lp(
                    vars[d],
                    Affine::constant(0),
                    Affine::constant(shape[d] as i64),
                    copy,
                    directives,
                )];
            }
        }
    }
    match tile.at {
        None => {
            copy.append(body);
            *body = copy;
        }
        Some(v) => {
            let placed = insert_at(body, v, copy);
            debug_assert!(placed, "the tile's loop is around the loads");
        }
    }
    buf
}

/// How a tile copy moves its elements: the dimensions after `pipelined` are copied whole
/// in one iteration of the pipelined loop, and `split` (a dimension, a factor `f`) splits
/// the pipelined dimension into `n / f` iterations of `f` consecutive elements; `ii` is
/// the iteration's m_axi words.
struct CopyWord {
    pipelined: usize,
    split: Option<(usize, usize)>,
    ii: u32,
}

/// The widest word a tile of `shape` with `parts` takes an iteration: consecutive
/// elements (the innermost dimensions) that fall in distinct banks. Dimensions completely
/// partitioned (or of one element) from the innermost outwards while they fit one m_axi
/// word of `DDR_WORD_BITS`, then the `f` elements of a cyclic dimension of `f` banks (all
/// of them, so that each store's bank is known); the outermost dimension stays a loop.
/// The iteration reads `ceil(bits / DDR_WORD_BITS)` words, its II.
fn copy_word(shape: &[usize], parts: &[Partition], elem: &kiln_numeric::ScalarType) -> CopyWord {
    let bits = crate::estimate::ddr_element_bits(elem);
    let word_bits = crate::estimate::DDR_WORD_BITS;
    let rank = shape.len();
    let mut word = CopyWord {
        pipelined: rank.saturating_sub(1),
        split: None,
        ii: 1,
    };
    let mut elems: u64 = 1;
    for d in (1..rank).rev() {
        let complete = shape[d] == 1
            || parts
                .iter()
                .any(|q| q.dim == d && q.kind == PartitionKind::Complete);
        let n = shape[d] as u64;
        if complete && elems * n * bits <= word_bits {
            elems *= n;
            word.pipelined = d - 1;
            continue;
        }
        word.pipelined = d;
        let f = parts
            .iter()
            .find(|q| q.dim == d && q.kind == PartitionKind::Cyclic)
            .map_or(1, |q| q.factor as usize);
        if f > 1 && shape[d].is_multiple_of(f) {
            word.split = Some((d, f));
            elems *= f as u64;
        }
        break;
    }
    word.ii = (elems * bits).div_ceil(word_bits).max(1) as u32;
    word
}

/// Puts `stmts` at the start of the body of the loop of `v` in `block`; the loops that
/// body held are no longer the only statement there, so none of them is flattened into it.
fn insert_at(block: &mut Block, v: LoopVarId, stmts: Block) -> bool {
    for s in block.iter_mut() {
        let placed = match s {
            Stmt::For(l) if l.var == v => {
                for inner in l.body.iter_mut() {
                    if let Stmt::For(i) = inner {
                        i.directives.flatten = false;
                    }
                }
                let rest = std::mem::take(&mut l.body);
                l.body = stmts.clone();
                l.body.extend(rest);
                true
            }
            Stmt::For(l) => insert_at(&mut l.body, v, stmts.clone()),
            Stmt::If {
                then_block,
                else_block,
                ..
            } => insert_at(then_block, v, stmts.clone()) || insert_at(else_block, v, stmts.clone()),
            _ => false,
        };
        if placed {
            return true;
        }
    }
    false
}
