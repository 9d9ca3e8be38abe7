//! The memory a run needs, checked against what the machine (and the process's limits)
//! can give before anything is allocated: a kernel whose tensors do not fit gets a
//! diagnostic (E0706) instead of an abort or a panic inside an allocator.
//!
//! The need is an estimate from the module's tensors: every tensor of every instance,
//! at the bytes per element each engine holds (the interpreter about 48 — an optional
//! exact value —, the JIT its element's container plus a written-flag byte), all counted
//! as live at once, with checked arithmetic (a count that overflows is "too much").

use crate::Engine;
use kiln_lang::diag::{codes, Diagnostic};
use kiln_numeric::ScalarType;
use kiln_passes::ir::Module;

/// Bytes per element the interpreter holds (an `Option<Value>` with an exact value).
const INTERP_BYTES_PER_ELEMENT: u64 = 48;

/// E0706 when the run of `module` on `engine` needs more memory than is available.
pub(crate) fn check_run_memory(module: &Module, engine: Engine) -> Option<Diagnostic> {
    let need = run_bytes(module, engine);
    let available = available_bytes()?;
    match need {
        Some(n) if n <= available => None,
        _ => Some(too_much(need, available, engine)),
    }
}

/// E0706 for a `--batch` run of `size` samples: every sample's inputs and results held as
/// values (the interpreter's bytes per element) at once, plus one run's working memory
/// on each thread that runs samples.
pub(crate) fn check_batch_memory(
    module: &Module,
    engine: Engine,
    size: usize,
) -> Option<Diagnostic> {
    let available = available_bytes()?;
    let threads = match engine {
        Engine::Interp => 1,
        Engine::Jit => std::thread::available_parallelism().map_or(1, |n| n.get()) as u64,
    };
    let need = (|| {
        let inst = module.entry_instance()?;
        let io_elements = inst
            .inputs
            .iter()
            .chain(&inst.outputs)
            .map(|&t| {
                inst.tensor(t)
                    .shape
                    .iter()
                    .try_fold(1u64, |n, &d| n.checked_mul(d as u64))
            })
            .try_fold(0u64, |total, n| total.checked_add(n?))?;
        let held = io_elements
            .checked_mul(size as u64)?
            .checked_mul(INTERP_BYTES_PER_ELEMENT)?;
        held.checked_add(run_bytes(module, engine)?.checked_mul(threads)?)
    })();
    match need {
        Some(n) if n <= available => None,
        _ => Some(too_much(need, available, engine)),
    }
}

/// The bytes a run of `module` holds at most, or `None` when the count overflows.
fn run_bytes(module: &Module, engine: Engine) -> Option<u64> {
    let mut total: u64 = 0;
    for inst in &module.instances {
        for t in &inst.tensors {
            let elements = t
                .shape
                .iter()
                .try_fold(1u64, |n, &d| n.checked_mul(d as u64))?;
            let per = match engine {
                Engine::Interp => INTERP_BYTES_PER_ELEMENT,
                Engine::Jit => jit_bytes(&t.elem) + 1,
            };
            total = total.checked_add(elements.checked_mul(per)?)?;
        }
    }
    Some(total)
}

/// The JIT's container for one element (jit/src/layout.rs).
fn jit_bytes(elem: &ScalarType) -> u64 {
    match elem {
        ScalarType::Bool | ScalarType::Bin | ScalarType::Tern => 1,
        ScalarType::F32 => 4,
        ScalarType::F64 => 8,
        other => match other.storage_bits() {
            0..=8 => 1,
            9..=16 => 2,
            17..=32 => 4,
            33..=64 => 8,
            _ => 16,
        },
    }
}

/// What this process can still allocate: the machine's available memory, or the address
/// space limit (`ulimit -v`) when lower. `None` when neither can be read (no check).
fn available_bytes() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok();
    let available = meminfo.as_deref().and_then(|m| {
        m.lines()
            .find(|l| l.starts_with("MemAvailable:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map(|kb| kb.saturating_mul(1024))
    });
    let limits = std::fs::read_to_string("/proc/self/limits").ok();
    let address_space = limits.as_deref().and_then(|l| {
        l.lines()
            .find(|l| l.starts_with("Max address space"))
            .and_then(|l| l.split_whitespace().nth(3))
            .and_then(|soft| soft.parse::<u64>().ok())
    });
    match (available, address_space) {
        (Some(a), Some(s)) => Some(a.min(s)),
        (a, s) => a.or(s),
    }
}

fn too_much(need: Option<u64>, available: u64, engine: Engine) -> Diagnostic {
    let need = need.map_or("more than 2^64 bytes".to_string(), |n| {
        format!("about {}", human(n))
    });
    let d = Diagnostic::error(
        codes::OUT_OF_MEMORY,
        format!(
            "this run needs {need} for its tensors, but only {} is available",
            human(available)
        ),
    );
    match engine {
        Engine::Interp => d.help(
            "the interpreter holds about 48 bytes per element; the JIT (`--engine jit`) needs 2 to 17",
        ),
        Engine::Jit => d.help("run smaller inputs, or on a machine with more memory"),
    }
}

/// `1.5 GiB`-style sizes.
fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human(512), "512 bytes");
        assert_eq!(human(3 << 30), "3.0 GiB");
    }

    #[test]
    fn containers_follow_the_jit_layout() {
        assert_eq!(jit_bytes(&ScalarType::int(8)), 1);
        assert_eq!(jit_bytes(&ScalarType::int(9)), 2);
        assert_eq!(jit_bytes(&ScalarType::fixed(40, 8)), 8);
        assert_eq!(jit_bytes(&ScalarType::F32), 4);
    }
}
