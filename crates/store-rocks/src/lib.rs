#![doc = include_str!("../README.md")]
#![doc(test(attr(deny(warnings))))]

mod dir;
mod error;
mod options;
mod store;

pub use dir::FORMAT_VERSION;
pub use error::{RocksError, STATUS_CLONE_DATA_LOCKED};
pub use options::RocksOptions;
pub use store::{RocksSnapshot, RocksStore};
