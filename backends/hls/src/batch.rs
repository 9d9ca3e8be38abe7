//! The top function over a batch (`kiln hls --batch`): a run-time number `n` of samples
//! (at most the `N` the project was written for), each processed by the per-sample
//! kernel, one after another.
//!
//! ```text
//! void lenet_batch(int n, const ap_ufixed<8, 0> x[256][1][28][28], ap_fixed<16, 6> result[256][10]) {
//!     ... interface pragmas ...
//!     L_batch: for (int b = 0; b < n && b < 256; b++) {
//!         lenet(x[b], result[b]);
//!     }
//! }
//! ```
//!
//! Array ports gain the leading batch dimension and pass one entry per call; a scalar port
//! becomes an array of one value per sample; a stream (`--io stream`) stays one stream,
//! which the per-sample function reads (or writes) a sample's elements from at each call,
//! in order. Weights read from DDR (a port with `ddr`) are the same for every sample:
//! they keep their shape and every call reads them (the stage copies their tiles on chip
//! at each call, passes/src/transform/allocate/tiles.rs). The testbench feeds all `N` samples and checks every result.

use crate::kernel::{prototype, Port};
use std::fmt::Write;

/// The batch top's name for a kernel's top `name`.
pub fn batch_name(name: &str) -> String {
    format!("{name}_batch")
}

/// The batch top's ports (for `samples` samples) and its definition, which calls the
/// per-sample function `one` with ports `ports`.
pub fn batch_top(name: &str, one: &str, ports: &[Port], samples: usize) -> (Vec<Port>, String) {
    let bports: Vec<Port> = ports
        .iter()
        .map(|p| {
            if p.ddr {
                return p.clone();
            }
            let mut shape = vec![samples];
            shape.extend(&p.shape);
            Port { shape, ..p.clone() }
        })
        .collect();
    let mut d = String::new();
    let _ = writeln!(
        d,
        "// The kernel over a batch: `n` samples (at most {samples}), one after another."
    );
    let params = prototype(name, &bports);
    let _ = writeln!(
        d,
        "{} {{",
        params.replacen(&format!("void {name}("), &format!("void {name}(int n, "), 1)
    );
    d.push_str("    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=n)\n");
    for (k, p) in bports.iter().enumerate() {
        if p.ddr {
            let _ = writeln!(d, "    {}", crate::kernel::interface(p, k));
            continue;
        }
        let mode = if p.stream {
            "axis"
        } else {
            "m_axi offset=slave"
        };
        let _ = writeln!(
            d,
            "    KILN_PRAGMA(HLS INTERFACE mode={mode} port={})",
            p.name
        );
    }
    d.push_str("    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=return)\n");
    let args: Vec<String> = ports
        .iter()
        .map(|p| {
            if p.stream || p.ddr {
                p.name.clone()
            } else {
                format!("{}[b]", p.name)
            }
        })
        .collect();
    let _ = writeln!(
        d,
        "    L_batch: for (int b = 0; b < n && b < {samples}; b++) {{\n        {one}({});\n    }}\n}}",
        args.join(", ")
    );
    (bports, d)
}

/// The batch top's prototype (with its leading `int n`).
pub fn batch_prototype(name: &str, bports: &[Port]) -> String {
    prototype(name, bports).replacen(&format!("void {name}("), &format!("void {name}(int n, "), 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_numeric::ScalarType;
    use kiln_passes::ir::TensorId;

    fn port(name: &str, shape: &[usize], output: bool, stream: bool) -> Port {
        Port {
            name: name.into(),
            tensor: TensorId(0),
            elem: ScalarType::int(8),
            shape: shape.to_vec(),
            output,
            stream,
            width: 1,
            ddr: false,
        }
    }

    #[test]
    fn arrays_gain_the_batch_dimension_and_streams_stay_streams() {
        let ports = [
            port("x", &[4], false, false),
            port("k", &[], false, false),
            port("y", &[2], true, true),
        ];
        let (bports, def) = batch_top("f_batch", "f", &ports, 8);
        assert_eq!(bports[0].shape, vec![8, 4]);
        assert_eq!(bports[1].shape, vec![8]);
        assert!(def.contains("void f_batch(int n, const ap_int<8> x[8][4], const ap_int<8> k[8], hls::stream<ap_int<8> > &y)"), "{def}");
        assert!(def.contains("f(x[b], k[b], y);"), "{def}");
        assert!(def.contains("b < n && b < 8"), "{def}");
    }
}
