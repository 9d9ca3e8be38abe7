//! Low-bit reductions in the HLS C++ (ELB-NN's engine): sums of `bin` × `bin` products as
//! XNOR and popcount over 64-value words, sums with trits (`tern`, or a padded copy of a
//! `bin` input) as masked popcounts of two-bit words, found by
//! `kiln_passes::analysis::bin_reduction`.
//!
//! Constant operands (weights) are packed at compile time into ROM tables of the weights
//! header (`w_w_pk1`, and `w_w_pk1_m` for a trit's nonzero mask); the others are packed
//! by a loop just before the loop nest that reads them, as they are read, or, in a row
//! stage (kernel/rows.rs), row by row as each row of the image arrives, into the slots of
//! its line buffer ([`Plan::for_rows`], [`row_packing_loops`]). The reduction loop then
//! counts words:
//!
//! ```text
//! for c in 0..128:                          for (int c = 0; c < 2; c += 1) {
//!     for u, v in grid(3, 3):                   ...
//!         acc += x[c, i+u, j+v] * w[k, c, u, v]     acc = acc + bin_dot(pk_x[i+u][j+v][c],
//!                                                       w_w_pk1[k][u][v][c], word_bits(c, 128))
//! ```
//!
//! What the C++ computes per word, n the values in it (`kiln_hls.h`):
//! - bin × bin: `2 * popcount(~(x ^ w) & mask(n)) - n` (XNOR, popcount);
//! - trit × bin: `popcount(m) - 2 * popcount(m & ~(s ^ b))` (m nonzero mask, s sign bits);
//! - trit × trit: `popcount(m) - 2 * popcount(m & (s1 ^ s2))` with m = m1 & m2.
//!
//! A window reduction (a depthwise convolution's `x[c, i + u, j + v] * w[c, u, v]` over
//! `v`) reads the packed row of x (at most 64 values) at the window's offset:
//! `kiln::window(row, j, n)`.
//!
//! Other products with a `bin` or `tern` operand are selects, not multiplications
//! (`kiln::sel_mul`: 0, x or -x).

use kiln_passes::analysis::bin_reduction::{self, Bits, LowBitDot, Packing, WORD};
use kiln_passes::ir::stage::RowPlan;
use kiln_passes::ir::{
    ExprId, Instance, InstanceId, LoopVarId, Module, Node, Stmt, TensorId, TensorKind, Value,
};
use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use crate::kernel::ConstNames;
use crate::types::ident;

/// The low-bit reductions of one instance and the packed words they read.
#[derive(Default)]
pub struct Plan {
    dots: Vec<LowBitDot>,
    /// Packings run before a node body's top-level statement (by its address).
    prologues: HashMap<*const Stmt, Vec<Packing>>,
    /// Run-time packings whose buffers are already declared.
    declared: HashSet<String>,
    /// A row stage's images packed row by row (instead of before a node).
    row_packs: Vec<Packing>,
}

/// The C++ name of a packing's sign/bit words (its mask words add `_m`); `cname` is the
/// tensor's C++ name in the function (unique, unlike IR names of fused temporaries).
pub fn pack_name(inst: &Instance, consts: &ConstNames, p: &Packing, cname: &str) -> String {
    match &inst.tensor(p.tensor).kind {
        TensorKind::Const(c) => {
            let rom = consts.get(&c.index()).cloned().unwrap_or_default();
            format!("{rom}_pk{}", p.dim)
        }
        _ => format!("pk_{}_{}", ident(cname), p.dim),
    }
}

impl Plan {
    pub fn new(inst: &Instance) -> Plan {
        let mut plan = Plan::default();
        for n in inst.graph.node_weights() {
            let Node::Compute(c) = n else { continue };
            for d in bin_reduction::find(inst, &c.body) {
                let key = &c.body[d.top] as *const Stmt;
                let list = plan.prologues.entry(key).or_default();
                for (_, p) in &d.operands {
                    let rom = matches!(inst.tensor(p.tensor).kind, TensorKind::Const(_));
                    if !rom && !list.contains(p) {
                        list.push(p.clone());
                    }
                }
                plan.dots.push(d);
            }
        }
        plan
    }

    /// The low-bit reductions of a row stage (kernel/rows.rs): those whose operands are
    /// constants (packed in ROMs) or images the stage holds in line buffers, packed along
    /// their channels or their width (not their rows) as each row arrives
    /// ([`Plan::row_packs`], [`row_packing_loops`]). A reduction with another operand (a
    /// tile of weights copied from DDR) keeps its products as selects.
    pub fn for_rows(inst: &Instance, rows: &RowPlan) -> Plan {
        let mut plan = Plan::default();
        for n in inst.graph.node_weights() {
            let Node::Compute(c) = n else { continue };
            for d in bin_reduction::find(inst, &c.body) {
                let rom = |p: &Packing| matches!(inst.tensor(p.tensor).kind, TensorKind::Const(_));
                let streamed = |p: &Packing| {
                    rows.rows_of(p.tensor).is_some()
                        && p.dim != 1
                        && inst.tensor(p.tensor).shape.len() == 3
                };
                if !d.operands.iter().all(|(_, p)| rom(p) || streamed(p)) {
                    continue;
                }
                for (_, p) in &d.operands {
                    if !rom(p) && !plan.row_packs.contains(p) {
                        plan.row_packs.push(p.clone());
                    }
                }
                plan.dots.push(d);
            }
        }
        plan
    }

    /// The images of a row stage packed row by row, as their rows arrive.
    pub fn row_packs(&self) -> &[Packing] {
        &self.row_packs
    }

    pub fn by_var(&self, v: LoopVarId) -> Option<&LowBitDot> {
        self.dots.iter().find(|d| d.var == v)
    }

    pub fn by_value(&self, e: ExprId) -> Option<&LowBitDot> {
        self.dots.iter().find(|d| d.value == e)
    }

    /// Whether operands are packed before statement `s`.
    pub fn has_prologue(&self, s: &Stmt) -> bool {
        self.prologues.contains_key(&(s as *const Stmt))
    }

    /// The packings to run before top-level statement `s`; each buffer's declaration is
    /// returned with the first one.
    pub fn prologue(
        &mut self,
        inst: &Instance,
        consts: &ConstNames,
        s: &Stmt,
        src: &dyn Fn(TensorId) -> String,
    ) -> Vec<String> {
        let Some(list) = self.prologues.get(&(s as *const Stmt)).cloned() else {
            return Vec::new();
        };
        let mut lines = Vec::new();
        for p in list {
            let cname = src(p.tensor);
            let name = pack_name(inst, consts, &p, &cname);
            let declare = self.declared.insert(name.clone());
            lines.extend(packing_loops(inst, &p, &name, &cname, declare));
        }
        lines
    }
}

/// The loops that pack tensor `p.tensor` (named `src` in C++) along `p.dim`.
fn packing_loops(
    inst: &Instance,
    p: &Packing,
    name: &str,
    src: &str,
    declare: bool,
) -> Vec<String> {
    let t = inst.tensor(p.tensor);
    let shape = &t.shape;
    let n = shape[p.dim];
    let words = p.words(inst);
    let dims: String = p.shape(inst).iter().map(|d| format!("[{d}]")).collect();
    let mut out = Vec::new();
    let kind = match p.bits {
        Bits::Bin => "bin: the storage bit",
        Bits::Trit => "trit: sign bits, and nonzero bits in `_m`",
    };
    out.push(format!(
        "// `{}` packed along dimension {} into words of {WORD} values ({kind})",
        t.name, p.dim
    ));
    if declare {
        out.push(format!("static kiln::word {name}{dims};"));
        if p.bits == Bits::Trit {
            out.push(format!("static kiln::word {name}_m{dims};"));
        }
    }
    // Loops over the other dimensions, then the words.
    let mut idx_src = Vec::new();
    let mut idx_pack = String::new();
    let mut depth = 0;
    let label = |depth: usize| {
        // (a buffer packed again later keeps its first loop's label)
        if depth == 0 && declare {
            format!("L_pack_{name}: ")
        } else {
            String::new()
        }
    };
    for (d, &extent) in shape.iter().enumerate() {
        if d == p.dim {
            idx_src.push(format!("{WORD} * pq + pb"));
            continue;
        }
        let v = format!("p{d}");
        out.push(format!(
            "{}{}for (int {v} = 0; {v} < {extent}; {v} += 1) {{",
            "    ".repeat(depth),
            label(depth)
        ));
        depth += 1;
        idx_src.push(v.clone());
        let _ = write!(idx_pack, "[{v}]");
    }
    let ind = |k: usize| "    ".repeat(k);
    out.push(format!(
        "{}{}for (int pq = 0; pq < {words}; pq += 1) {{",
        ind(depth),
        label(depth)
    ));
    depth += 1;
    let elem = format!(
        "{src}{}",
        idx_src.iter().map(|i| format!("[{i}]")).collect::<String>()
    );
    let dst = format!("{idx_pack}[pq]");
    out.extend(
        word_body(p, &elem, n, name, &dst)
            .into_iter()
            .map(|l| format!("{}{l}", ind(depth))),
    );
    for k in (0..depth).rev() {
        out.push(format!("{}}}", ind(k)));
    }
    out
}

/// The body of a packing loop over words `pq`: word `pq` of `n` values (`elem`, a C++
/// element naming `pb`, the value's place in the word) packed into `name{dst}` (and its
/// mask into `name_m{dst}` for trits), pipelined at one word a cycle.
fn word_body(p: &Packing, elem: &str, n: usize, name: &str, dst: &str) -> Vec<String> {
    let mut out = vec![
        "KILN_PRAGMA(HLS PIPELINE II=1)".to_string(),
        "kiln::word b = 0, m = 0;".to_string(),
        "(void)m;".to_string(),
        format!("for (int pb = 0; pb < {WORD}; pb += 1) {{"),
        "    KILN_PRAGMA(HLS UNROLL)".to_string(),
        format!("    if ({WORD} * pq + pb < {n}) {{"),
    ];
    match p.bits {
        Bits::Bin => out.push(format!(
            "        b = kiln::set_bit(b, pb, !kiln::is_neg(kiln::bin_val({elem})));"
        )),
        Bits::Trit => {
            out.push(format!(
                "        m = kiln::set_bit(m, pb, !kiln::is_zero(kiln::val({elem})));"
            ));
            out.push(format!(
                "        b = kiln::set_bit(b, pb, kiln::is_neg(kiln::val({elem})));"
            ));
        }
    }
    out.push("    }".to_string());
    out.push("}".to_string());
    out.push(format!("{name}{dst} = b;"));
    if p.bits == Bits::Trit {
        out.push(format!("{name}_m{dst} = m;"));
    }
    out
}

/// The shape of the packed buffer of image `p.tensor` in a row stage that holds `rows` of
/// its rows: the packed shape with the row dimension cut to `rows` slots.
pub fn row_pack_shape(inst: &Instance, p: &Packing, rows: usize) -> Vec<usize> {
    let mut shape = p.shape(inst);
    // The row dimension (1) comes after the packed one's removal at 0 or 1.
    let at = if p.dim == 0 { 0 } else { 1 };
    shape[at] = rows;
    shape
}

/// The loops that pack row `row` (a C++ expression) of image `p.tensor` [C, H, W], held
/// in `src` with its row in slot `row % rows`, into the same slot of its packed buffer
/// `name` ([`row_pack_shape`]).
pub fn row_packing_loops(
    inst: &Instance,
    p: &Packing,
    name: &str,
    src: &str,
    row: &str,
    rows: usize,
) -> Vec<String> {
    let t = inst.tensor(p.tensor);
    let (n, other) = (t.shape[p.dim], if p.dim == 0 { 2 } else { 0 });
    let words = p.words(inst);
    let slot = if rows == 1 {
        "0".to_string()
    } else {
        format!("({row}) % {rows}")
    };
    let elem = |c: &str, w: &str| format!("{src}[{c}][{slot}][{w}]");
    let (c_of, w_of) = if p.dim == 0 {
        (format!("{WORD} * pq + pb"), "po".to_string())
    } else {
        ("po".to_string(), format!("{WORD} * pq + pb"))
    };
    let dst = if p.dim == 0 {
        format!("[{slot}][po][pq]")
    } else {
        format!("[po][{slot}][pq]")
    };
    let value = elem(&c_of, &w_of);
    let mut out = vec![
        format!(
            "// row {row} of `{}` packed along dimension {} into words of {WORD} values",
            t.name, p.dim
        ),
        format!("for (int po = 0; po < {}; po += 1) {{", t.shape[other]),
        format!("    for (int pq = 0; pq < {words}; pq += 1) {{"),
    ];
    out.extend(
        word_body(p, &value, n, name, &dst)
            .into_iter()
            .map(|l| format!("        {l}")),
    );
    out.push("    }".to_string());
    out.push("}".to_string());
    out
}

/// The word term of a reduction: the sum of the products in one word (a C++ int).
/// `words[k]` is operand k's word in C++: its sign/bit word and its mask word (trits).
pub fn dot_term(d: &LowBitDot, words: [(String, String); 2], q: &str) -> String {
    let [(x, xm), (w, wm)] = words;
    let bits = |k: usize| d.operands[k].1.bits;
    match (bits(0), bits(1)) {
        (Bits::Bin, Bits::Bin) => format!("kiln::bin_dot({x}, {w}, kiln::word_bits({q}, {}))", d.n),
        (Bits::Trit, Bits::Bin) => format!("kiln::trit_bin_dot({xm}, {x}, {w})"),
        (Bits::Bin, Bits::Trit) => format!("kiln::trit_bin_dot({wm}, {w}, {x})"),
        (Bits::Trit, Bits::Trit) => format!("kiln::trit_dot({xm}, {x}, {wm}, {w})"),
    }
}

/// An operand's words of word `q` in C++, from its packed row `base` (the packed tensor's
/// name and the indices of the other dimensions, `name[i][j]`) and its mask row `base_m`:
/// `base[q]`, or for a window at `offset` `window(base[0], offset, n)` (the row's bits
/// from the offset on, n of them).
pub fn operand_words(
    n: i64,
    (base, base_m): (&str, &str),
    q: &str,
    offset: Option<String>,
) -> (String, String) {
    match offset {
        None => (format!("{base}[{q}]"), format!("{base_m}[{q}]")),
        Some(off) => (
            format!("kiln::window({base}[0], {off}, {n})"),
            format!("kiln::window({base_m}[0], {off}, {n})"),
        ),
    }
}

/// The packed ROM tables of the constant operands of every low-bit reduction in the
/// module's instances (`order`), for the weights header.
pub fn packed_roms(module: &Module, order: &[InstanceId], consts: &ConstNames) -> String {
    let mut out = String::new();
    let mut done = HashSet::new();
    for &id in order {
        let inst = module.instance(id);
        for n in inst.graph.node_weights() {
            let Node::Compute(c) = n else { continue };
            for d in bin_reduction::find(inst, &c.body) {
                for (_, p) in &d.operands {
                    let TensorKind::Const(cid) = &inst.tensor(p.tensor).kind else {
                        continue;
                    };
                    let name = pack_name(inst, consts, p, "");
                    if !done.insert(name.clone()) {
                        continue;
                    }
                    let cd = &module.consts[cid.index()];
                    rom_words(&mut out, &name, &cd.shape, &cd.values, p);
                }
            }
        }
    }
    out
}

/// One packed ROM (and its mask ROM for trits) from a constant's values.
fn rom_words(out: &mut String, name: &str, shape: &[usize], values: &[Value], p: &Packing) {
    let n = shape[p.dim];
    let words = n.div_ceil(WORD as usize);
    let inner: usize = shape[p.dim + 1..].iter().product();
    let outer: usize = shape[..p.dim].iter().product();
    let mut signs = Vec::new();
    let mut masks = Vec::new();
    let value = |i: usize| match &values[i] {
        Value::Num(x) => {
            if x.is_negative() {
                -1
            } else if x.is_zero() {
                0
            } else {
                1
            }
        }
        _ => 0,
    };
    // Packed order: the dimensions before `dim`, those after it, then the words.
    for o in 0..outer {
        for r in 0..inner {
            for q in 0..words {
                let (mut s, mut m) = (0u64, 0u64);
                for b in 0..WORD as usize {
                    let c = q * WORD as usize + b;
                    if c >= n {
                        break;
                    }
                    let v = value((o * n + c) * inner + r);
                    match p.bits {
                        Bits::Bin => s |= u64::from(v > 0) << b,
                        Bits::Trit => {
                            s |= u64::from(v < 0) << b;
                            m |= u64::from(v != 0) << b;
                        }
                    }
                }
                signs.push(s);
                masks.push(m);
            }
        }
    }
    let mut dims: Vec<usize> = shape.to_vec();
    dims.remove(p.dim);
    dims.push(words);
    let dims: String = dims.iter().map(|d| format!("[{d}]")).collect();
    let what = match p.bits {
        Bits::Bin => "bits (1 for +1)",
        Bits::Trit => "sign bits (1 for -1)",
    };
    let mut table = |tname: &str, words: &[u64], what: &str| {
        let _ = writeln!(
            out,
            "// packed along dimension {} into {WORD}-value words: {what}",
            p.dim
        );
        let _ = writeln!(out, "typedef kiln::word {tname}_t;");
        let _ = write!(
            out,
            "KILN_ROM({tname}_t, unsigned long long, {tname}, {dims}) = {{"
        );
        for (i, w) in words.iter().enumerate() {
            if i % 4 == 0 {
                out.push_str("\n    ");
            }
            let _ = write!(out, "0x{w:016x}ULL, ");
        }
        out.push_str("\n};\n");
        let _ = writeln!(out, "KILN_ROM_END({tname}_t, {tname}, {dims});");
    };
    table(name, &signs, what);
    if p.bits == Bits::Trit {
        table(&format!("{name}_m"), &masks, "nonzero bits");
    }
}
