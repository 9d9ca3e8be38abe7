//! Reading and writing `.npy` files (through npyz).
//!
//! Reading accepts bool, signed and unsigned integers of 1 to 8 bytes, float32 and float64,
//! in C or Fortran order, either endianness. Writing picks the dtype that holds the values
//! exactly: bool, int8..int64 / uint8..uint64 for integer types, float32 for f32, float64
//! for fixed-point values (exact up to 53 significant bits; wider values are an error).

use kiln_numeric::ScalarType;
use kiln_passes::data::{RawArray, RawData, TensorValue};
use kiln_passes::ir::Value;
use npyz::WriterBuilder;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read};
use std::path::Path;

/// Why a file could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// Missing, unreadable or malformed.
    Read(String),
    /// A valid file whose dtype kiln does not take.
    Dtype(String),
}

impl ReadError {
    pub fn message(&self) -> &str {
        match self {
            ReadError::Read(m) | ReadError::Dtype(m) => m,
        }
    }
}

/// Reads a `.npy` file. Errors are user-facing messages (one line each).
pub fn read(path: &Path) -> Result<RawArray, ReadError> {
    read_inner(path).map_err(|e| match e {
        ReadError::Read(m) => ReadError::Read(one_line(&m)),
        ReadError::Dtype(m) => ReadError::Dtype(one_line(&m)),
    })
}

/// The element kind (`b`, `i`, `u`, `f`), size in bytes and byte order of a dtype string
/// (`<i8`, `|b1`, `>f4`...); E0603's error for the others.
fn element_kind(descr: &str, path: &Path) -> Result<(char, usize, bool), ReadError> {
    let dtype = descr.to_string();
    let unsupported = || {
        ReadError::Dtype(format!(
            "{}: dtype {dtype} is not supported (use bool, int8..int64, uint8..uint64, float32 or float64)",
            path.display()
        ))
    };
    let (order, rest) = match descr.chars().next() {
        Some(c @ ('<' | '>' | '|' | '=')) => (c, &descr[1..]),
        _ => ('|', descr),
    };
    let kind = rest.chars().next().ok_or_else(unsupported)?;
    let size: usize = match rest[kind.len_utf8()..].parse() {
        Ok(n) => n,
        Err(_) if kind == '?' && rest.len() == 1 => 1,
        Err(_) => return Err(unsupported()),
    };
    let big = order == '>' || (order == '=' && cfg!(target_endian = "big"));
    let kind = match (kind, size) {
        ('b' | '?', 1) => 'b',
        ('i' | 'u', 1 | 2 | 4 | 8) | ('f', 4 | 8) => kind,
        _ => return Err(unsupported()),
    };
    Ok((kind, size, big))
}

fn one_line(m: &str) -> String {
    m.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn read_inner(path: &Path) -> Result<RawArray, ReadError> {
    let f = File::open(path).map_err(|e| {
        ReadError::Read(format!(
            "cannot open {}: {}",
            path.display(),
            crate::io_reason(&e)
        ))
    })?;
    let file_len = f
        .metadata()
        .map_err(|e| {
            ReadError::Read(format!(
                "cannot read {}: {}",
                path.display(),
                crate::io_reason(&e)
            ))
        })?
        .len();
    let invalid =
        |m: String| ReadError::Read(format!("{} is not a valid .npy file: {m}", path.display()));
    let mut r = BufReader::new(f);
    let io = |e: std::io::Error| {
        ReadError::Read(format!("{}: cannot read the data: {e}", path.display()))
    };
    // Magic, version, header length.
    let mut pre = [0u8; 8];
    read_exactly(&mut r, &mut pre, file_len, 0)
        .map_err(|_| invalid("the file is shorter than the 8-byte magic and version".into()))?;
    if &pre[..6] != b"\x93NUMPY" {
        return Err(invalid(
            "it does not start with the magic string \\x93NUMPY".into(),
        ));
    }
    let (major, minor) = (pre[6], pre[7]);
    let len_bytes = match major {
        1 => 2,
        2 | 3 => 4,
        _ => {
            return Err(invalid(format!(
                "unsupported format version {major}.{minor} (kiln reads 1.0, 2.0 and 3.0)"
            )))
        }
    };
    let mut lb = [0u8; 4];
    read_exactly(&mut r, &mut lb[..len_bytes], file_len, 8)
        .map_err(|_| invalid("the file ends inside the header length".into()))?;
    let header_len = u32::from_le_bytes(lb) as u64;
    let data_start = 8 + len_bytes as u64 + header_len;
    if header_len > MAX_HEADER_LEN {
        return Err(invalid(format!(
            "a header of {header_len} bytes (kiln reads headers up to {MAX_HEADER_LEN} bytes)"
        )));
    }
    if data_start > file_len {
        return Err(invalid(format!(
            "the header length ({header_len} bytes) runs past the end of the file ({file_len} bytes)"
        )));
    }
    let mut hb = vec![0u8; header_len as usize];
    read_exactly(&mut r, &mut hb, file_len, 8 + len_bytes as u64).map_err(io)?;
    // Versions 1 and 2 are latin-1, version 3 UTF-8; every header key and dtype is ASCII.
    let text: String = if major == 3 {
        String::from_utf8(hb).map_err(|_| invalid("the header is not UTF-8".into()))?
    } else {
        hb.iter().map(|&b| b as char).collect()
    };
    let header = Header::parse(&text).map_err(invalid)?;
    let Some(descr) = header.descr else {
        return Err(ReadError::Dtype(format!(
            "{}: structured or nested dtypes are not supported",
            path.display()
        )));
    };
    let (kind, size, big) = element_kind(&descr, path)?;
    let dtype = descr.clone();
    // Sizes from the header are checked against the file before anything is allocated.
    let shape = header.shape;
    let mut count: u64 = 1;
    let mut nonzero: u64 = 1;
    for &d in &shape {
        count = count.saturating_mul(d);
        if d != 0 {
            nonzero = nonzero
                .checked_mul(d)
                .filter(|&n| n <= i64::MAX as u64)
                .ok_or_else(|| {
                    invalid(format!(
                        "shape {shape:?} has more elements than any machine can address"
                    ))
                })?;
        }
    }
    let bytes = count
        .checked_mul(size as u64)
        .filter(|&n| n <= i64::MAX as u64)
        .ok_or_else(|| {
            invalid(format!(
                "shape {shape:?} of dtype {dtype} needs more bytes than any machine can address"
            ))
        })?;
    let available = file_len - data_start;
    if bytes > available {
        return Err(invalid(format!(
            "the file is truncated: shape {shape:?} of dtype {dtype} needs {bytes} bytes of data, the file holds {available}"
        )));
    }
    let mut raw = vec![0u8; bytes as usize];
    read_exactly(&mut r, &mut raw, file_len, data_start).map_err(io)?;
    let shape: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
    macro_rules! decode {
        ($ty:ty, $n:literal) => {
            raw.chunks_exact($n).map(|c| {
                let b: [u8; $n] = c.try_into().expect("chunk size");
                if big {
                    <$ty>::from_be_bytes(b)
                } else {
                    <$ty>::from_le_bytes(b)
                }
            })
        };
    }
    let data = match (kind, size) {
        ('b', _) => RawData::Bool(raw.iter().map(|&b| b != 0).collect()),
        ('f', 8) => RawData::F64(decode!(f64, 8).collect()),
        ('f', _) => RawData::F32(decode!(f32, 4).collect()),
        ('i', 1) => RawData::I64(decode!(i8, 1).map(i64::from).collect()),
        ('i', 2) => RawData::I64(decode!(i16, 2).map(i64::from).collect()),
        ('i', 4) => RawData::I64(decode!(i32, 4).map(i64::from).collect()),
        ('i', _) => RawData::I64(decode!(i64, 8).collect()),
        ('u', 1) => RawData::U64(decode!(u8, 1).map(u64::from).collect()),
        ('u', 2) => RawData::U64(decode!(u16, 2).map(u64::from).collect()),
        ('u', 4) => RawData::U64(decode!(u32, 4).map(u64::from).collect()),
        _ => RawData::U64(decode!(u64, 8).collect()),
    };
    let mut arr = RawArray { shape, data, dtype };
    if header.fortran {
        arr = to_c_order(arr);
    }
    Ok(arr)
}

/// The longest header kiln reads (numpy writes a few hundred bytes; it refuses more than
/// 10,000 by default).
const MAX_HEADER_LEN: u64 = 1 << 20;
/// How deep brackets may nest in a header (numpy writes 2 levels: the dict and the shape).
const MAX_HEADER_NESTING: usize = 16;

/// Fills `buf` from `r`, which is at byte `at` of a file of `file_len` bytes.
fn read_exactly(
    r: &mut impl Read,
    buf: &mut [u8],
    file_len: u64,
    at: u64,
) -> Result<(), std::io::Error> {
    if at.saturating_add(buf.len() as u64) > file_len {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the file ends early",
        ));
    }
    r.read_exact(buf)
}

/// What kiln needs of a `.npy` header.
#[derive(Debug, PartialEq)]
struct Header {
    /// The dtype string; `None` for a structured dtype (a list).
    descr: Option<String>,
    fortran: bool,
    shape: Vec<u64>,
}

/// A Python literal of a header.
#[derive(Debug, PartialEq)]
enum Lit {
    Str(String),
    Int(i128),
    Bool(bool),
    None,
    /// A tuple or a list.
    Seq(Vec<Lit>),
    Dict(Vec<(Lit, Lit)>),
}

/// A one-pass parser of the Python literals of a header: time linear in its length,
/// nesting at most [`MAX_HEADER_NESTING`] deep.
struct LitParser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl LitParser<'_> {
    fn skip_ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.get(self.pos).copied()
    }

    fn what(&self) -> String {
        match self.s.get(self.pos) {
            Some(c) if c.is_ascii_graphic() => {
                format!("`{}` at byte {} of the header", *c as char, self.pos)
            }
            Some(c) => format!("byte 0x{c:02x} at byte {} of the header", self.pos),
            None => "the end of the header".into(),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Lit, String> {
        if depth > MAX_HEADER_NESTING {
            return Err(format!(
                "the header nests more than {MAX_HEADER_NESTING} levels deep"
            ));
        }
        match self.peek() {
            Some(b'{') => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                        return Ok(Lit::Dict(items));
                    }
                    let k = self.value(depth + 1)?;
                    if self.peek() != Some(b':') {
                        return Err(format!(
                            "expected `:` in the header dict, found {}",
                            self.what()
                        ));
                    }
                    self.pos += 1;
                    let v = self.value(depth + 1)?;
                    items.push((k, v));
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {}
                        _ => {
                            return Err(format!(
                                "expected `,` or `}}` in the header dict, found {}",
                                self.what()
                            ))
                        }
                    }
                }
            }
            Some(open @ (b'(' | b'[')) => {
                let close = if open == b'(' { b')' } else { b']' };
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    if self.peek() == Some(close) {
                        self.pos += 1;
                        return Ok(Lit::Seq(items));
                    }
                    items.push(self.value(depth + 1)?);
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(c) if c == close => {}
                        _ => {
                            return Err(format!(
                                "expected `,` or `{}` in the header, found {}",
                                close as char,
                                self.what()
                            ))
                        }
                    }
                }
            }
            Some(q @ (b'\'' | b'"')) => {
                self.pos += 1;
                let start = self.pos;
                while self.pos < self.s.len() && self.s[self.pos] != q {
                    if self.s[self.pos] == b'\\' {
                        self.pos += 1;
                    }
                    self.pos += 1;
                }
                if self.pos >= self.s.len() {
                    return Err("a string in the header is not closed".into());
                }
                let text = String::from_utf8_lossy(&self.s[start..self.pos]).into_owned();
                self.pos += 1;
                Ok(Lit::Str(text))
            }
            Some(c) if c == b'-' || c == b'+' || c.is_ascii_digit() => {
                let start = self.pos;
                self.pos += 1;
                while self.pos < self.s.len()
                    && (self.s[self.pos].is_ascii_alphanumeric() || self.s[self.pos] == b'_')
                {
                    self.pos += 1;
                }
                let text = std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("?");
                let digits: String = text.chars().filter(|&c| c != '_').collect();
                let digits = digits.strip_suffix('L').unwrap_or(&digits);
                digits.parse::<i128>().map(Lit::Int).map_err(|_| {
                    format!("`{text}` in the header is not an integer that fits in 128 bits")
                })
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let start = self.pos;
                while self.pos < self.s.len() && self.s[self.pos].is_ascii_alphanumeric() {
                    self.pos += 1;
                }
                match &self.s[start..self.pos] {
                    b"True" => Ok(Lit::Bool(true)),
                    b"False" => Ok(Lit::Bool(false)),
                    b"None" => Ok(Lit::None),
                    other => Err(format!(
                        "unexpected `{}` in the header",
                        String::from_utf8_lossy(other)
                    )),
                }
            }
            _ => Err(format!("unexpected {}", self.what())),
        }
    }
}

impl Header {
    /// Parses the header dict: `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }`.
    fn parse(text: &str) -> Result<Header, String> {
        let mut p = LitParser {
            s: text.as_bytes(),
            pos: 0,
        };
        let lit = p.value(0)?;
        if p.peek().is_some() {
            return Err(format!("unexpected {} after the header dict", p.what()));
        }
        let Lit::Dict(items) = lit else {
            return Err("the header is not a dict".into());
        };
        let get = |key: &str| {
            items
                .iter()
                .find(|(k, _)| *k == Lit::Str(key.into()))
                .map(|(_, v)| v)
                .ok_or_else(|| format!("the header has no `{key}`"))
        };
        let descr = match get("descr")? {
            Lit::Str(s) => Some(s.clone()),
            Lit::Seq(_) => None,
            _ => return Err("the header's `descr` is not a dtype string".into()),
        };
        let fortran = match get("fortran_order")? {
            Lit::Bool(b) => *b,
            _ => return Err("the header's `fortran_order` is not True or False".into()),
        };
        let Lit::Seq(dims) = get("shape")? else {
            return Err("the header's `shape` is not a tuple".into());
        };
        let shape = dims
            .iter()
            .map(|d| match d {
                Lit::Int(n) => u64::try_from(*n)
                    .map_err(|_| format!("the shape has the dimension {n}, which is not a size (negative or too large)")),
                _ => Err("the header's `shape` holds something other than integers".into()),
            })
            .collect::<Result<Vec<u64>, String>>()?;
        Ok(Header {
            descr,
            fortran,
            shape,
        })
    }
}

/// Reorders a Fortran-order array into C order.
fn to_c_order(a: RawArray) -> RawArray {
    let n = a.len();
    let rank = a.shape.len();
    // In Fortran order, element (i0, ..., ik) is at sum(i_d * prod(shape[..d])).
    let mut fstride = vec![1usize; rank];
    for d in 1..rank {
        fstride[d] = fstride[d - 1] * a.shape[d - 1];
    }
    let perm: Vec<usize> = (0..n)
        .map(|c| {
            let idx = kiln_passes::data::unflatten(c, &a.shape);
            idx.iter().zip(&fstride).map(|(i, s)| i * s).sum()
        })
        .collect();
    fn pick<T: Clone>(v: &[T], perm: &[usize]) -> Vec<T> {
        perm.iter().map(|&p| v[p].clone()).collect()
    }
    let data = match &a.data {
        RawData::F64(v) => RawData::F64(pick(v, &perm)),
        RawData::F32(v) => RawData::F32(pick(v, &perm)),
        RawData::I64(v) => RawData::I64(pick(v, &perm)),
        RawData::U64(v) => RawData::U64(pick(v, &perm)),
        RawData::Bool(v) => RawData::Bool(pick(v, &perm)),
    };
    RawArray {
        shape: a.shape,
        data,
        dtype: a.dtype,
    }
}

/// The numpy dtype a tensor of `elem` is written with.
pub fn dtype_for(elem: &ScalarType) -> &'static str {
    match elem {
        ScalarType::Bool => "bool",
        ScalarType::F32 => "float32",
        ScalarType::F64 => "float64",
        ScalarType::Bin | ScalarType::Tern => "int8",
        ScalarType::Int(t) => match (t.signed, t.width) {
            (true, 1..=8) => "int8",
            (true, 9..=16) => "int16",
            (true, 17..=32) => "int32",
            (true, 33..=64) => "int64",
            (false, 1..=8) => "uint8",
            (false, 9..=16) => "uint16",
            (false, 17..=32) => "uint32",
            (false, 33..=64) => "uint64",
            _ => "float64",
        },
        ScalarType::Fixed(_) => "float64",
    }
}

/// Writes a tensor as `.npy` (see the module doc for the dtype).
pub fn write(path: &Path, t: &TensorValue) -> Result<(), String> {
    let shape: Vec<u64> = t.shape.iter().map(|&d| d as u64).collect();
    let f = File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    let w = BufWriter::new(f);
    let io = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    macro_rules! put {
        ($ty:ty, $conv:expr) => {{
            let mut writer = npyz::WriteOptions::<$ty>::new()
                .default_dtype()
                .shape(&shape)
                .writer(w)
                .begin_nd()
                .map_err(io)?;
            for v in &t.values {
                let x: $ty = $conv(v)?;
                writer.push(&x).map_err(io)?;
            }
            writer.finish().map_err(io)?;
        }};
    }
    let exact_int = |v: &Value| -> Result<i128, String> {
        v.as_exact()
            .and_then(|x| x.trunc_to_int().to_i128())
            .ok_or_else(|| format!("{}: value {v} is not an integer", path.display()))
    };
    match dtype_for(&t.elem) {
        "bool" => put!(bool, |v: &Value| v
            .as_bool()
            .ok_or_else(|| "not a bool".to_string())),
        "float32" => put!(f32, |v: &Value| match v {
            Value::F32(f) => Ok(*f),
            other => Err(format!("not an f32: {other}")),
        }),
        "int8" => put!(i8, |v: &Value| exact_int(v).map(|x| x as i8)),
        "int16" => put!(i16, |v: &Value| exact_int(v).map(|x| x as i16)),
        "int32" => put!(i32, |v: &Value| exact_int(v).map(|x| x as i32)),
        "int64" => put!(i64, |v: &Value| exact_int(v).map(|x| x as i64)),
        "uint8" => put!(u8, |v: &Value| exact_int(v).map(|x| x as u8)),
        "uint16" => put!(u16, |v: &Value| exact_int(v).map(|x| x as u16)),
        "uint32" => put!(u32, |v: &Value| exact_int(v).map(|x| x as u32)),
        "uint64" => put!(u64, |v: &Value| exact_int(v).map(|x| x as u64)),
        _ => put!(f64, |v: &Value| {
            let f = v.to_f64();
            let exact = match v.as_exact() {
                Some(x) => kiln_numeric::float::f64_to_fx(f).as_ref() == Some(x),
                None => true,
            };
            if exact {
                Ok(f)
            } else {
                Err(format!(
                    "{}: value {v} of type {} has more than 53 significant bits and cannot be written exactly as float64",
                    path.display(),
                    t.elem
                ))
            }
        }),
    }
    Ok(())
}
