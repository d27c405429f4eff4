#![doc = include_str!("../README.md")]

mod context;
mod error;
mod graph;
pub mod ns;
mod render;
pub mod value;

pub use context::Context;
pub use error::JrqlError;
pub use graph::Graph;
pub use render::render_subjects;
