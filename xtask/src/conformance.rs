//! `cargo xtask test-conformance`: runs the unmodified npm `@m-ld/m-ld-test` compliance specs against
//! the `mld-orchestrator`, with clones of this engine or, in a mixed run, alternating with m-ld-js.
//!
//! Owns the small node runner script (the pinned npm packages are `crate::npm`'s), and the lifetimes of the orchestrator and of the broker (`--mosquitto`:
//! a Mosquitto process; by default the orchestrator's embedded broker). It knows nothing of m-ld
//! itself.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::mosquitto::Mosquitto;
use crate::{cargo, root, target_dir};

const RUNNER_JS: &str = r#"// Runs the m-ld compliance specs against an orchestrator: node conformance-runner.js URL SPEC...
// A spec starting with `./` selects from our own specs, in the folder MLD_LOCAL_SPECS.
const { relative } = require('path');
const { appendFileSync } = require('fs');
const { runner } = require('@m-ld/m-ld-test/compliance');
const { Clone } = require('@m-ld/m-ld-test');
const [url, ...specs] = process.argv.slice(2);
const local = process.env.MLD_LOCAL_SPECS;
const run = runner(specs, local ? { localTestPath: relative(process.cwd(), local) } : undefined);
// Each failed spec's name and domain, one JSON line each, for the clone logs to show.
const failures = process.env.MLD_FAILED_SPECS;
if (failures) jasmine.getEnv().addReporter({
  specDone: result => result.status === 'failed' && appendFileSync(failures,
    JSON.stringify({ spec: result.fullName, domain: Clone.domain }) + '\n')
});
run(url).then(
  done => process.exit(done && done.overallStatus === 'passed' ? 0 : 1),
  err => { console.error(err); process.exit(2); });
"#;

/// Our own specs (e.g. bigger chaos), selected as `./N`; they use the suite's modules.
const LOCAL_SPECS: &str = "crates/conformance/specs";

/// Which engines the clones run.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Engines {
    /// Ours only.
    Rust,
    /// Ours and m-ld-js, alternating clone by clone.
    Mixed,
    /// m-ld-js only.
    JsOnly,
}

impl Engines {
    /// As our own specs read it (`MLD_ENGINES`).
    fn name(self) -> &'static str {
        match self {
            Engines::Rust => "rust",
            Engines::Mixed => "mixed",
            Engines::JsOnly => "js",
        }
    }
}

/// Runs the suite; fails unless every selected spec passes.
pub fn run(
    engines_used: Engines,
    mosquitto: bool,
    latency: Option<&str>,
    skips: &[String],
    specs: &[String],
) -> Result<()> {
    let mut specs = specs.to_vec();
    if !skips.is_empty() {
        if specs.iter().any(|s| s.starts_with("--filter")) {
            bail!("--skip and a --filter spec argument cannot be combined");
        }
        specs.push(skip_filter(skips));
    }
    let cache = target_dir().join("conformance");
    // The suite, jasmine (which it does not declare) and m-ld-js for mixed colonies.
    let modules = crate::npm::install()?;
    // The runner lives beside the packages, so that it and our specs load the same copy of the
    // suite (its `Clone` holds the orchestrator's URL).
    let node_dir = modules
        .parent()
        .context("the npm packages' folder")?
        .to_path_buf();
    std::fs::write(node_dir.join("conformance-runner.js"), RUNNER_JS)?;
    cargo(&["build", "-p", "m-ld-conformance", "--bins"], &[])?;
    let bin = target_dir().join("debug");
    let rust = bin.join("mld-clone").display().to_string();
    let js = format!(
        "node {} {}",
        root().join("crates/conformance/js/clone.js").display(),
        modules.display()
    );
    let engines = match engines_used {
        Engines::Rust => vec![rust],
        Engines::Mixed => vec![rust, js],
        Engines::JsOnly => vec![js],
    };
    // One directory per run, so that runs from several work trees sharing a target directory
    // do not clobber each other's clone data and logs. Kept on failure for its logs.
    let work_dir = cache.join(format!("run-{}", std::process::id()));
    if work_dir.exists() {
        std::fs::remove_dir_all(&work_dir)?;
    }
    let mut orchestrator = Command::new(bin.join("mld-orchestrator"));
    for engine in &engines {
        orchestrator.arg("--engine").arg(engine);
    }
    if let Some(latency) = latency {
        orchestrator.arg("--latency").arg(latency);
    }
    // Stopped when this run ends (the orchestrator's own embedded broker otherwise).
    let broker = if mosquitto {
        let broker = Mosquitto::start(&cache)?;
        orchestrator
            .arg("--broker")
            .arg(format!("127.0.0.1:{}", broker.port));
        eprintln!("xtask: Mosquitto on 127.0.0.1:{}", broker.port);
        Some(broker)
    } else {
        None
    };
    let mut orchestrator = orchestrator
        .arg("--work-dir")
        .arg(&work_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("starting mld-orchestrator")?;
    let url = {
        let stdout = orchestrator.stdout.take().context("orchestrator stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        if line.is_empty() {
            // It has ended before listening (e.g. on a bad `--latency`); its error is above.
            let status = orchestrator.wait()?;
            bail!("mld-orchestrator ended before listening ({status})");
        }
        let info: serde_json::Value =
            serde_json::from_str(&line).with_context(|| format!("orchestrator said {line:?}"))?;
        info["url"]
            .as_str()
            .with_context(|| format!("no url in {line:?}"))?
            .to_owned()
    };
    eprintln!(
        "xtask: orchestrator at {url}; clone logs in {}",
        work_dir.join("logs").display()
    );
    if let Some(latency) = latency {
        eprintln!("xtask: emulated latency {latency} between every clone and the broker");
    }
    let selections: Vec<String> = specs.iter().map(|s| selection(s)).collect();
    std::fs::create_dir_all(&work_dir)?;
    let failures = work_dir.join("failed-specs.jsonl");
    let status = Command::new("node")
        .env("MLD_LOCAL_SPECS", root().join(LOCAL_SPECS))
        .env("MLD_FAILED_SPECS", &failures)
        .env("MLD_ENGINES", engines_used.name())
        // Our specs require the suite's modules from the cache.
        .env("NODE_PATH", &modules)
        .arg("conformance-runner.js")
        .arg(&url)
        .args(&selections)
        .current_dir(&node_dir)
        .status()
        .context("running node")?;
    // Closing its standard input stops the orchestrator and its clones.
    drop(orchestrator.stdin.take());
    let _ = orchestrator.wait();
    drop(broker);
    if status.success() {
        let _ = std::fs::remove_dir_all(&work_dir);
    } else {
        show_failed_clone_logs(&failures, &work_dir.join("logs"));
        bail!(
            "compliance specs failed ({status}); clone logs are in {}",
            work_dir.join("logs").display()
        );
    }
    Ok(())
}

/// Lines of each clone log shown for a failed spec.
const LOG_TAIL_LINES: usize = 80;

/// Prints the end of the logs of the clones of each failed spec (found by the domain named in
/// the orchestrator's start note), so that a run on another machine can be diagnosed from its
/// output alone.
fn show_failed_clone_logs(failures: &Path, logs: &Path) {
    let Ok(failed) = std::fs::read_to_string(failures) else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(logs) else {
        return;
    };
    let logs: Vec<(PathBuf, String)> = entries
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let text = std::fs::read_to_string(&path).ok()?;
            Some((path, text))
        })
        .collect();
    for line in failed.lines() {
        let Ok(failure) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let (Some(spec), Some(domain)) = (failure["spec"].as_str(), failure["domain"].as_str())
        else {
            continue;
        };
        eprintln!("xtask: clone logs of the failed spec {spec:?} (domain {domain}):");
        let start = format!("start in {domain} ");
        for (path, text) in logs.iter().filter(|(_, text)| text.contains(&start)) {
            let lines: Vec<&str> = text.lines().collect();
            let from = lines.len().saturating_sub(LOG_TAIL_LINES);
            eprintln!(
                "---- {} (last {} lines)",
                path.display(),
                lines.len() - from
            );
            for line in &lines[from..] {
                eprintln!("{line}");
            }
        }
    }
}

/// The suite runner's `--filter` (a regular expression on full spec names) that leaves out the
/// specs whose names contain any of `skips`.
fn skip_filter(skips: &[String]) -> String {
    let escaped: Vec<String> = skips
        .iter()
        .map(|skip| {
            skip.chars()
                .flat_map(|c| {
                    let special = "\\^$.|?*+()[]{}/".contains(c);
                    special.then_some('\\').into_iter().chain([c])
                })
                .collect()
        })
        .collect();
    format!("--filter=^(?!.*(?:{}))", escaped.join("|"))
}

/// A bare spec group number `N` selects every spec of that group (`N/*`).
fn selection(spec: &str) -> String {
    if spec.chars().all(|c| c.is_ascii_digit()) {
        format!("{spec}/*")
    } else {
        spec.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_become_one_escaped_negative_filter() {
        let skips = ["list moves".to_owned(), "a (b)?".to_owned()];
        assert_eq!(
            skip_filter(&skips),
            r"--filter=^(?!.*(?:list moves|a \(b\)\?))"
        );
    }
}
