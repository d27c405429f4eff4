//! The replication workload runner (`cargo run --release -p m-ld-benches --example replication`),
//! shared by `cargo xtask bench-compare` and, through `workloads.rs`, the `replication` bench.
//!
//! ```text
//! replication broker
//!     Starts an embedded MQTT broker on 127.0.0.1 (an ephemeral port), prints {"port": N} and
//!     serves until its standard input closes.
//! replication run [--port N] [--runs N] [--quick] [WORKLOAD...]
//!     Runs the workloads (default: all four) on the broker at 127.0.0.1:N, or on an embedded
//!     one, printing one JSON line {"engine":"rust","metric","ms"} per figure per run.
//! ```
//!
//! Owns the command line only; the workloads are defined in `workloads.rs`.

// A benchmark harness: a failure should stop it loudly.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod workloads;

use std::io::{BufRead, Write};
use std::process::ExitCode;

use m_ld::mqtt::EmbeddedBroker;
use workloads::{Bench, BenchError, Sizes, WORKLOADS};

fn main() -> ExitCode {
    // Logs to standard error, by RUST_LOG (none by default).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("replication: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<String>) -> Result<(), BenchError> {
    let Some((command, rest)) = args.split_first() else {
        return Err(usage());
    };
    match command.as_str() {
        "broker" => serve_broker(),
        "run" => run_workloads(rest),
        _ => Err(usage()),
    }
}

fn usage() -> BenchError {
    "usage: replication broker | replication run [--port N] [--runs N] [--quick] [WORKLOAD...]"
        .into()
}

fn serve_broker() -> Result<(), BenchError> {
    let broker = EmbeddedBroker::start("127.0.0.1:0".parse()?)?;
    println!("{}", serde_json::json!({"port": broker.port()}));
    std::io::stdout().flush()?;
    // Serve until whoever started us closes our input.
    for line in std::io::stdin().lock().lines() {
        line?;
    }
    broker.stop();
    Ok(())
}

fn run_workloads(args: &[String]) -> Result<(), BenchError> {
    let mut port = None;
    let mut runs = 1;
    let mut sizes = Sizes::FULL;
    let mut selected = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => port = Some(args.next().ok_or("--port needs a value")?.parse()?),
            "--runs" => runs = args.next().ok_or("--runs needs a value")?.parse()?,
            "--quick" => sizes = Sizes::QUICK,
            workload if WORKLOADS.contains(&workload) => selected.push(workload.to_owned()),
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    if selected.is_empty() {
        selected = WORKLOADS.iter().map(|w| (*w).to_owned()).collect();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let broker = match port {
        Some(_) => None,
        None => Some(EmbeddedBroker::start("127.0.0.1:0".parse()?)?),
    };
    let port = port
        .or(broker.as_ref().map(EmbeddedBroker::port))
        .ok_or("no broker")?;
    for _ in 0..runs {
        for workload in &selected {
            let figures = runtime.block_on(Bench::new(port).run(workload, sizes))?;
            for figure in figures {
                println!("{}", figure.to_json("rust"));
            }
            std::io::stdout().flush()?;
        }
    }
    drop(runtime);
    if let Some(broker) = broker {
        broker.stop();
    }
    Ok(())
}
