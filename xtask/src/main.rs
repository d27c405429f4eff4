//! Project automation for the m-ld Rust workspace, run as `cargo xtask <command>`.
//!
//! Owns every multi-step job (the CI sequence, later the conformance suite and benchmark comparisons).
//! It shells out to cargo and other tools; it must not depend on the engine crates.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

mod bench_compare;
mod conformance;
mod mosquitto;
mod npm;

#[derive(Parser)]
#[command(about = "Project automation for the m-ld Rust workspace")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// The full CI sequence: format check, clippy with warnings denied, then the workspace tests.
    Ci {
        /// Proptest cases per property (CI uses at least 1,000).
        #[arg(long, default_value_t = 1000)]
        proptest_cases: u32,
    },
    /// Runs the unmodified m-ld compliance suite (npm `@m-ld/m-ld-test`) against this engine.
    TestConformance {
        /// Alternate clones between this engine and m-ld-js 0.10.0.
        #[arg(long)]
        mixed: bool,
        /// Run m-ld-js 0.10.0 clones only (to tell m-ld-js's own behaviour from a mixed
        /// colony's).
        #[arg(long, conflicts_with = "mixed")]
        js_only: bool,
        /// Use a Mosquitto broker (on a loopback port) instead of the embedded one.
        #[arg(long)]
        mosquitto: bool,
        /// Leave out the specs whose full name contains this text (repeatable); for specs
        /// documented in docs/compliance.md as depending on timing.
        #[arg(long = "skip", value_name = "TEXT")]
        skips: Vec<String>,
        /// Spec selections: `1` for all start specs, `1/3` for one file, `2` for chaos, ...
        specs: Vec<String>,
    },
    /// Runs the replication workloads on this engine and on m-ld-js 0.10 side by side, on one
    /// broker, and prints the medians with their ratio.
    BenchCompare(bench_compare::Args),
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Cmd::Ci { proptest_cases } => ci(proptest_cases),
        Cmd::TestConformance {
            mixed,
            js_only,
            mosquitto,
            skips,
            specs,
        } => {
            let engines = match (mixed, js_only) {
                (true, _) => conformance::Engines::Mixed,
                (_, true) => conformance::Engines::JsOnly,
                _ => conformance::Engines::Rust,
            };
            conformance::run(engines, mosquitto, &skips, &specs)
        }
        Cmd::BenchCompare(args) => bench_compare::run(args),
    }
}

/// The workspace root: the parent of this crate's manifest directory.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The cargo target directory (honouring `CARGO_TARGET_DIR`).
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { root().join(p) })
        .unwrap_or_else(|| root().join("target"))
}

fn cargo(args: &[&str], envs: &[(&str, String)]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("xtask: cargo {}", args.join(" "));
    let status = Command::new(cargo)
        .args(args)
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .current_dir(root())
        .status()
        .with_context(|| format!("running cargo {}", args.join(" ")))?;
    if !status.success() {
        bail!("cargo {} failed: {status}", args.join(" "));
    }
    Ok(())
}

fn ci(proptest_cases: u32) -> Result<()> {
    cargo(&["fmt", "--all", "--", "--check"], &[])?;
    cargo(
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    cargo(
        &["test", "--workspace"],
        &[("PROPTEST_CASES", proptest_cases.to_string())],
    )?;
    // The durable (RocksDB) tests of the facade and the CLI sit behind their `rocksdb` features,
    // which the workspace's default build leaves out.
    cargo(
        &[
            "test",
            "-p",
            "m-ld",
            "-p",
            "m-ld-cli",
            "--features",
            "m-ld/rocksdb,m-ld-cli/rocksdb",
        ],
        &[("PROPTEST_CASES", proptest_cases.to_string())],
    )?;
    Ok(())
}

#[cfg(test)]
mod tidy {
    //! Repository rules, checked as tests.
    use super::root;
    use std::path::Path;

    fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if name == "target" || name == "node_modules" || name.to_string_lossy().starts_with('.')
            {
                continue;
            }
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// Every library source file opens with a `//!` module doc saying what it owns.
    #[test]
    fn every_library_module_has_a_doc() {
        let mut files = Vec::new();
        for krate in ["crates", "xtask/src"] {
            rust_files(&root().join(krate), &mut files);
        }
        let missing: Vec<_> = files
            .iter()
            .filter(|f| f.components().any(|c| c.as_os_str() == "src"))
            .filter(|f| {
                let text = std::fs::read_to_string(f).unwrap_or_default();
                let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
                !(first.starts_with("//!") || first.starts_with("#![doc"))
            })
            .collect();
        assert!(
            missing.is_empty(),
            "files without a //! module doc: {missing:?}"
        );
    }
}
