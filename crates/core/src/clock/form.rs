//! Reading clock JSON structures from either `serde_json` or `rmpv` values.
//!
//! Owns the small view of a value that clock parsing needs (a tick count, an array or a string),
//! so that [`TreeClock`](super::TreeClock) and [`GlobalClock`](super::GlobalClock) parse both
//! encodings with one parser. It must not know any clock form itself.

/// What a clock parser sees of a value.
pub enum Shape<'a, T> {
    /// A non-negative integer (a tick count).
    Ticks(u64),
    /// An array.
    Array(&'a [T]),
    /// A string.
    Str(&'a str),
}

/// A value that a clock can be parsed from.
pub trait Form: Sized {
    /// The shape of this value, or a description of why it cannot appear in a clock.
    fn shape(&self) -> Result<Shape<'_, Self>, String>;
}

const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;

/// Ticks from a float, accepted only if integral and non-negative (JS cannot tell 1.0 from 1).
fn float_ticks<'a, T>(f: f64) -> Result<Shape<'a, T>, String> {
    if f.floor() != f || f >= TWO_POW_64 {
        Err(format!("{f} is not an integer"))
    } else if f < 0.0 {
        Err(format!("negative ticks {f}"))
    } else {
        // Integral, non-negative (or -0.0) and in range: the cast is exact.
        Ok(Shape::Ticks(f as u64))
    }
}

impl Form for serde_json::Value {
    fn shape(&self) -> Result<Shape<'_, Self>, String> {
        use serde_json::Value as J;
        match self {
            J::Number(n) => {
                if let Some(u) = n.as_u64() {
                    Ok(Shape::Ticks(u))
                } else if let Some(i) = n.as_i64() {
                    Err(format!("negative ticks {i}"))
                } else {
                    float_ticks(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            J::Array(items) => Ok(Shape::Array(items)),
            J::String(s) => Ok(Shape::Str(s)),
            J::Null => Err("unexpected null".into()),
            J::Bool(_) => Err("unexpected boolean".into()),
            J::Object(_) => Err("unexpected object".into()),
        }
    }
}

impl Form for rmpv::Value {
    fn shape(&self) -> Result<Shape<'_, Self>, String> {
        use rmpv::Value as M;
        match self {
            M::Integer(i) => match i.as_u64() {
                Some(u) => Ok(Shape::Ticks(u)),
                None => Err(format!("negative ticks {i}")),
            },
            M::F32(f) => float_ticks(f64::from(*f)),
            M::F64(f) => float_ticks(*f),
            M::Array(items) => Ok(Shape::Array(items)),
            M::String(s) => s
                .as_str()
                .map(Shape::Str)
                .ok_or_else(|| "string is not UTF-8".into()),
            M::Nil => Err("unexpected nil".into()),
            M::Boolean(_) => Err("unexpected boolean".into()),
            M::Binary(_) => Err("unexpected binary".into()),
            M::Map(_) => Err("unexpected map".into()),
            M::Ext(..) => Err("unexpected extension value".into()),
        }
    }
}
