#![doc = include_str!("../README.md")]

pub mod domain;
pub mod js;
pub mod ns;

pub use domain::{BadDomainName, DomainName};
