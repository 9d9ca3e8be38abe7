//! Reading `.npy` result files and comparing them bit for bit.

use std::fs;
use std::path::{Path, PathBuf};

pub struct Npy {
    pub descr: String,
    pub shape: Vec<usize>,
    pub data: Vec<u8>,
}

pub fn read_npy(p: &Path) -> Result<Npy, String> {
    let b = fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
    if b.len() < 10 || &b[..6] != b"\x93NUMPY" {
        return Err(format!("{} is not a .npy file", p.display()));
    }
    let (hlen, off) = if b[6] == 1 {
        (u16::from_le_bytes([b[8], b[9]]) as usize, 10)
    } else {
        if b.len() < 12 {
            return Err(format!("{}: truncated", p.display()));
        }
        (u32::from_le_bytes([b[8], b[9], b[10], b[11]]) as usize, 12)
    };
    if b.len() < off + hlen {
        return Err(format!("{}: truncated header", p.display()));
    }
    let h = String::from_utf8_lossy(&b[off..off + hlen]).into_owned();
    let descr = h
        .split("'descr':")
        .nth(1)
        .and_then(|s| s.split('\'').nth(1))
        .ok_or_else(|| format!("{}: no descr", p.display()))?
        .replace('|', "<");
    if h.contains("'fortran_order': True") {
        return Err(format!("{}: Fortran order", p.display()));
    }
    let shape_s = h
        .split("'shape':")
        .nth(1)
        .and_then(|s| s.split('(').nth(1))
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| format!("{}: no shape", p.display()))?;
    let shape: Vec<usize> = shape_s
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| format!("{}: bad shape", p.display()))
        })
        .collect::<Result<_, _>>()?;
    Ok(Npy {
        descr,
        shape,
        data: b[off + hlen..].to_vec(),
    })
}

pub fn elem_size(descr: &str) -> usize {
    descr[2..].parse().unwrap_or(1)
}

pub fn elem_str(descr: &str, b: &[u8]) -> String {
    match &descr[1..] {
        "i1" => format!("{}", b[0] as i8),
        "u1" => format!("{}", b[0]),
        "b1" => format!("{}", b[0] != 0),
        "i2" => format!("{}", i16::from_le_bytes([b[0], b[1]])),
        "i4" => format!("{}", i32::from_le_bytes(b[..4].try_into().unwrap())),
        "i8" => format!("{}", i64::from_le_bytes(b[..8].try_into().unwrap())),
        "f4" => {
            let v = f32::from_le_bytes(b[..4].try_into().unwrap());
            format!("{v:e} (0x{:08x})", v.to_bits())
        }
        "f8" => {
            let v = f64::from_le_bytes(b[..8].try_into().unwrap());
            format!("{v} (0x{:016x})", v.to_bits())
        }
        _ => format!("{b:02x?}"),
    }
}

/// Compares two result files bit for bit. Ok(()) or a description of the difference.
pub fn compare(got: &Path, want: &Path) -> Result<(), String> {
    let a = read_npy(got)?;
    let b = read_npy(want)?;
    if a.descr != b.descr {
        return Err(format!("dtype {} vs {}", a.descr, b.descr));
    }
    if a.shape != b.shape {
        return Err(format!("shape {:?} vs {:?}", a.shape, b.shape));
    }
    if a.data.len() != b.data.len() {
        return Err(format!("{} vs {} data bytes", a.data.len(), b.data.len()));
    }
    if a.data == b.data {
        return Ok(());
    }
    let es = elem_size(&a.descr).max(1);
    let n = a.data.len() / es;
    let mut bad = 0usize;
    let mut first = None;
    for i in 0..n {
        if a.data[i * es..(i + 1) * es] != b.data[i * es..(i + 1) * es] {
            bad += 1;
            if first.is_none() {
                first = Some(i);
            }
        }
    }
    let i = first.unwrap_or(0);
    let mut idx = Vec::new();
    let mut r = i;
    for d in a.shape.iter().rev() {
        idx.push(r % d.max(&1));
        r /= d.max(&1);
    }
    idx.reverse();
    Err(format!(
        "{bad} of {n} elements differ; first at {idx:?}: {} vs {}",
        elem_str(&a.descr, &a.data[i * es..]),
        elem_str(&b.descr, &b.data[i * es..])
    ))
}

/// The only .npy file in a directory (kiln --out writes NAME.npy for the one result).
pub fn the_npy(dir: &Path) -> Result<PathBuf, String> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| format!("no output directory {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "npy"))
        .collect();
    v.sort();
    match v.len() {
        1 => Ok(v.pop().unwrap()),
        0 => Err(format!("kiln wrote no .npy into {}", dir.display())),
        _ => Err(format!(
            "kiln wrote {} .npy files into {}",
            v.len(),
            dir.display()
        )),
    }
}
