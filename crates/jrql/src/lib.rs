//! # m-ld-jrql
//!
//! json-rql (JSON-LD plus query keywords) to and from RDF for m-ld.
