//! What the passes know about the targets: the CPU the `autoblock` pass blocks loops
//! for ([`Machine`], and the [`Blocking`] it chooses or `--autotune` forces) and the FPGA devices the `autoschedule` pass and `kiln report` fit
//! designs to ([`Device`], [`DEVICES`]). Facts only; no pass logic.

/// What the model knows about the CPU.
#[derive(Clone, Debug)]
pub struct Machine {
    pub l2_bytes: u64,
    /// SIMD register width the JIT uses (cranelift: 128 bits).
    pub vector_bits: u32,
    pub vector_regs: u32,
}

impl Machine {
    /// A fixed model (1 MiB L2, 16 registers of 128 bits): what [`Machine::detect`]
    /// assumes where sysfs says nothing, and what tests use so results do not depend on
    /// the machine that runs them.
    pub fn default_model() -> Machine {
        Machine {
            l2_bytes: 1 << 20,
            vector_bits: 128,
            vector_regs: 16,
        }
    }

    /// The machine kiln runs on: cache sizes from Linux's sysfs (1 MiB L2 when absent).
    pub fn detect() -> Machine {
        let mut l2 = Machine::default_model().l2_bytes;
        for i in 0..8 {
            let dir = format!("/sys/devices/system/cpu/cpu0/cache/index{i}");
            let read = |f: &str| std::fs::read_to_string(format!("{dir}/{f}")).ok();
            if read("level").as_deref().map(str::trim) == Some("2") {
                if let Some(size) = read("size").and_then(|s| parse_size(s.trim())) {
                    l2 = size;
                }
            }
        }
        Machine {
            l2_bytes: l2,
            vector_bits: 128,
            vector_regs: 16,
        }
    }
}

fn parse_size(s: &str) -> Option<u64> {
    let (num, mult) = match s.strip_suffix('K') {
        Some(n) => (n, 1 << 10),
        None => match s.strip_suffix('M') {
            Some(n) => (n, 1 << 20),
            None => (s, 1),
        },
    };
    num.parse::<u64>().ok().map(|n| n * mult)
}

/// An FPGA device: its resources.
#[derive(Clone, Debug)]
pub struct Device {
    pub part: &'static str,
    pub board: &'static str,
    pub dsp: u32,
    pub bram18: u32,
    pub lut: u32,
    /// Peak bandwidth of the board's DDR memory the programmable logic reaches, in GB/s
    /// (10^9 bytes per second): what weights that do not fit on chip stream through.
    pub ddr_gbps: f64,
}

/// Devices `--part` knows (by part-number prefix).
pub const DEVICES: &[Device] = &[
    Device {
        part: "xc7z020",
        board: "PYNQ-Z1/Z2, ZedBoard",
        dsp: 220,
        bram18: 280,
        lut: 53_200,
        // PS DDR3 of the PYNQ boards, 16 bits at 1050 MT/s (the ZedBoard's 32 bits: 4.2)
        ddr_gbps: 2.1,
    },
    Device {
        part: "xc7z045",
        board: "ZC706",
        dsp: 900,
        bram18: 1_090,
        lut: 218_600,
        // PL DDR3 SODIMM, 64 bits at 1600 MT/s
        ddr_gbps: 12.8,
    },
    Device {
        part: "xczu9eg",
        board: "ZCU102",
        dsp: 2_520,
        bram18: 1_824,
        lut: 274_080,
        // PS DDR4, 64 bits at 2400 MT/s
        ddr_gbps: 19.2,
    },
    Device {
        part: "xcku115",
        board: "KCU1500",
        dsp: 5_520,
        bram18: 4_320,
        lut: 663_360,
        // four DDR4 channels, 64 bits at 2400 MT/s
        ddr_gbps: 76.8,
    },
];

/// The device of a part number (`xczu9eg-ffvb1156-2-e` → xczu9eg).
pub fn device(part: &str) -> Option<&'static Device> {
    DEVICES.iter().find(|d| part.starts_with(d.part))
}

/// A blocking of one nest: rows per register block, and columns per cache block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blocking {
    pub rows: u32,
    pub cols: Option<u32>,
}

impl std::fmt::Display for Blocking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} row(s)", self.rows)?;
        match self.cols {
            Some(c) => write!(f, ", {c}-column panels"),
            None => write!(f, ", no panels"),
        }
    }
}
