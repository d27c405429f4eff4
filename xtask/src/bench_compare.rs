//! `cargo xtask bench-compare`: runs the replication workloads (issue 4: latency p50/p99,
//! convergence after 10,000 writes, snapshot join of 20,000 triples, rev-up after 1,000 missed
//! operations) on this engine and on m-ld-js 0.10 in one session, on one broker, and prints the
//! medians side by side with their ratio.
//!
//! Owns the broker's lifetime and the table (the pinned npm packages of the JS side are
//! `crate::npm`'s). The workloads themselves live in
//! `benches/replication/workloads.rs` (run by the `replication` example, built in release) and
//! `benches/js/bench.js`; this module knows nothing of m-ld.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::mosquitto::Mosquitto;
use crate::{cargo, root, target_dir};

const WORKLOADS: [&str; 4] = ["latency", "converge", "snapshot", "revup"];

/// The reported metrics: (metric, workload, description, m-ld-js figure quoted by the issue, target).
const METRICS: [(&str, &str, &str, &str, &str); 5] = [
    (
        "latency_p50",
        "latency",
        "A write → B update p50 (1,000 writes)",
        "4.44 ms",
        "≤ 0.5 ms",
    ),
    (
        "latency_p99",
        "latency",
        "A write → B update p99 (1,000 writes)",
        "29.7 ms",
        "≤ 2 ms",
    ),
    (
        "converge",
        "converge",
        "B converged after 10,000 writes",
        "37 s",
        "≤ 1 s",
    ),
    (
        "snapshot",
        "snapshot",
        "join by snapshot, 20,000 triples",
        "8.2 s",
        "≤ 0.2 s",
    ),
    (
        "revup",
        "revup",
        "rev-up after 1,000 missed ops",
        "1.37 s",
        "≤ 0.1 s",
    ),
];

/// How long one workload run of either engine may take.
const RUN_TIMEOUT: Duration = Duration::from_secs(900);

/// Which MQTT broker both engines share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BrokerKind {
    /// This engine's embedded broker (rumqttd), in its own process.
    Embedded,
    /// A Mosquitto process (it must be installed).
    Mosquitto,
}

/// Options of `cargo xtask bench-compare`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Runs of each workload per engine; the table shows medians.
    #[arg(long, default_value_t = 3)]
    runs: u32,
    /// A tenth of the sizes, for a smoke run (figures not comparable with the targets).
    #[arg(long)]
    quick: bool,
    /// The broker both engines use.
    #[arg(long, value_enum, default_value_t = BrokerKind::Embedded)]
    broker: BrokerKind,
    /// Sets TCP_NODELAY on m-ld-js's sockets (mqtt.js leaves Nagle's algorithm on, which some
    /// brokers answer with delayed ACKs: tens of milliseconds per message).
    #[arg(long)]
    js_nodelay: bool,
    /// Only this engine's side (no node needed).
    #[arg(long)]
    rust_only: bool,
    /// Workloads to run (default: all): latency, converge, snapshot, revup.
    workloads: Vec<String>,
}

/// Runs the comparison and prints the table.
pub fn run(args: Args) -> Result<()> {
    let workloads: Vec<&str> = if args.workloads.is_empty() {
        WORKLOADS.to_vec()
    } else {
        args.workloads
            .iter()
            .map(|w| {
                WORKLOADS
                    .iter()
                    .find(|known| **known == w.as_str())
                    .copied()
                    .with_context(|| format!("unknown workload {w:?}; one of {WORKLOADS:?}"))
            })
            .collect::<Result<_>>()?
    };
    if args.runs == 0 {
        bail!("--runs must be at least 1");
    }
    let cache = target_dir().join("bench-compare");
    std::fs::create_dir_all(&cache)?;
    let modules = if args.rust_only {
        None
    } else {
        require_node()?;
        Some(crate::npm::install()?)
    };
    cargo(
        &[
            "build",
            "--release",
            "-p",
            "m-ld-benches",
            "--example",
            "replication",
        ],
        &[],
    )?;
    let runner = target_dir().join("release/examples/replication");
    let broker = Broker::start(args.broker, &runner, &cache)?;
    eprintln!(
        "xtask: {:?} broker on 127.0.0.1:{}; {} run(s) per workload per engine",
        args.broker, broker.port, args.runs
    );
    let port = broker.port.to_string();
    let script = root().join("benches/js/bench.js");
    let mut figures: BTreeMap<(&str, String), Vec<f64>> = BTreeMap::new();
    for run in 1..=args.runs {
        for workload in &workloads {
            let mut rust = Command::new(&runner);
            rust.args(["run", "--port", &port, workload]);
            let mut engines = vec![("rust", rust)];
            if let Some(modules) = &modules {
                let mut js = Command::new("node");
                js.arg(&script)
                    .args(["--port", &port, workload])
                    .env("NODE_PATH", modules);
                if args.js_nodelay {
                    js.env("MLD_BENCH_NODELAY", "1");
                }
                engines.push(("js", js));
            }
            for (engine, mut command) in engines {
                if args.quick {
                    command.arg("--quick");
                }
                for (metric, ms) in run_workload(command, &cache, engine, workload)? {
                    eprintln!("xtask: run {run} {engine} {metric}: {ms:.3} ms");
                    figures.entry((engine, metric)).or_default().push(ms);
                }
            }
        }
    }
    drop(broker);
    print_table(&figures, &workloads, &args);
    Ok(())
}

/// Fails with a clear message unless node and npm run.
fn require_node() -> Result<()> {
    for tool in ["node", "npm"] {
        let works = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !works {
            bail!(
                "bench-compare runs m-ld-js 0.10 and needs node and npm on the PATH, but `{tool} \
                 --version` failed; install Node.js (18 or later), or pass --rust-only"
            );
        }
    }
    Ok(())
}

/// Runs one engine's workload process (bounded), returning its `(metric, ms)` figures.
fn run_workload(
    mut command: Command,
    cache: &Path,
    engine: &str,
    workload: &str,
) -> Result<Vec<(String, f64)>> {
    let log = cache.join(format!("{engine}-{workload}.log"));
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log)?)
        .spawn()
        .with_context(|| format!("starting the {engine} {workload} workload"))?;
    let mut stdout = child.stdout.take().context("workload stdout")?;
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).map(|_| text)
    });
    let deadline = Instant::now() + RUN_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "the {engine} {workload} workload took over {RUN_TIMEOUT:?}; its log is {}",
                log.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = reader
        .join()
        .map_err(|_| anyhow::anyhow!("workload output reader failed"))??;
    if !status.success() {
        let errors = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = errors.lines().rev().take(20).collect();
        bail!(
            "the {engine} {workload} workload failed ({status}):\n{}\n(full log: {})",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
            log.display()
        );
    }
    let mut figures = Vec::new();
    for line in text.lines() {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if let (Some(metric), Some(ms)) = (value["metric"].as_str(), value["ms"].as_f64()) {
            figures.push((metric.to_owned(), ms));
        }
    }
    if figures.is_empty() {
        bail!("the {engine} {workload} workload printed no figures: {text:?}");
    }
    Ok(figures)
}

/// A broker process both engines connect to; stopped when dropped.
struct Broker {
    /// The embedded broker's runner process, which stops when its input closes.
    embedded: Option<Child>,
    /// Or Mosquitto, which stops when dropped.
    _mosquitto: Option<Mosquitto>,
    port: u16,
}

impl Broker {
    fn start(kind: BrokerKind, runner: &Path, cache: &Path) -> Result<Broker> {
        match kind {
            BrokerKind::Embedded => {
                let mut child = Command::new(runner)
                    .arg("broker")
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .spawn()
                    .context("starting the embedded broker")?;
                let mut line = String::new();
                let stdout = child.stdout.take().context("broker stdout")?;
                BufReader::new(stdout).read_line(&mut line)?;
                let port = serde_json::from_str::<serde_json::Value>(&line)
                    .ok()
                    .and_then(|v| v["port"].as_u64())
                    .and_then(|p| u16::try_from(p).ok());
                match port {
                    Some(port) => Ok(Broker {
                        embedded: Some(child),
                        _mosquitto: None,
                        port,
                    }),
                    None => {
                        let _ = child.kill();
                        let _ = child.wait();
                        bail!("the embedded broker said {line:?}, not its port")
                    }
                }
            }
            BrokerKind::Mosquitto => {
                let mosquitto = Mosquitto::start(cache)?;
                Ok(Broker {
                    embedded: None,
                    port: mosquitto.port,
                    _mosquitto: Some(mosquitto),
                })
            }
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        // The embedded broker stops when its input closes (Mosquitto stops when dropped).
        if let Some(child) = &mut self.embedded {
            drop(child.stdin.take());
            if !matches!(child.try_wait(), Ok(Some(_))) {
                std::thread::sleep(Duration::from_millis(200));
                if !matches!(child.try_wait(), Ok(Some(_))) {
                    let _ = child.kill();
                }
            }
            let _ = child.wait();
        }
    }
}

/// The median (the mean of the middle two for an even count).
fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// Milliseconds, in a unit that suits their size.
fn human(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.3} ms")
    }
}

fn print_table(figures: &BTreeMap<(&str, String), Vec<f64>>, workloads: &[&str], args: &Args) {
    let cell = |engine: &str, metric: &str| {
        figures
            .get(&(engine, metric.to_owned()))
            .and_then(|v| median(v))
    };
    let sizes = if args.quick {
        "quick sizes (a tenth)"
    } else {
        "the issue's sizes"
    };
    println!(
        "\nReplication, medians of {} run(s) per engine, {sizes}, {:?} broker{}:\n",
        args.runs,
        args.broker,
        if args.js_nodelay {
            ", m-ld-js with TCP_NODELAY"
        } else {
            ""
        }
    );
    println!(
        "| {:<40} | {:>10} | {:>10} | {:>9} | {:>12} | {:>8} |",
        "workload", "Rust", "m-ld-js", "JS / Rust", "js (issue)", "target"
    );
    println!(
        "|{:-<42}|{:->12}|{:->12}|{:->11}|{:->14}|{:->10}|",
        "", "", "", "", "", ""
    );
    for (metric, workload, what, quoted, target) in METRICS {
        if !workloads.contains(&workload) {
            continue;
        }
        let rust = cell("rust", metric);
        let js = cell("js", metric);
        let show = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), human);
        let ratio = match (rust, js) {
            (Some(r), Some(j)) if r > 0.0 => format!("{:.1}×", j / r),
            _ => "–".to_owned(),
        };
        println!(
            "| {what:<40} | {:>10} | {:>10} | {ratio:>9} | {quoted:>12} | {target:>8} |",
            show(rust),
            show(js)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn every_metric_belongs_to_a_workload() {
        for (_, workload, ..) in METRICS {
            assert!(WORKLOADS.contains(&workload), "{workload}");
        }
    }
}
