//! Criterion benchmarks of the m-ld engine through its public API; see `benches/workload.rs`.
