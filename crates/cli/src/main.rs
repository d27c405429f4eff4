//! `mld`: a m-ld clone on the command line.
//!
//! Starts a clone (by default the genesis clone of a new domain, held in memory; with `--data DIR`,
//! kept in RocksDB and resumed from there) and answers json-rql
//! requests given one JSON document per line, on standard input or from a file. Every output line is
//! one JSON object:
//! - `{"status": {...}}` once the clone has started;
//! - `{"request": N, "ok": true}` after a write, `{"request": N, "subjects": [...]}` after a read;
//! - `{"request": N, "error": {"status": code, "message": text}}` for a request that failed;
//! - `{"update": {...}}` for each update to the data (the m-ld `MeldUpdate` shape).
//!
//! A malformed line gets an error line and the session goes on. Blank lines are skipped.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;
use m_ld::core::store::Store;
use m_ld::{MeldClone, MeldConfig, MeldError};
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
    /// A JSON-LD context for the app, as a JSON object.
    #[arg(long, value_parser = parse_json)]
    context: Option<Value>,
    /// Read requests from this file instead of standard input.
    file: Option<PathBuf>,
}

fn parse_json(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("MLD_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let mut config = MeldConfig::new(&args.id, &args.domain, true);
    config.context = args.context.clone();
    let clone = MeldClone::new(config).await.context("starting the clone")?;
    match &args.file {
        Some(path) => {
            let file = tokio::fs::File::open(path)
                .await
                .with_context(|| format!("opening {}", path.display()))?;
            session(&clone, file).await?;
        }
        None => session(&clone, tokio::io::stdin()).await?,
    }
    clone.close().await?;
    Ok(())
}

/// Answers every request line of `input`, printing results and updates in order.
async fn session<S: Store>(clone: &MeldClone<S>, input: impl AsyncRead + Unpin) -> Result<()> {
    let mut out = tokio::io::stdout();
    let mut follow = clone.follow()?;
    emit(&mut out, &json!({"status": clone.status()?.to_json()})).await?;
    let mut lines = BufReader::new(input).lines();
    let mut number = 0u64;
    while let Some(line) = lines.next_line().await? {
        number += 1;
        if line.trim().is_empty() {
            continue;
        }
        let reply = match answer(clone, &line).await {
            Ok(reply) => reply,
            Err(error) => json!({"error": error}),
        };
        let mut reply = reply;
        if let Some(obj) = reply.as_object_mut() {
            obj.insert("request".into(), json!(number));
        }
        emit(&mut out, &reply).await?;
        // A local write's update is already waiting: print it right after its request.
        while let Some(update) = follow.try_next() {
            let line = match update {
                Ok(update) => json!({"update": update.to_json()}),
                Err(error) => json!({"error": error.to_json()}),
            };
            emit(&mut out, &line).await?;
        }
    }
    Ok(())
}

/// Answers one request line: a read gives its subjects, a write an acknowledgement.
async fn answer<S: Store>(clone: &MeldClone<S>, line: &str) -> Result<Value, Value> {
    let request: Value = serde_json::from_str(line)
        .map_err(|e| json!({"status": 4001, "message": format!("request is not JSON: {e}")}))?;
    let is_read = request.as_object().is_some_and(|o| {
        o.contains_key("@describe") || o.contains_key("@select") || o.contains_key("@construct")
    });
    let result: Result<Value, MeldError> = if is_read {
        clone
            .read(&request)
            .await
            .map(|subjects| json!({"subjects": subjects}))
    } else {
        clone.write(&request).await.map(|()| json!({"ok": true}))
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
