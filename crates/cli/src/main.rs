//! `mld`: a m-ld clone on the command line.
//!
//! Starts a clone (held in memory; with `--data DIR`, kept in RocksDB and resumed from there) and
//! answers json-rql requests given one JSON document per line, on standard input or from a file.
//!
//! The clone shares its domain through an MQTT broker: by default the embedded broker on the
//! loopback port 1883, which the first `mld` process hosts for the others (and another takes over
//! if it exits), so several `mld` processes on one machine share a domain with no set-up; or an
//! external broker with `--mqtt URL`; or none with `--alone`. A new clone joins the domain if
//! another clone of it is live, and starts it otherwise (`--genesis` / `--join` force a choice).
//!
//! Every output line is one JSON object:
//! - `{"status": {...}}` once the clone has started;
//! - `{"request": N, "ok": true}` after a write, `{"request": N, "subjects": [...]}` after a read
//!   (`@describe`, `@select`, `@distinct`, `@construct`), `{"request": N, "ask": true|false}`
//!   after an ask (`{"@where": ...}` alone: whether it has a solution); the library decides
//!   which a request is (`m_ld::RequestKind`);
//! - `{"request": N, "error": {"status": code, "message": text}}` for a request that failed;
//! - `{"update": {...}}` for each update to the data, local or from other clones (the m-ld
//!   `MeldUpdate` shape); a local write's update follows its acknowledgement;
//! - `{"error": {"status": code, "message": text}}` alone if the clone cannot start (for example
//!   5034 when another process has the `--data` directory open); the exit status is then 1.
//!
//! A malformed line gets an error line and the session goes on. Blank lines are skipped.

mod network;

use std::path::PathBuf;

use anyhow::Result;
use clap::Parser;
use m_ld::core::store::MemoryStore;
use m_ld::core::store::Store;
use m_ld::{Follow, MeldClone, MeldConfig, MeldError, MeldUpdate, RequestKind};
use network::{Genesis, Network, Started};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};

/// A m-ld clone that answers json-rql requests, one JSON document per line.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// The domain to create.
    #[arg(long, default_value = "example.m-ld.org")]
    domain: String,
    /// This clone's identity.
    #[arg(long, default_value = "cli")]
    id: String,
    /// Keep the clone's data in this directory (RocksDB), resuming it if it holds a clone already.
    /// Needs the `rocksdb` feature.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Keep at most this many journal entries (default: all). Peers further behind catch up by
    /// snapshot instead of rev-up.
    #[arg(long)]
    retain: Option<u64>,
    /// A JSON-LD context for the app, as a JSON object.
    #[arg(long, value_parser = parse_json)]
    context: Option<Value>,
    /// Share the domain through the MQTT broker at this URL (`mqtt://[user@]host[:port]`; a
    /// password can come from the MLD_MQTT_PASSWORD environment variable).
    #[arg(long, conflicts_with_all = ["alone", "broker_port"])]
    mqtt: Option<String>,
    /// Use no broker: the clone is alone, the genesis clone of its domain.
    #[arg(long)]
    alone: bool,
    /// The loopback port of the shared embedded broker.
    #[arg(long, default_value_t = network::DEFAULT_BROKER_PORT)]
    broker_port: u16,
    /// Start the domain (fail if other clones of it are live), rather than decide by who is live.
    #[arg(long, conflicts_with = "join")]
    genesis: bool,
    /// Join the domain (fail if no other clone of it is live), rather than decide by who is live.
    #[arg(long)]
    join: bool,
    /// Read requests from this file instead of standard input.
    file: Option<PathBuf>,
}

fn parse_json(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            // The embedded broker reports every dropped client as an error: keep it quiet.
            tracing_subscriber::EnvFilter::try_from_env("MLD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,rumqttd=off")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let network = if args.alone {
        Network::Alone
    } else if let Some(url) = &args.mqtt {
        Network::from_url(url).map_err(anyhow::Error::msg)?
    } else {
        Network::shared(args.broker_port)
    };
    let genesis = match (args.genesis, args.join) {
        (true, _) => Genesis::Yes,
        (_, true) => Genesis::No,
        _ => Genesis::Auto,
    };
    let mut config = MeldConfig::new(&args.id, &args.domain, false);
    config.context = args.context.clone();
    if let Some(keep) = args.retain {
        config.journal.admin.retention = m_ld::core::suset::Retention::Entries(keep);
    }
    match &args.data {
        None => {
            let started =
                network::start(&network, genesis, config, || Ok(MemoryStore::new())).await;
            serve(report_start(started).await?, &args).await
        }
        Some(path) => serve_durable(path, &network, genesis, config, &args).await,
    }
}

/// Runs a clone kept in RocksDB at `path`.
#[cfg(feature = "rocksdb")]
async fn serve_durable(
    path: &std::path::Path,
    network: &Network,
    genesis: Genesis,
    config: MeldConfig,
    args: &Args,
) -> Result<()> {
    use m_ld::store_rocks::{RocksOptions, RocksStore};
    let store = || RocksStore::open(path, RocksOptions::default()).map_err(MeldError::from);
    let started = network::start(network, genesis, config, store).await;
    serve(report_start(started).await?, args).await
}

#[cfg(not(feature = "rocksdb"))]
async fn serve_durable(
    _: &std::path::Path,
    _: &Network,
    _: Genesis,
    _: MeldConfig,
    _: &Args,
) -> Result<()> {
    let error = MeldError::Config("--data needs mld built with the rocksdb feature".into());
    report_start::<MemoryStore>(Err(error)).await?;
    Ok(())
}

/// The started clone; or, if it failed to start, the failure printed as an error line.
async fn report_start<S: Store>(started: Result<Started<S>, MeldError>) -> Result<Started<S>> {
    match started {
        Ok(started) => Ok(started),
        Err(error) => {
            emit(&mut tokio::io::stdout(), &json!({"error": error.to_json()})).await?;
            Err(anyhow::Error::new(error).context("starting the clone"))
        }
    }
}

/// Answers the requests of the input, then closes the clone.
async fn serve<S: Store>(started: Started<S>, args: &Args) -> Result<()> {
    let result = match &args.file {
        Some(path) => match tokio::fs::File::open(path).await {
            Ok(file) => session(&started.clone, file).await,
            Err(e) => Err(anyhow::Error::new(e).context(format!("opening {}", path.display()))),
        },
        None => session(&started.clone, tokio::io::stdin()).await,
    };
    started.close().await?;
    result
}

/// Answers every request line of `input`, printing results and updates in order; updates from
/// other clones are printed as they arrive.
async fn session<S: Store>(clone: &MeldClone<S>, input: impl AsyncRead + Unpin) -> Result<()> {
    let mut out = tokio::io::stdout();
    let mut follow = Some(clone.follow()?);
    emit(&mut out, &json!({"status": clone.status()?.to_json()})).await?;
    let mut lines = BufReader::new(input).lines();
    let mut number = 0u64;
    loop {
        let line = tokio::select! {
            line = lines.next_line() => match line? {
                Some(line) => line,
                None => break,
            },
            update = next_update(&mut follow) => {
                match update {
                    Some(update) => emit(&mut out, &update_line(update)).await?,
                    None => follow = None,
                }
                continue;
            }
        };
        number += 1;
        if line.trim().is_empty() {
            continue;
        }
        let mut reply = match answer(clone, &line).await {
            Ok(reply) => reply,
            Err(error) => json!({"error": error}),
        };
        if let Some(obj) = reply.as_object_mut() {
            obj.insert("request".into(), json!(number));
        }
        emit(&mut out, &reply).await?;
        // A local write's update is already waiting: print it right after its request.
        while let Some(update) = follow.as_mut().and_then(Follow::try_next) {
            emit(&mut out, &update_line(update)).await?;
        }
    }
    Ok(())
}

/// The next update, or never if the subscription has ended.
async fn next_update(follow: &mut Option<Follow>) -> Option<Result<MeldUpdate, MeldError>> {
    match follow {
        Some(follow) => follow.next().await,
        None => std::future::pending().await,
    }
}

fn update_line(update: Result<MeldUpdate, MeldError>) -> Value {
    match update {
        Ok(update) => json!({"update": update.to_json()}),
        Err(error) => json!({"error": error.to_json()}),
    }
}

/// Answers one request line, as the library classifies it ([`RequestKind`]): a read gives its
/// subjects, an ask its boolean, a write an acknowledgement.
async fn answer<S: Store>(clone: &MeldClone<S>, line: &str) -> Result<Value, Value> {
    let request: Value = serde_json::from_str(line)
        .map_err(|e| json!({"status": 4001, "message": format!("request is not JSON: {e}")}))?;
    let result: Result<Value, MeldError> = match RequestKind::of(&request) {
        Ok(RequestKind::Read(_)) => clone
            .read(&request)
            .await
            .map(|subjects| json!({"subjects": subjects})),
        Ok(RequestKind::Ask) => clone.ask(&request).await.map(|found| json!({"ask": found})),
        Ok(_) => clone.write(&request).await.map(|()| json!({"ok": true})),
        Err(e) => Err(e.into()),
    };
    result.map_err(|e| e.to_json())
}

async fn emit(out: &mut tokio::io::Stdout, value: &Value) -> Result<()> {
    let mut line = serde_json::to_vec(value)?;
    line.push(b'\n');
    out.write_all(&line).await?;
    out.flush().await?;
    Ok(())
}
