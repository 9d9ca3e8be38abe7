//! The Verilator testbench: `kiln_tb.v` owns the memories of the top's parameters for a
//! whole batch, runs the top on each sample in turn (a `start` pulse, then `done`),
//! counts cycles, and compares every result element bit for bit with kiln's; the C++
//! driver `kiln_tb_main.cpp` toggles the clock until the testbench says it has finished
//! and exits 1 unless every value matched.
//!
//! Data files hold one element per line as the raw bits of its storage type in
//! hexadecimal (`$readmemh`), samples one after another, row-major within a sample.
//! The testbench prints `KILN_RTLSIM key=value` lines (cycle counts) for `kiln rtlsim`,
//! then `PASS` or `FAIL` with the first mismatch (sample, index, got, expected).

use crate::module::{Iface, Param};
use crate::TestData;
use kiln_numeric::fixed::raw_from_mant;
use kiln_numeric::ScalarType;
use kiln_passes::value::Value;
use std::fmt::Write;

/// The raw bits of a value in its storage type, in hex (`bin`: 1 for +1, 0 for -1).
pub fn raw_hex(v: &Value, t: &ScalarType) -> String {
    match (v, t) {
        (Value::Bool(b), _) => (if *b { "1" } else { "0" }).into(),
        (Value::Num(x), ScalarType::Bin) => (if x.is_negative() { "0" } else { "1" }).into(),
        (Value::Num(x), t) => {
            let f = crate::module::num_fmt(t);
            let raw = raw_from_mant(&x.mant_at(f.frac), f.width);
            let digits = f.width.div_ceil(4) as usize;
            format!("{:0>digits$}", raw.to_hex())
        }
        (Value::F32(f), _) => format!("{:08x}", f.to_bits()),
        (Value::F64(f), _) => format!("{:016x}", f.to_bits()),
    }
}

pub fn input_file(top: &str, p: &Param) -> String {
    format!("{top}.{}.in.hex", p.port)
}

pub fn expected_file(top: &str, p: &Param) -> String {
    format!("{top}.{}.expected.hex", p.port)
}

fn data_file(values: &kiln_passes::data::TensorValue, elem: &ScalarType) -> String {
    let mut s = String::with_capacity(values.values.len() * 3);
    for v in &values.values {
        s.push_str(&raw_hex(v, elem));
        s.push('\n');
    }
    s
}

/// The testbench module and its data files.
pub fn testbench(
    top: &str,
    iface: &Iface,
    samples: usize,
    data: &TestData,
) -> (String, Vec<(String, String)>) {
    let mut files = Vec::new();
    let mut s = String::new();
    let b = samples.max(1);
    let how = if iface.frame {
        "as fast as its frame pipeline takes them"
    } else {
        "one after another"
    };
    let _ = writeln!(
        s,
        "// kiln_tb.v: runs `{top}` on {b} sample(s) {how} and compares every result\n// bit for bit with kiln's. Driven by kiln_tb_main.cpp (`kiln rtlsim`)."
    );
    s.push_str(
        "module kiln_tb (\n    input wire clk,\n    output reg finished,\n    output reg ok\n);\n",
    );
    let _ = writeln!(s, "    localparam B = {b};");
    s.push_str(
        "    reg [31:0] b;\n    reg rst;\n    reg start;\n    wire done;\n    reg [63:0] cyc;\n    reg [63:0] limit;\n    reg [63:0] t0;\n    reg [63:0] t_first_start;\n    reg [63:0] first_out;\n    reg [63:0] lat0;\n    reg [63:0] lat_max;\n    reg seen_out;\n    reg [2:0] phase;\n    integer i;\n    integer bad;\n",
    );
    let mut conns = vec![
        ".clk(clk)".to_string(),
        ".rst(rst)".to_string(),
        ".start(start)".to_string(),
        ".done(done)".to_string(),
    ];
    // A frame pipeline's top (frame.rs) names the image of each port access; the
    // sequential top works on image `b` alone.
    let frame = iface.frame;
    if frame {
        s.push_str("    wire ready;\n    reg [31:0] d;\n    reg [63:0] t_in [0:B-1];\n    reg [63:0] t_done0;\n    initial begin d = 32'd0; t_done0 = 64'd0; end\n");
        conns.push(".ready(ready)".to_string());
    }
    let mut out_we = Vec::new();
    let mut compare = String::new();
    let (mut ins, mut outs) = (data.inputs.iter(), data.outputs.iter());
    for p in &iface.params {
        let n = p.len();
        let (aw, dw) = (p.aw(), p.dw());
        let mem = format!("m_{}", p.port);
        let _ = writeln!(s, "    reg [{}:0] {mem} [0:{}];", dw - 1, b * n - 1);
        if !p.output {
            let file = input_file(top, p);
            if let Some(v) = ins.next() {
                files.push((file.clone(), data_file(v, &p.elem)));
            }
            let _ = writeln!(s, "    initial $readmemh(\"{file}\", {mem});");
        } else {
            let file = expected_file(top, p);
            if let Some(v) = outs.next() {
                files.push((file.clone(), data_file(v, &p.elem)));
            }
            let exp = format!("e_{}", p.port);
            let _ = writeln!(s, "    reg [{}:0] {exp} [0:{}];", dw - 1, b * n - 1);
            let _ = writeln!(s, "    initial $readmemh(\"{file}\", {exp});");
            let _ = writeln!(
                s,
                "    wire [{}:0] {port}_wa;\n    wire [{}:0] {port}_wd;\n    wire {port}_we;",
                aw - 1,
                dw - 1,
                port = p.port
            );
            let image = if frame {
                let _ = writeln!(s, "    wire [31:0] {}_wi;", p.port);
                conns.push(format!(".{0}_wi({0}_wi)", p.port));
                out_we.push(format!("({0}_we && {0}_wi == 0)", p.port));
                format!("{}_wi", p.port)
            } else {
                out_we.push(format!("{}_we", p.port));
                "b".to_string()
            };
            let _ = writeln!(
                s,
                "    always @(posedge clk) begin\n        if ({0}_we) {mem}[{image} * {n} + {{{{{1}{{1'b0}}}}, {0}_wa}}] <= {0}_wd;\n    end",
                p.port,
                32 - aw.min(32)
            );
            for c in ["wa", "wd", "we"] {
                conns.push(format!(".{0}_{c}({0}_{c})", p.port));
            }
            // The comparison of this result.
            let mut strides = vec![1usize; p.shape.len()];
            for d in (0..p.shape.len().saturating_sub(1)).rev() {
                strides[d] = strides[d + 1] * p.shape[d + 1];
            }
            let idx: Vec<String> = p
                .shape
                .iter()
                .zip(&strides)
                .map(|(dim, st)| format!("((i % {n}) / {st}) % {dim}"))
                .collect();
            let fmt_idx = vec!["%0d"; idx.len()].join(", ");
            let args = if idx.is_empty() {
                String::new()
            } else {
                format!(", {}", idx.join(", "))
            };
            let _ = writeln!(
                compare,
                "            for (i = 0; i < {}; i = i + 1) begin\n                if ({mem}[i] !== {exp}[i]) begin\n                    if (bad == 0) $display(\"FAIL: first mismatch in `{}` of sample %0d at [{fmt_idx}]: got 0x%h, kiln computed 0x%h\", i / {n}{args}, {mem}[i], {exp}[i]);\n                    bad = bad + 1;\n                end\n            end",
                b * n,
                p.name
            );
        }
        for j in 0..p.reads {
            let image = if frame {
                let _ = writeln!(s, "    wire [31:0] {}_ri{j};", p.port);
                conns.push(format!(".{0}_ri{j}({0}_ri{j})", p.port));
                format!("{}_ri{j}", p.port)
            } else {
                "b".to_string()
            };
            let _ = writeln!(
                s,
                "    wire [{}:0] {2}_ra{j};\n    wire [{}:0] {2}_rd{j} = {mem}[{image} * {n} + {{{{{3}{{1'b0}}}}, {2}_ra{j}}}];",
                aw - 1,
                dw - 1,
                p.port,
                32 - aw.min(32)
            );
            conns.push(format!(".{0}_ra{j}({0}_ra{j})", p.port));
            conns.push(format!(".{0}_rd{j}({0}_rd{j})", p.port));
        }
    }
    let _ = writeln!(
        s,
        "    {top} dut (\n        {}\n    );",
        conns.join(",\n        ")
    );
    // The cycles of each of the top's calls in the first sample, from its start pulse to
    // its done (summed over the starts of a call inside a loop): what each stage of a
    // network takes (`kiln report --measured` sets them beside the estimate's stages).
    let mut call_report = String::new();
    for (k, module) in &iface.calls {
        let first = if frame {
            format!("dut.c{k}_img == 0")
        } else {
            "b == 0".to_string()
        };
        // A stage that holds for its producer's rows (rows.rs) works the cycles
        // between its start and done it does not hold.
        let held = if iface.holds.contains(k) {
            format!("\n        if (!rst && {first} && dut.c{k}_busy && dut.c{k}_rows_hold) cc{k} <= cc{k} - 64'd1;")
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "    reg [63:0] cb{k};\n    reg [63:0] cc{k};\n    initial begin cb{k} = 64'd0; cc{k} = 64'd0; end\n    always @(posedge clk) begin\n        if (!rst && {first} && dut.c{k}_start) cb{k} <= cyc;\n        if (!rst && {first} && dut.c{k}_done) cc{k} <= cc{k} + (cyc - cb{k});{held}\n    end"
        );
        let _ = writeln!(
            call_report,
            "                        $display(\"KILN_RTLSIM call {module}=%0d\", cc{k});"
        );
    }
    let any_we = if out_we.is_empty() {
        "1'b0".to_string()
    } else {
        out_we.join(" | ")
    };
    let total_out: usize = iface
        .params
        .iter()
        .filter(|p| p.output)
        .map(|p| p.len() * b)
        .sum();
    let run = if frame {
        frame_run(&any_we, &call_report)
    } else {
        format!(
            r#"        3'd2: begin
            if (start) begin
                start <= 1'b0;
                t0 <= cyc;
                if (b == 0) t_first_start <= cyc;
            end else begin
                if (b == 0 && !seen_out && ({any_we})) begin
                    seen_out <= 1'b1;
                    first_out <= cyc - t0;
                end
                if (done) begin
                    if (b == 0) lat0 <= cyc - t0;
                    if (cyc - t0 > lat_max) lat_max <= cyc - t0;
                    if (b + 1 < B) begin
                        b <= b + 1;
                        start <= 1'b1;
                    end else begin
                        $display("KILN_RTLSIM samples=%0d", B);
                        $display("KILN_RTLSIM first_output=%0d", seen_out ? first_out : cyc - t0);
                        $display("KILN_RTLSIM latency=%0d", b == 0 ? cyc - t0 : lat0);
                        $display("KILN_RTLSIM latency_max=%0d", (cyc - t0 > lat_max) ? cyc - t0 : lat_max);
                        $display("KILN_RTLSIM starts_span=%0d", t0 - t_first_start);
                        $display("KILN_RTLSIM total=%0d", cyc - t_first_start);
{call_report}                        phase <= 3'd3;
                    end
                end
            end
        end
"#
        )
    };
    let _ = writeln!(
        s,
        r#"    initial begin
        if (!$value$plusargs("max_cycles=%d", limit)) limit = 64'd200000000;
        finished = 1'b0;
        ok = 1'b0;
        cyc = 64'd0;
        b = 32'd0;
        rst = 1'b1;
        start = 1'b0;
        phase = 3'd0;
        seen_out = 1'b0;
        first_out = 64'd0;
        lat0 = 64'd0;
        lat_max = 64'd0;
        t0 = 64'd0;
        t_first_start = 64'd0;
    end
    always @(posedge clk) begin
        cyc <= cyc + 64'd1;
        if (!finished && cyc > limit) begin
            $display("FAIL: the design did not finish within %0d cycles (sample %0d; raise with +max_cycles=N)", limit, b);
            finished <= 1'b1;
            ok <= 1'b0;
        end else case (phase)
        3'd0: begin
            if (cyc == 64'd3) begin
                rst <= 1'b0;
                phase <= 3'd1;
            end
        end
        3'd1: begin
            start <= 1'b1;
            phase <= 3'd2;
        end
{run}        3'd3: begin
            bad = 0;
{compare}            if (bad == 0) $display("PASS: all {total_out} result values bit-exact");
            else $display("FAIL: %0d of {total_out} result values differ from kiln's", bad);
            ok <= (bad == 0);
            finished <= 1'b1;
            phase <= 3'd4;
        end
        default: ;
        endcase
    end
endmodule"#
    );
    (s, files)
}

/// Phase 2 of the testbench of a frame pipeline's top (frame.rs): `start` stays high
/// until every image is taken (`start && ready`, image `b`, at `t_in[b]`); each `done` is
/// the next image's results (`d`), its latency from when it was taken. Steady state is
/// the cycles between the first and the last `done` (`done_span`).
fn frame_run(any_we: &str, call_report: &str) -> String {
    format!(
        r#"        3'd2: begin
            if (start && ready) begin
                t_in[b] <= cyc;
                t0 <= cyc;
                if (b == 0) t_first_start <= cyc;
                b <= b + 1;
                if (b + 1 == B) start <= 1'b0;
            end
            if (!seen_out && ({any_we})) begin
                seen_out <= 1'b1;
                first_out <= cyc - t_in[0];
            end
            if (done) begin
                if (d == 0) begin
                    lat0 <= cyc - t_in[0];
                    t_done0 <= cyc;
                end
                if (cyc - t_in[d] > lat_max) lat_max <= cyc - t_in[d];
                d <= d + 1;
                if (d + 1 == B) begin
                    $display("KILN_RTLSIM samples=%0d", B);
                    $display("KILN_RTLSIM first_output=%0d", seen_out ? first_out : cyc - t_in[0]);
                    $display("KILN_RTLSIM latency=%0d", d == 0 ? cyc - t_in[0] : lat0);
                    $display("KILN_RTLSIM latency_max=%0d", (cyc - t_in[d] > lat_max) ? cyc - t_in[d] : lat_max);
                    $display("KILN_RTLSIM starts_span=%0d", t0 - t_first_start);
                    $display("KILN_RTLSIM done_span=%0d", d == 0 ? 0 : cyc - t_done0);
                    $display("KILN_RTLSIM total=%0d", cyc - t_first_start);
{call_report}                    phase <= 3'd3;
                end
            end
        end
"#
    )
}

/// The C++ driver: the clock, until the testbench has finished.
pub fn driver() -> String {
    r#"// kiln_tb_main.cpp: toggles the clock of kiln_tb until it has finished; exits 1 unless
// every result matched kiln's.
#include "Vkiln_tb.h"
#include "verilated.h"

int main(int argc, char** argv) {
    VerilatedContext* ctx = new VerilatedContext;
    ctx->commandArgs(argc, argv);
    Vkiln_tb* tb = new Vkiln_tb{ctx};
    tb->clk = 0;
    tb->eval();
    while (!tb->finished && !ctx->gotFinish()) {
        tb->clk = 1;
        tb->eval();
        tb->clk = 0;
        tb->eval();
    }
    const int ok = tb->ok;
    tb->final();
    delete tb;
    delete ctx;
    return ok ? 0 : 1;
}
"#
    .to_string()
}
