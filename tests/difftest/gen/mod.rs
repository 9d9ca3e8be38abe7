//! The program generator: random, well-typed kiln programs with their input data.
//!
//! A program is built top-down while a small model of kiln's typing is kept for every
//! value (see [`model::T`]): the kind (bool, f32, exact), for exact values an upper bound
//! of the magnitude (`|v| <= 2^m`), the number of fractional bits exactly as kiln counts
//! them, and the *class* the front end sees (integer, fixed point, or unknown for type
//! variables).
//! The model is what keeps programs valid: `//`, `%` and bitwise operators only get
//! integer operands, `/` gets a divisor that can never be zero and an operand with
//! fraction bits, values that would grow past a few hundred bits are narrowed by a
//! conversion, f32 never mixes with exact values without one, every index is either
//! provably in bounds from the loop bounds or guarded by a condition, every tensor is
//! fully written before it is read, and every scalar is assigned on every path before
//! it is read.
//!
//! Everything random is drawn from one [`Rng`], so `(seed, case)` determines the case.
//!
//! The modules: the models of values, shapes and scopes (`model`, `shape`, `env`); types,
//! literals, inputs and their data (`types`, `literals`, `inputs`, `data`); expressions
//! (`expr` for exact values, with `arith`, `convert`, `narrowing`, `lut` and `reduce`;
//! `f32`, `boolean`, `tensor_expr`, and `index` for indices and views); statements
//! (`stmt`, `local_tensor`, `tensor_stmt`, `accumulate`, `loops`, `while_loop`, `def`,
//! `helper_call`, `stdlib_call`); the whole program (`program`); and the compiler bugs
//! the generator found (`bugs`).
//!
//! `network` is a second generator on the same machinery: random layer pipelines of
//! stdlib.nn layers (tests/layer_pipelines.rs).

mod accumulate;
mod arith;
mod boolean;
mod bugs;
mod convert;
mod data;
mod def;
mod env;
mod expr;
mod f32;
mod f64;
mod helper_call;
mod index;
mod inputs;
mod kernel_loop;
mod literals;
mod local_tensor;
mod loops;
mod lut;
mod model;
mod narrowing;
mod network;
mod program;
mod reduce;
mod shape;
mod stdlib_call;
mod stmt;
mod tensor_expr;
mod tensor_stmt;
mod types;
mod while_loop;

pub use bugs::{FIXED_BUGS, KNOWN_BUGS};
// Used by tests/layer_pipelines.rs, not by tests/differential.rs.
#[allow(unused_imports)]
pub use network::{generate_network, Network};

use super::Rng;
use env::Var;
use model::Elem;
use shape::Dim;
use std::collections::{BTreeMap, BTreeSet};

/// Generator settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// Ids of `KNOWN_BUGS` whose constructs are avoided.
    pub avoid: Vec<&'static str>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            avoid: KNOWN_BUGS.iter().map(|b| b.0).collect(),
        }
    }
}

/// One generated test case.
#[derive(Clone, Debug)]
pub struct Case {
    pub seed: u64,
    pub case: u64,
    /// The source of `main.kiln`.
    pub source: String,
    /// Data files written next to `main.kiln`: (file name, bytes).
    pub files: Vec<(String, Vec<u8>)>,
    /// `--input NAME=FILE` arguments (file names relative to the case directory).
    pub inputs: Vec<(String, String)>,
    /// How many times each feature was generated.
    pub features: BTreeMap<String, usize>,
}

/// Generates case `case` of seed `seed`.
pub fn generate(seed: u64, case: u64, cfg: &Config) -> Case {
    let mut g = Gen::new(Rng::for_case(seed, case), cfg.clone());
    let source = g.program();
    Case {
        seed,
        case,
        source,
        files: g.files,
        inputs: g.cli_inputs,
        features: g.feats,
    }
}

/// The generator of one case: its random stream, and the parts of the program written
/// so far.
struct Gen {
    rng: Rng,
    cfg: Config,
    feats: BTreeMap<String, usize>,
    next_id: usize,
    /// `type`, `const` and `param` items, in order.
    items: Vec<String>,
    helpers: Vec<String>,
    imports: BTreeSet<&'static str>,
    files: Vec<(String, Vec<u8>)>,
    cli_inputs: Vec<(String, String)>,
    /// Rendered parameters of `main`.
    main_params: Vec<String>,
    /// Module params and consts, visible in every kernel.
    globals: Vec<Var>,
    consts: Vec<Dim>,
    /// Element type aliases defined so far.
    aliases: Vec<(String, Elem)>,
    helper_budget: usize,
    /// Values wider than this are narrowed by a conversion.
    max_cost: i32,
}

/// The widest intermediate (in bits, roughly) of a case that allows wide arithmetic;
/// other cases keep every intermediate within 128 bits (operands of at most
/// `NARROW_COST` bits), which is what the JIT compiles.
const WIDE_COST: i32 = 240;
const NARROW_COST: i32 = 56;
/// The most iterations a loop nest (with its enclosing loops) may run.
const MAX_TRIPS: i64 = 3000;

impl Gen {
    fn new(rng: Rng, cfg: Config) -> Gen {
        Gen {
            rng,
            cfg,
            feats: BTreeMap::new(),
            next_id: 0,
            items: Vec::new(),
            helpers: Vec::new(),
            imports: BTreeSet::new(),
            files: Vec::new(),
            cli_inputs: Vec::new(),
            main_params: Vec::new(),
            globals: Vec::new(),
            consts: Vec::new(),
            aliases: Vec::new(),
            helper_budget: 2,
            max_cost: NARROW_COST,
        }
    }

    /// Whether the construct of bug `id` is avoided (only open bugs, `KNOWN_BUGS`, are).
    fn avoid(&self, id: &str) -> bool {
        debug_assert!(
            KNOWN_BUGS.iter().chain(FIXED_BUGS).any(|b| b.0 == id),
            "unknown bug id {id}"
        );
        self.cfg.avoid.contains(&id)
    }

    /// Counts feature `name` once more.
    fn f(&mut self, name: impl Into<String>) {
        *self.feats.entry(name.into()).or_insert(0) += 1;
    }

    /// A new name starting with `prefix`.
    fn fresh(&mut self, prefix: &str) -> String {
        loop {
            self.next_id += 1;
            let name = format!("{prefix}{}", self.next_id);
            // `f32` is a keyword.
            if name != "f32" {
                return name;
            }
        }
    }

    fn chance(&mut self, p: u32) -> bool {
        self.rng.chance(p)
    }
}
