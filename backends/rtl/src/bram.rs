//! Block RAM: the memories of more than 1 Kbit, read at the falling edge of the clock.
//!
//! A 7-series block RAM reads at a clock edge (its data is a register); distributed RAM
//! and LUTs read combinationally. The RTL's cycle model reads a memory combinationally:
//! a load in cycle `t` sees every store made at the edge that began `t`, and none made
//! at the edge that ends it. A read port clocked at the *falling* edge in the middle of
//! the cycle gives exactly that value, provided its address is settled by then and
//! stays until the rising edge: the address must come from registers only (loop
//! counters, the FSM, image counters), never from a value another such port reads in the
//! same cycle. So every read of a memory or of a bank is a read site (`ModGen::mem_read`),
//! and when the module is finished each memory (or bank) whose reads all have such
//! addresses, that has one write port (or none: a ROM; a bank's stores from several
//! states or phases are muxed into one) and holds more than 1 Kbit for one image, the estimate's threshold for
//! block RAM (passes/src/analysis/estimate), is declared `(* ram_style = "block" *)` with
//! a register per read site loaded at `negedge clk`; any other keeps its combinational
//! reads (distributed RAM, or LUTs for a ROM).
//!
//! Before (a 61,440 x 4-bit feature map read by a stage's port):
//! ```text
//!     reg [3:0] t6_y_mem [0:61439];
//!     assign c8_p0_x_rd0 = t6_y_mem[half10];
//! ```
//! After:
//! ```text
//!     (* ram_style = "block" *) reg [3:0] t6_y_mem [0:61439];
//!     reg [3:0] rd3;
//!     always @(negedge clk) rd3 <= t6_y_mem[half10];
//!     assign c8_p0_x_rd0 = rd3;
//! ```
//! The cycles are unchanged and every value read is the same (tests/rtl.rs runs every
//! design bit-exactly against the JIT); yosys maps such a memory to RAMB18/RAMB36 with
//! an inverted read clock. The price is timing: the address has half a cycle to settle,
//! the data the other half (docs/rtl.md, "Block RAM").

use crate::module::{ModGen, WriteSrc};
use kiln_passes::ir::TensorId;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// Memories of more bits than this are block RAM when their reads allow it (the
/// estimate's threshold).
pub const BLOCK_RAM_BITS: u64 = 1024;

/// The RAMB18 aspect ratios (words, bits); a RAMB36 holds twice as many words.
const RAMB18_SHAPES: [(u64, u64); 6] = [
    (16384, 1),
    (8192, 2),
    (4096, 4),
    (2048, 9),
    (1024, 18),
    (512, 36),
];

/// RAMB18s (a RAMB36 counting two) holding one copy of an `n` x `w`-bit memory with one
/// write and one read port, in the aspect ratio that needs fewest, as yosys' `memory_libmap`
/// chooses (measured on 13 shapes from 200 x 8 to 61,440 x 4 bits, docs/rtl-synthesis.md);
/// and how many blocks deep that is.
pub fn blocks_per_copy(n: u64, w: u64) -> (u64, u64) {
    RAMB18_SHAPES
        .iter()
        .map(|&(words, bits)| {
            let deep = n.div_ceil(words);
            (w.div_ceil(bits) * deep, deep)
        })
        .min()
        .unwrap_or((0, 0))
}

/// One read of a memory (or of one bank of a banked tensor) of the module.
#[derive(Clone, Debug)]
pub struct MemRead {
    /// The memory (`reg` array) read.
    pub mem: String,
    /// The tensor it holds.
    pub tensor: TensorId,
    /// A frame pipeline's copy of a parameter (written by its copy stage only).
    pub copy: bool,
    /// The bank of `tensor` the memory holds, if it is banked.
    pub bank: Option<usize>,
    /// Words of one image of the memory (a frame pipeline's double buffer holds two;
    /// the estimate counts one), and bits of each.
    pub words: usize,
    pub dw: u32,
    /// The address expression (wires and registers of the module).
    pub addr: String,
    /// The address comes from registers only, settled before the falling edge.
    pub early: bool,
    /// The name of the value read (a wire, or the read register).
    pub name: String,
}

impl ModGen<'_> {
    /// A read of memory `mem` (tensor `t`, or its bank `bank`) at address `addr`: the
    /// name of its value, defined by [`ModGen::finish_mem_reads`]. `copy`: a frame
    /// pipeline's copy of a parameter.
    pub fn mem_read(
        &mut self,
        t: TensorId,
        mem: &str,
        addr: &str,
        early: bool,
        copy: bool,
        bank: Option<usize>,
    ) -> String {
        self.tmp += 1;
        let name = format!("rd{}", self.tmp);
        let len = self.inst.tensor(t).len();
        let words = match bank {
            Some(_) => self.banking(t).map_or(len, |b| b.bank_len()),
            None => len,
        };
        self.mem_reads.push(MemRead {
            mem: mem.to_string(),
            tensor: t,
            copy,
            bank,
            words,
            dw: self.inst.tensor(t).elem.storage_bits(),
            addr: addr.to_string(),
            early,
            name: name.clone(),
        });
        name
    }

    /// Whether the memory of `reads` (all of one memory) is block RAM.
    fn block_ram(&self, reads: &[&MemRead]) -> bool {
        let Some(first) = reads.first() else {
            return false;
        };
        let bits = (first.words as u64).saturating_mul(u64::from(first.dw));
        let multi = self.multi_writes.get(&first.tensor);
        let one_write_port = match first.bank {
            // The states' and phases' stores share one port (module.rs `write_logic`);
            // each store of a chained iteration (or a callee port writing several banks
            // a cycle) is a port of its own.
            Some(k) => {
                let reaches = |s: &&WriteSrc| Self::bank_we(s, k).is_some();
                let shared = self.writes.get(&first.tensor).into_iter().flatten();
                let own = multi.into_iter().flatten().filter(reaches).count();
                own + usize::from(shared.filter(reaches).count() > 0) <= 1
            }
            // The sources share one port (module.rs `write_logic`); a chained
            // iteration's extra writes are ports of their own.
            None => first.copy || multi.is_none_or(Vec::is_empty),
        };
        bits > BLOCK_RAM_BITS && one_write_port && reads.iter().all(|r| r.early)
    }

    /// Defines every read site's value: a register loaded at the falling edge for a
    /// block RAM, a wire otherwise (see the module doc). Returns the memories that are
    /// block RAM.
    pub fn finish_mem_reads(&mut self) -> BTreeSet<String> {
        let reads = std::mem::take(&mut self.mem_reads);
        let mut by_mem: BTreeMap<&str, Vec<&MemRead>> = BTreeMap::new();
        for r in &reads {
            by_mem.entry(r.mem.as_str()).or_default().push(r);
        }
        let mut blocks = BTreeSet::new();
        for (mem, sites) in by_mem {
            let block = self.block_ram(&sites);
            if block {
                blocks.insert(mem.to_string());
                // The memory's declaration: `    reg [W:0] MEM [0:N];`.
                if let Some(at) = self.decls.find(&format!("] {mem} [0:")) {
                    let line = self.decls[..at].rfind('\n').map_or(0, |n| n + 1);
                    self.decls
                        .insert_str(line + 4, "(* ram_style = \"block\" *) ");
                }
            }
            for r in sites {
                let (name, dw, addr) = (&r.name, r.dw, &r.addr);
                if block {
                    let _ = writeln!(self.decls, "    reg [{}:0] {name};", dw - 1);
                    let _ = writeln!(
                        self.assigns,
                        "    always @(negedge clk) {name} <= {mem}[{addr}];"
                    );
                } else {
                    let _ = writeln!(self.decls, "    wire [{}:0] {name};", dw - 1);
                    let _ = writeln!(self.assigns, "    assign {name} = {mem}[{addr}];");
                }
            }
        }
        blocks
    }
}
