//! Reading and writing `.npy` files (through npyz).
//!
//! Reading accepts bool, signed and unsigned integers of 1 to 8 bytes, float32 and float64,
//! in C or Fortran order, either endianness. Writing picks the dtype that holds the values
//! exactly: bool, int8..int64 / uint8..uint64 for integer types, float32 for f32, float64
//! for fixed-point values (exact up to 53 significant bits; wider values are an error).

use kiln_numeric::ScalarType;
use kiln_passes::data::{RawArray, RawData, TensorValue};
use kiln_passes::ir::Value;
use npyz::{DType, TypeChar, WriterBuilder};
use std::fs::File;
use std::io::{BufReader, BufWriter};
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
    let npy = npyz::NpyFile::new(BufReader::new(f)).map_err(|e| {
        ReadError::Read(format!("{} is not a valid .npy file: {e}", path.display()))
    })?;
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let fortran = npy.order() == npyz::Order::Fortran;
    let DType::Plain(ts) = npy.dtype() else {
        return Err(ReadError::Dtype(format!(
            "{}: structured or nested dtypes are not supported",
            path.display()
        )));
    };
    let dtype = ts.to_string();
    let size = ts.size_field();
    let bad = |e: std::io::Error| {
        ReadError::Read(format!("{}: cannot read the data: {e}", path.display()))
    };
    let data = match (ts.type_char(), size) {
        (TypeChar::Bool, 1) => RawData::Bool(npy.into_vec::<bool>().map_err(bad)?),
        (TypeChar::Float, 8) => RawData::F64(npy.into_vec::<f64>().map_err(bad)?),
        (TypeChar::Float, 4) => RawData::F32(npy.into_vec::<f32>().map_err(bad)?),
        (TypeChar::Int, 1) => RawData::I64(npy.into_vec::<i8>().map_err(bad)?.into_iter().map(i64::from).collect()),
        (TypeChar::Int, 2) => RawData::I64(npy.into_vec::<i16>().map_err(bad)?.into_iter().map(i64::from).collect()),
        (TypeChar::Int, 4) => RawData::I64(npy.into_vec::<i32>().map_err(bad)?.into_iter().map(i64::from).collect()),
        (TypeChar::Int, 8) => RawData::I64(npy.into_vec::<i64>().map_err(bad)?),
        (TypeChar::Uint, 1) => RawData::U64(npy.into_vec::<u8>().map_err(bad)?.into_iter().map(u64::from).collect()),
        (TypeChar::Uint, 2) => RawData::U64(npy.into_vec::<u16>().map_err(bad)?.into_iter().map(u64::from).collect()),
        (TypeChar::Uint, 4) => RawData::U64(npy.into_vec::<u32>().map_err(bad)?.into_iter().map(u64::from).collect()),
        (TypeChar::Uint, 8) => RawData::U64(npy.into_vec::<u64>().map_err(bad)?),
        _ => {
            return Err(ReadError::Dtype(format!(
                "{}: dtype {dtype} is not supported (use bool, int8..int64, uint8..uint64, float32 or float64)",
                path.display()
            )))
        }
    };
    let mut arr = RawArray { shape, data, dtype };
    if fortran {
        arr = to_c_order(arr);
    }
    Ok(arr)
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
