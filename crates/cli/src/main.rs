//! `mld`: a m-ld clone on the command line.
//!
//! Starts a clone (held in memory; with `--data DIR`, kept in RocksDB and resumed from there),
//! configured by the command line over an optional m-ld-js clone configuration file
//! (`--config FILE`, see `settings`). Its id defaults to `cli-` and six random hexadecimal
//! digits; an id that is live already on the broker is refused before anything connects under it
//! (the broker would disconnect the live clone), with exit status 1.
//!
//! With standard input and output on a terminal (and no FILE argument), `mld` is a shell
//! (`shell`): a prompt showing the domain and status, history, json-rql that may span lines,
//! and the commands `.get`, `.ask`, `.delete`, `.status`, `.load`, `.dump`, `.help` and `.exit`;
//! updates from other clones print as they arrive. Otherwise it answers json-rql requests given
//! one JSON document per line, on standard input or from a file, as below.
//!
//! The clone shares its domain through an MQTT broker: by default the embedded broker on the
//! loopback port 1883, which the first `mld` process hosts for the others (and another takes over
//! if it exits), so several `mld` processes on one machine share a domain with no set-up; or an
//! external broker with `--mqtt URL` (or the configuration's `mqtt` options); or none with
//! `--alone`. A new clone joins the domain if another clone of it is live, and starts it
//! otherwise (`--genesis` / `--join`, or the configuration's `genesis`, force a choice).
//!
//! Every output line (off a terminal) is one JSON object:
//! - `{"status": {...}}` once the clone has started;
//! - `{"request": N, "ok": true}` after a write, `{"request": N, "subjects": [...]}` after a read
//!   (`@describe`, `@select`, `@distinct`, `@construct`), `{"request": N, "ask": true|false}`
//!   after an ask (`{"@where": ...}` alone: whether it has a solution); the library decides
//!   which a request is (`m_ld::RequestKind`);
//! - `{"request": N, "error": {"status": code, "message": text}}` for a request that failed;
//! - `{"update": {...}}` for each update to the data, local or from other clones (the m-ld
//!   `MeldUpdate` shape); a local write's update follows its acknowledgement;
//! - `{"error": {"status": code, "message": text}}` alone if the clone cannot start (for example
//!   5034 when another process has the `--data` directory open, 5000 for a bad configuration or
//!   a clone id that is live already); the exit status is then 1.
//!
//! A malformed line gets an error line and the session goes on. Blank lines are skipped. Logs go
//! to standard error, filtered by `RUST_LOG` (default `warn`), in colour only on a terminal.

mod input;
mod network;
mod settings;
mod shell;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;
use m_ld::core::store::MemoryStore;
use m_ld::core::store::Store;
use m_ld::{Follow, MeldClone, MeldConfig, MeldError, MeldUpdate, RequestKind};
use network::{Genesis, Network, Started};
use serde_json::{Value, json};
use settings::Settings;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};

/// A m-ld clone: a shell on a terminal; through pipes or from a file, json-rql requests one JSON
/// document per line, answered with JSON lines.
#[derive(Parser, Debug)]
#[command(version, about, after_help = AFTER_HELP)]
struct Args {
    /// An m-ld-js clone configuration file (JSON: "@id", "@domain", "genesis", "@context",
    /// "networkTimeout", "mqtt": {"host", "port", ...}, ...). Options given here override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The domain to share [default: the configuration's "@domain", else example.m-ld.org].
    #[arg(long)]
    domain: Option<String>,
    /// This clone's identity, unique among the live clones on its broker [default: the
    /// configuration's "@id", else "cli-" and six random hexadecimal digits]. A clone id that
    /// is live already is refused.
    #[arg(long)]
    id: Option<String>,
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
    /// The loopback port of the shared embedded broker [default: 1883, unless the
    /// configuration names a broker].
    #[arg(long)]
    broker_port: Option<u16>,
    /// Start the domain (fail if other clones of it are live), rather than decide by who is live
    /// (or by the configuration's "genesis").
    #[arg(long, conflicts_with = "join")]
    genesis: bool,
    /// Join the domain (fail if no other clone of it is live), rather than decide by who is live
    /// (or by the configuration's "genesis").
    #[arg(long)]
    join: bool,
    /// Read requests (JSON lines) from this file instead of standard input.
    file: Option<PathBuf>,
}

const AFTER_HELP: &str = "\
With standard input and output on a terminal (and no FILE), mld is a shell: type json-rql, or \
.help for its commands. Otherwise it reads one JSON request a line and prints JSON lines.

Logging goes to standard error, filtered by RUST_LOG (default: warn).";

fn parse_json(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let interactive =
        args.file.is_none() && std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    tracing_subscriber::fmt()
        .with_env_filter(
            // The embedded broker reports every dropped client as an error: keep it quiet unless
            // RUST_LOG asks for it.
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,rumqttd=off")),
        )
        .with_ansi(shell::colour(std::io::stderr().is_terminal()))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("mld: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args, interactive)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mld: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args, interactive: bool) -> Result<()> {
    let mode = Mode { interactive };
    let Settings {
        config,
        network,
        genesis,
    } = match Settings::of(&args) {
        Ok(settings) => settings,
        Err(error) => {
            return report_start::<MemoryStore>(Err(error), mode)
                .await
                .map(drop);
        }
    };
    match &args.data {
        None => {
            let starting = shell::Starting::show(interactive, &config);
            let started =
                network::start(&network, genesis, config, || Ok(MemoryStore::new())).await;
            drop(starting);
            serve(report_start(started, mode).await?, &args, mode).await
        }
        Some(path) => serve_durable(path, &network, genesis, config, &args, mode).await,
    }
}

/// How the session talks to its user.
#[derive(Debug, Clone, Copy)]
struct Mode {
    /// A person at a terminal: the shell.
    interactive: bool,
}

/// Runs a clone kept in RocksDB at `path`.
#[cfg(feature = "rocksdb")]
async fn serve_durable(
    path: &std::path::Path,
    network: &Network,
    genesis: Genesis,
    config: MeldConfig,
    args: &Args,
    mode: Mode,
) -> Result<()> {
    use m_ld::store_rocks::{RocksOptions, RocksStore};
    let id = config.id.clone();
    let store = || {
        let store = RocksStore::open(path, RocksOptions::default()).map_err(MeldError::from)?;
        // Without --id, the clone is the same each time it opens this directory.
        settings::keep_id(path, &id)?;
        Ok(store)
    };
    let starting = shell::Starting::show(mode.interactive, &config);
    let started = network::start(network, genesis, config, store).await;
    drop(starting);
    serve(report_start(started, mode).await?, args, mode).await
}

#[cfg(not(feature = "rocksdb"))]
async fn serve_durable(
    _: &std::path::Path,
    _: &Network,
    _: Genesis,
    _: MeldConfig,
    _: &Args,
    mode: Mode,
) -> Result<()> {
    let error = MeldError::Config("--data needs mld built with the rocksdb feature".into());
    report_start::<MemoryStore>(Err(error), mode).await?;
    Ok(())
}

/// The started clone; or, if it failed to start, the failure (printed as an error line too,
/// unless a person is reading).
async fn report_start<S: Store>(
    started: Result<Started<S>, MeldError>,
    mode: Mode,
) -> Result<Started<S>> {
    match started {
        Ok(started) => Ok(started),
        Err(error) => {
            if !mode.interactive {
                emit(&mut tokio::io::stdout(), &json!({"error": error.to_json()})).await?;
            }
            Err(anyhow::Error::new(error).context("starting the clone"))
        }
    }
}

/// Answers the requests of the input (or runs the shell), then closes the clone.
async fn serve<S: Store>(started: Started<S>, args: &Args, mode: Mode) -> Result<()> {
    if mode.interactive {
        let result = shell::run(&started.clone).await;
        started.close().await?;
        return result;
    }
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
/// subjects, an ask its boolean, a write an acknowledgement. The shell answers JSON with it too.
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
