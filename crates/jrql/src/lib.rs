#![doc = include_str!("../README.md")]

mod algebra;
mod construct;
mod context;
mod direct;
mod error;
mod eval;
mod expr;
mod graph;
mod hash;
mod kind;
mod list;
mod pattern;
mod read;
mod render;
pub mod value;
mod value_order;
mod write;

pub use context::Context;
pub use error::JrqlError;
pub use graph::Graph;
pub use kind::{ReadKind, RequestKind};
/// The IRIs json-rql processing needs (one definition, shared with the engine core).
pub use m_ld_vocab::ns;
pub use read::{ask, describe_subjects, read};
pub use render::{render_subjects, render_update_subjects};
pub use write::{Patch, write};
