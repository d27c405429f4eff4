//! `mld-orchestrator`: serves the `@m-ld/m-ld-test` REST interface on a loopback port, running each
//! clone as a process of one of the given engines. Prints `{"url": "http://127.0.0.1:PORT/"}` on
//! standard output once it listens, then runs until standard input closes.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;
use m_ld_conformance::delay::Delay;
use m_ld_conformance::orchestrator::{Config, Orchestrator};
use serde_json::json;
use tokio::io::AsyncReadExt;

/// The m-ld compliance-suite orchestrator.
#[derive(Parser, Debug)]
struct Args {
    /// A command that starts a clone process (whitespace-separated); repeat for a mixed colony.
    #[arg(long = "engine", required = true)]
    engines: Vec<String>,
    /// An MQTT broker to use; by default an embedded broker on an ephemeral loopback port.
    #[arg(long)]
    broker: Option<SocketAddr>,
    /// Where clone data and logs go.
    #[arg(long)]
    work_dir: PathBuf,
    /// The `networkTimeout` given to clones, in milliseconds (the m-ld-js orchestrator uses 1000).
    #[arg(long, default_value_t = 1000)]
    network_timeout: u64,
    /// Emulated one-way network latency between every clone and the broker, in both directions,
    /// optionally with a jitter (uniform in [0, JITTER]): `5ms` or `5ms,2ms` (units s, ms, us).
    /// Bytes are delayed, never reordered or dropped.
    #[arg(long, value_name = "LATENCY[,JITTER]", default_value_t = Delay::NONE)]
    latency: Delay,
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // rumqttd reports every dropped client connection (the suite kills and
                // partitions clones on purpose) as an error.
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,rumqttd=off")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    std::fs::create_dir_all(&args.work_dir)?;
    let (broker, _embedded) = match args.broker {
        Some(addr) => (addr, None),
        None => {
            let embedded = m_ld_mqtt::EmbeddedBroker::start(SocketAddr::from(([127, 0, 0, 1], 0)))
                .context("starting the embedded MQTT broker")?;
            (embedded.addr(), Some(embedded))
        }
    };
    let orchestrator = Orchestrator::new(Config {
        broker,
        engines: args
            .engines
            .iter()
            .map(|e| e.split_whitespace().map(str::to_owned).collect())
            .collect(),
        work_dir: args.work_dir.clone(),
        clone_defaults: json!({"networkTimeout": args.network_timeout}),
        delay: args.latency,
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let url = format!("http://127.0.0.1:{}/", listener.local_addr()?.port());
    println!(
        "{}",
        json!({"url": url, "broker": broker.to_string(), "latency": args.latency.to_string()})
    );
    let server = axum::serve(listener, orchestrator.router());
    tokio::select! {
        result = server => result?,
        _ = async {
            // Runs until the parent closes our standard input.
            let mut sink = Vec::new();
            let _ = tokio::io::stdin().read_to_end(&mut sink).await;
        } => {}
    }
    orchestrator.shutdown().await;
    Ok(())
}
