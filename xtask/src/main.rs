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
        /// Emulated one-way network latency between every clone and the broker, both directions,
        /// optionally with a jitter: `5ms` or `5ms,2ms` (units s, ms, us; see docs/compliance.md,
        /// "Emulated latency"). Passed to mld-orchestrator, which checks it.
        #[arg(long, value_name = "LATENCY[,JITTER]")]
        latency: Option<String>,
        /// Spec selections: `1` for all start specs, `1/3` for one file, `2` for chaos, ...
        specs: Vec<String>,
    },
    /// Runs the replication workloads on this engine and on m-ld-js 0.10 side by side, on one
    /// broker, and prints the medians with their ratio.
    BenchCompare(bench_compare::Args),
    /// Installs the pinned m-ld-js tools (js/package.json) and prints their node_modules folder,
    /// for `M_LD_JS_NODE_MODULES` and `NODE_PATH`.
    NpmInstall,
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Cmd::Ci { proptest_cases } => ci(proptest_cases),
        Cmd::TestConformance {
            mixed,
            js_only,
            mosquitto,
            skips,
            latency,
            specs,
        } => {
            let engines = match (mixed, js_only) {
                (true, _) => conformance::Engines::Mixed,
                (_, true) => conformance::Engines::JsOnly,
                _ => conformance::Engines::Rust,
            };
            conformance::run(engines, mosquitto, latency.as_deref(), &skips, &specs)
        }
        Cmd::BenchCompare(args) => bench_compare::run(args),
        Cmd::NpmInstall => {
            println!("{}", npm::install()?.display());
            Ok(())
        }
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
    // The tests that run m-ld-js find it here.
    let modules = npm::install()?.display().to_string();
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
        &[
            ("PROPTEST_CASES", proptest_cases.to_string()),
            ("M_LD_JS_NODE_MODULES", modules.clone()),
        ],
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
        &[
            ("PROPTEST_CASES", proptest_cases.to_string()),
            ("M_LD_JS_NODE_MODULES", modules),
        ],
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

    /// The repository's text files that may cite documents: sources, docs, scripts, manifests
    /// (everything but build output, git's own files and installed npm packages).
    fn text_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if name == "target" || name == "node_modules" || name == ".git" {
                continue;
            }
            if path.is_dir() {
                text_files(&path, out);
            } else if path
                .extension()
                .is_some_and(|e| ["rs", "md", "js", "py", "toml"].iter().any(|x| e == *x))
            {
                out.push(path);
            }
        }
    }

    /// Every text file of the repository, as (path relative to the root, text).
    fn repository_texts() -> Vec<(String, String)> {
        let mut files = Vec::new();
        text_files(&root(), &mut files);
        files.sort();
        files
            .iter()
            .filter_map(|f| {
                let text = std::fs::read_to_string(f).ok()?;
                let rel = f.strip_prefix(root()).unwrap_or(f);
                Some((rel.to_string_lossy().replace('\\', "/"), text))
            })
            .collect()
    }

    /// The 1-based line of a byte offset.
    fn line_of(text: &str, offset: usize) -> usize {
        text[..offset].matches('\n').count() + 1
    }

    /// The section numbers (`2`, `2.2`, `1.8.3`) of a document's numbered headings
    /// (`## 2. Messages`, `### 2.2 Operation message`).
    fn sections(doc: &str) -> std::collections::HashSet<String> {
        doc.lines()
            .filter(|l| l.starts_with('#'))
            .filter_map(|l| {
                let number = l.trim_start_matches('#').split_whitespace().next()?;
                let number = number.strip_suffix('.').unwrap_or(number);
                let numeric = !number.is_empty()
                    && number
                        .split('.')
                        .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
                numeric.then(|| number.to_owned())
            })
            .collect()
    }

    /// A section number at the start of `s` (digits and inner dots), and its length.
    fn section_number(s: &str) -> Option<(&str, usize)> {
        let mut end = 0;
        for (i, c) in s.char_indices() {
            if c.is_ascii_digit()
                || (c == '.' && s[i + 1..].starts_with(|d: char| d.is_ascii_digit()))
            {
                end = i + 1;
            } else {
                break;
            }
        }
        if end > 0 {
            Some((&s[..end], end))
        } else {
            None
        }
    }

    /// The sections cited right after a document's name in `rest`: `§2.2`, `§4.2–§4.4`,
    /// `§3.5, §3.7`, `§1.1 and §1.8`, possibly after a line break inside a comment.
    fn cited_sections(rest: &str) -> Vec<String> {
        let start = rest
            .find(|c: char| !(c.is_whitespace() || matches!(c, '/' | '!' | '#' | '*')))
            .unwrap_or(rest.len());
        let mut s = &rest[start..];
        let mut cited = Vec::new();
        while let Some(after) = s.strip_prefix('§') {
            let Some((number, len)) = section_number(after) else {
                break;
            };
            cited.push(number.to_owned());
            s = &after[len..];
            let next = ["–", "-", ", ", " and ", "/"]
                .iter()
                .find_map(|sep| s.strip_prefix(sep).filter(|r| r.starts_with('§')));
            match next {
                Some(r) => s = r,
                None => break,
            }
        }
        cited
    }

    /// Every `docs/protocol.md §N.M` and `docs/jrql.md §N.M` cited anywhere names a section
    /// heading of that document.
    #[test]
    fn cited_sections_exist() {
        let mut missing = Vec::new();
        let texts = repository_texts();
        for doc in ["docs/protocol.md", "docs/jrql.md"] {
            let path = root().join(doc);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let headings = sections(&text);
            for (file, text) in &texts {
                for (offset, _) in text.match_indices(doc) {
                    for section in cited_sections(&text[offset + doc.len()..]) {
                        if !headings.contains(&section) {
                            let line = line_of(text, offset);
                            missing.push(format!("{file}:{line}: {doc} §{section}"));
                        }
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "citations of sections that do not exist:\n{}",
            missing.join("\n")
        );
    }

    /// The repository stands alone: nothing cites a document outside it (the reference
    /// write-ups of m-ld-js, or any path of the machine it was written on).
    #[test]
    fn nothing_cites_documents_outside_the_repository() {
        // Assembled, so that this file does not match itself.
        let features = concat!("features", ".md");
        let protocol = concat!("protocol", ".md");
        let reference = concat!("shared", "/reference");
        let machine = concat!("/wo", "rk/");
        let mut found = Vec::new();
        for (file, text) in repository_texts() {
            for (i, line) in text.lines().enumerate() {
                let bare_protocol = line
                    .match_indices(protocol)
                    .any(|(at, _)| !line[..at].ends_with("docs/"));
                let external = line.contains(features)
                    || bare_protocol
                    || line.contains(reference)
                    || line.contains(machine);
                if external {
                    found.push(format!("{file}:{}: {}", i + 1, line.trim()));
                }
            }
        }
        assert!(
            found.is_empty(),
            "citations of documents outside the repository:\n{}",
            found.join("\n")
        );
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
