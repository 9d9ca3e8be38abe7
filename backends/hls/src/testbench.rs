//! The testbench: reads the inputs and kiln's results from data files, runs the kernel
//! and compares every result element bit for bit.
//!
//! Data files hold one element per line as the raw bits of its storage type in
//! hexadecimal (zero-padded to the type's width; f32 as its 32 bits, f64 as its 64 bits, bool and bin as 0/1),
//! in row-major order.

use crate::kernel::Port;
use crate::types::{hex_digits, raw_hex, storage};
use crate::TestData;
use std::fmt::Write;

fn data_file(values: &kiln_passes::data::TensorValue, elem: &kiln_numeric::ScalarType) -> String {
    let mut s = String::with_capacity(values.values.len() * 4);
    for v in &values.values {
        s.push_str(&raw_hex(v, elem));
        s.push('\n');
    }
    s
}

/// The testbench source and its data files: it calls `top` (the kernel `name`, or its
/// batch top, which takes the number of samples `count` first).
pub fn testbench(
    name: &str,
    top: &str,
    count: Option<usize>,
    ports: &[Port],
    data: &TestData,
) -> (String, Vec<(String, String)>) {
    let mut files = Vec::new();
    let mut s = String::new();
    s.push_str(&prelude(name));
    // Buffers (and the streams of `--io stream` ports).
    for p in ports {
        let dims: String = p.shape.iter().map(|d| format!("[{d}]")).collect();
        let _ = writeln!(s, "static {} tb_{}{dims};", storage(&p.elem), p.name);
        if p.stream {
            let _ = writeln!(s, "static hls::stream<{} > s_{};", storage(&p.elem), p.name);
        }
    }
    s.push_str("\nint main() {\n");
    feed_and_run(&mut s, &mut files, name, (top, count), ports, data);
    compare_results(&mut s, &mut files, name, ports, data);
    s.push_str(
        "    if (bad) {\n        printf(\"FAIL: %ld result values differ from kiln's\\n\", bad);\n        return 1;\n    }\n    printf(\"PASS\\n\");\n    return 0;\n}\n",
    );
    (s, files)
}

/// The testbench's helpers: reading inputs, writing values as hex, comparing results.
fn prelude(name: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"// {name}_tb.cpp: runs `{name}` on the inputs kiln ran it on and compares every result
// bit for bit with kiln's. Prints PASS, or the first mismatches; returns 1 on a mismatch.
#include "{name}.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

template <class T> inline void from_text(T& x, const char* h) {{ x = kiln::from_hex<T>(h); }}
inline void from_text(float& x, const char* h) {{ x = kiln::f32_from_bits((uint32_t)strtoul(h, 0, 16)); }}
inline void from_text(double& x, const char* h) {{ x = kiln::f64_from_bits((uint64_t)strtoull(h, 0, 16)); }}
inline void from_text(bool& x, const char* h) {{ x = h[0] == '1'; }}

template <class T> inline void to_text(const T& x, char* out, int digits) {{
    ap_uint<T::width> r;
    r.range(T::width - 1, 0) = x.range(T::width - 1, 0);
    for (int k = 0; k < digits; k++) {{
        const unsigned d = (unsigned)(ap_uint<T::width>(r >> (4 * (digits - 1 - k)))).to_uint() & 15u;
        out[k] = "0123456789abcdef"[d];
    }}
    out[digits] = 0;
}}
inline void to_text(const float& x, char* out, int) {{ sprintf(out, "%08x", (unsigned)kiln::f32_bits(x)); }}
inline void to_text(const double& x, char* out, int) {{ sprintf(out, "%016llx", (unsigned long long)kiln::f64_bits(x)); }}
inline void to_text(const bool& x, char* out, int) {{ sprintf(out, "%d", x ? 1 : 0); }}

static char token[8192];

template <class T> static bool load(const char* path, T* p, long n) {{
    FILE* f = fopen(path, "r");
    if (!f) {{
        printf("cannot open %s\n", path);
        return false;
    }}
    for (long i = 0; i < n; i++) {{
        if (fscanf(f, "%8191s", token) != 1) {{
            printf("%s: only %ld of %ld values\n", path, i, n);
            fclose(f);
            return false;
        }}
        from_text(p[i], token);
    }}
    fclose(f);
    return true;
}}

// Compares n results with the file; prints the first mismatches with their indices.
template <class T>
static long check(const char* what, const char* path, const T* p, long n, int digits, const long* dims, int rank) {{
    FILE* f = fopen(path, "r");
    if (!f) {{
        printf("cannot open %s\n", path);
        return n > 0 ? n : 1;
    }}
    long bad = 0;
    char got[8192];
    for (long i = 0; i < n; i++) {{
        if (fscanf(f, "%8191s", token) != 1) {{
            printf("%s: only %ld of %ld values\n", path, i, n);
            fclose(f);
            return bad + (n - i);
        }}
        to_text(p[i], got, digits);
        if (strcmp(got, token) != 0) {{
            if (bad < 10) {{
                printf("mismatch in %s[", what);
                long rest = i;
                long idx[16];
                for (int d = rank - 1; d >= 0; d--) {{
                    idx[d] = rest % dims[d];
                    rest /= dims[d];
                }}
                for (int d = 0; d < rank; d++) printf(d ? ", %ld" : "%ld", idx[d]);
                printf("]: got 0x%s, kiln computed 0x%s\n", got, token);
            }}
            bad++;
        }}
    }}
    fclose(f);
    return bad;
}}
"#
    );
    s
}

/// `main`'s first part: the inputs loaded (and streamed), the kernel called, the
/// streamed results read back.
fn feed_and_run(
    s: &mut String,
    files: &mut Vec<(String, String)>,
    name: &str,
    (top, count): (&str, Option<usize>),
    ports: &[Port],
    data: &TestData,
) {
    let mut inputs = data.inputs.iter();
    for p in ports {
        let n: usize = p.shape.iter().product();
        let ptr = if p.shape.is_empty() {
            format!("&tb_{}", p.name)
        } else {
            format!("({}*)tb_{}", storage(&p.elem), p.name)
        };
        if !p.output {
            let file = format!("{name}.{}.in.dat", p.name);
            if let Some(v) = inputs.next() {
                files.push((file.clone(), data_file(v, &p.elem)));
            }
            let _ = writeln!(s, "    if (!load(\"{file}\", {ptr}, {n})) return 1;");
            if p.stream {
                let _ = writeln!(
                    s,
                    "    for (long i = 0; i < {n}; i++) s_{0}.write((({1}*)tb_{0})[i]);",
                    p.name,
                    storage(&p.elem)
                );
            }
        }
    }
    let args: Vec<String> = count
        .map(|n| n.to_string())
        .into_iter()
        .chain(ports.iter().map(|p| {
            if p.stream {
                format!("s_{}", p.name)
            } else {
                format!("tb_{}", p.name)
            }
        }))
        .collect();
    let _ = writeln!(s, "    {top}({});", args.join(", "));
    for p in ports.iter().filter(|p| p.stream && p.output) {
        let n: usize = p.shape.iter().product();
        let _ = writeln!(
            s,
            "    for (long i = 0; i < {n}; i++) {{\n        if (s_{0}.empty()) {{\n            printf(\"the stream `{0}` holds only %ld of {n} results\\n\", i);\n            return 1;\n        }}\n        (({1}*)tb_{0})[i] = s_{0}.read();\n    }}",
            p.name,
            storage(&p.elem)
        );
    }
}

/// `main`'s second part: every result compared with kiln's, bit for bit.
fn compare_results(
    s: &mut String,
    files: &mut Vec<(String, String)>,
    name: &str,
    ports: &[Port],
    data: &TestData,
) {
    let mut outputs = data.outputs.iter();
    s.push_str("    long bad = 0;\n");
    for p in ports.iter().filter(|p| p.output) {
        let n: usize = p.shape.iter().product();
        let file = format!("{name}.{}.expected.dat", p.name);
        if let Some(v) = outputs.next() {
            files.push((file.clone(), data_file(v, &p.elem)));
        }
        let ptr = if p.shape.is_empty() {
            format!("&tb_{}", p.name)
        } else {
            format!("({}*)tb_{}", storage(&p.elem), p.name)
        };
        let dims: Vec<String> = p.shape.iter().map(|d| format!("{d}L")).collect();
        let _ = writeln!(
            s,
            "    {{\n        const long dims[] = {{{}}};\n        bad += check(\"{}\", \"{file}\", {ptr}, {n}, {}, dims, {});\n    }}",
            if dims.is_empty() { "1L".to_string() } else { dims.join(", ") },
            p.name,
            hex_digits(&p.elem),
            p.shape.len()
        );
    }
}
