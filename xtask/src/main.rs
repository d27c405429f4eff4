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
mod fresh_check;
mod mosquitto;
mod npm;
mod prereq;

#[derive(Parser)]
#[command(about = "Project automation for the m-ld Rust workspace")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// The full CI sequence: format check, clippy with warnings denied, then `test`.
    Ci {
        /// Proptest cases per property (CI uses at least 1,000).
        #[arg(long, default_value_t = 1000)]
        proptest_cases: u32,
    },
    /// The tests, as the README runs them: installs or checks what they need (libclang, node
    /// and npm, Mosquitto, the pinned m-ld-js tools), then runs the workspace tests, the RocksDB
    /// tests of the facade and the CLI, and the examples.
    Test(TestArgs),
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
    /// The README's test command on a fresh Debian root (debootstrap; needs root and the network):
    /// an ordinary user must be stopped within a minute with the install command, and root must
    /// pass. Takes as long as a cold build.
    FreshCheck,
    /// Installs the pinned m-ld-js tools (js/package.json) and prints their node_modules folder,
    /// for `M_LD_JS_NODE_MODULES` and `NODE_PATH`.
    NpmInstall,
}

/// Options of `cargo xtask test`.
#[derive(clap::Args, Debug, Clone)]
struct TestArgs {
    /// Leave out the tests that need node, npm and Mosquitto (m-ld-js interop); they skip with
    /// a message instead of failing.
    #[arg(long)]
    no_interop: bool,
    /// Proptest cases per property (default: each property's own, a few dozen).
    #[arg(long)]
    proptest_cases: Option<u32>,
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Cmd::Ci { proptest_cases } => ci(proptest_cases),
        Cmd::Test(args) => test(&args),
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
        Cmd::FreshCheck => fresh_check::run(),
        Cmd::NpmInstall => {
            println!("{}", npm::install()?.display());
            Ok(())
        }
    }
}

/// The workspace root of the tree `cargo xtask` runs in. Cargo sets `CARGO_MANIFEST_DIR` when it
/// runs the binary; the compile-time value is only a fallback: work trees sharing one target
/// directory share one xtask binary, built in whichever tree came first.
fn root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
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
    timed("format check", || {
        cargo(&["fmt", "--all", "--", "--check"], &[])
    })?;
    // Clippy builds RocksDB too: check its prerequisite first.
    prereq::ensure(&[prereq::Tool::Libclang])?;
    announce_rocksdb_build();
    timed("clippy", || {
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
        )
    })?;
    test(&TestArgs {
        no_interop: false,
        proptest_cases: Some(proptest_cases),
    })
}

/// `cargo xtask test`: see [`Cmd::Test`].
fn test(args: &TestArgs) -> Result<()> {
    let mut tools = vec![prereq::Tool::Libclang];
    if !args.no_interop {
        tools.extend([prereq::Tool::Node, prereq::Tool::Mosquitto]);
    }
    prereq::ensure(&tools)?;
    let mut envs: Vec<(&str, String)> = Vec::new();
    if let Some(cases) = args.proptest_cases {
        envs.push(("PROPTEST_CASES", cases.to_string()));
    }
    if args.no_interop {
        eprintln!("xtask: --no-interop: the m-ld-js and Mosquitto interop tests will skip");
    } else {
        let modules = timed("npm install", npm::install)?;
        envs.push(("M_LD_JS_NODE_MODULES", modules.display().to_string()));
        // Interop tests fail, rather than skip, if what they need is missing.
        envs.push(("MLD_REQUIRE_INTEROP", "1".into()));
    }
    announce_rocksdb_build();
    timed("workspace tests", || cargo(&["test", "--workspace"], &envs))?;
    // The durable (RocksDB) tests of the facade and the CLI sit behind their `rocksdb` features,
    // which the workspace's default build leaves out; the MQTT-with-RocksDB example too.
    timed("RocksDB tests of the facade and the CLI", || {
        cargo(
            &[
                "test",
                "-p",
                "m-ld",
                "-p",
                "m-ld-cli",
                "--features",
                "m-ld/rocksdb,m-ld/mqtt-broker,m-ld-cli/rocksdb",
            ],
            &envs,
        )
    })?;
    timed("examples", run_examples)
}

/// The facade's examples, each run to completion (bounded): they were built by the tests.
const EXAMPLES: [&str; 5] = [
    "in_memory",
    "two_clones",
    "follow_model",
    "import_turtle",
    "mqtt_rocksdb",
];

fn run_examples() -> Result<()> {
    const LIMIT: std::time::Duration = std::time::Duration::from_secs(120);
    for example in EXAMPLES {
        let binary = target_dir().join("debug/examples").join(example);
        eprintln!("xtask: example {example}");
        let mut child = Command::new(&binary)
            .stdout(std::process::Stdio::null())
            .spawn()
            .with_context(|| format!("running {}", binary.display()))?;
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if started.elapsed() > LIMIT {
                let _ = child.kill();
                bail!("example {example} did not finish within {LIMIT:?}");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        if !status.success() {
            bail!("example {example} failed: {status}");
        }
    }
    Ok(())
}

/// Runs a step, printing its wall time.
fn timed<T>(step: &str, run: impl FnOnce() -> Result<T>) -> Result<T> {
    let started = std::time::Instant::now();
    let result = run();
    eprintln!(
        "xtask: {step}: {} in {:.0} s",
        if result.is_ok() { "done" } else { "failed" },
        started.elapsed().as_secs_f64()
    );
    result
}

/// Says so before a build that will compile RocksDB's C++ (none is in the target directory).
fn announce_rocksdb_build() {
    let built = std::fs::read_dir(target_dir().join("debug/build")).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("librocksdb-sys-")
                && e.path().join("out/librocksdb.a").exists()
        })
    });
    if !built {
        eprintln!(
            "xtask: the first build compiles RocksDB's C++: 15-25 minutes on 2 cores (later \
             builds reuse it, in {})",
            target_dir().display()
        );
    }
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
