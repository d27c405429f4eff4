//! `mld-clone`: one m-ld clone as an OS process, driven by the orchestrator through the clone
//! process protocol (see `m_ld_conformance::protocol`): commands on standard input, events on
//! standard output, logs on standard error. The clone keeps its data in RocksDB and talks to its
//! domain over MQTT.

use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use m_ld::{MeldClone, MeldConfig, MeldError};
use m_ld_mqtt::{MqttConfig, MqttRemotes};
use m_ld_store_rocks::{RocksOptions, RocksStore};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

type Clone = MeldClone<RocksStore>;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let (out, mut out_queue) = mpsc::unbounded_channel::<Value>();
    let writer = tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        while let Some(event) = out_queue.recv().await {
            let mut line = event.to_string().into_bytes();
            line.push(b'\n');
            if stdout.write_all(&line).await.is_err() || stdout.flush().await.is_err() {
                break;
            }
        }
    });
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let start: Value = match lines.next_line().await? {
        Some(line) => serde_json::from_str(&line).context("start command")?,
        None => return Ok(()),
    };
    let clone = match open(&start).await {
        Ok(clone) => clone,
        Err(e) => {
            tracing::error!("clone did not start: {e:#}");
            let _ = out.send(json!({"@type": "unstarted", "err": format!("{e:#}")}));
            drop(out);
            let _ = writer.await;
            return Ok(());
        }
    };
    // Subscribe before announcing the start, so that no update after it goes unreported, but
    // report updates only after the start (the orchestrator expects `started` first).
    let follow = clone.follow()?;
    let _ = out.send(json!({"@type": "started"}));
    let (answers, forwarder) = forward_updates(follow, out.clone());
    forward_status(&clone, out.clone())?;
    // Requests in flight, finished before a stop closes the clone.
    let mut requests = tokio::task::JoinSet::new();
    while let Some(line) = lines.next_line().await? {
        while requests.try_join_next().is_some() {}
        let Ok(command) = serde_json::from_str::<Value>(&line) else {
            tracing::warn!("ignored command line: {line}");
            continue;
        };
        let id = command.get("requestId").cloned().unwrap_or(Value::Null);
        match command.get("@type").and_then(Value::as_str) {
            Some("transact") => {
                let request = command.get("request").cloned().unwrap_or(Value::Null);
                let clone = clone.clone();
                let answers = answers.clone();
                // Requests run concurrently, as the JS clone process runs them.
                requests.spawn(async move {
                    let events = m_ld_conformance::answer::transact(&clone, &id, &request).await;
                    let _ = answers.send(events);
                });
            }
            Some("stop") => {
                // A graceful stop answers what was asked before it.
                while requests.join_next().await.is_some() {}
                let result = clone.close().await;
                let _ = answers.send(vec![match result {
                    Ok(()) => json!({"@type": "stopped", "requestId": id}),
                    Err(e) => error(&id, &e),
                }]);
                break;
            }
            other => {
                let _ = answers.send(vec![json!({"@type": "error", "requestId": id,
                    "err": format!("No handler for {other:?}")})]);
            }
        }
    }
    let _ = clone.close().await;
    let _ = answers.send(vec![json!({"@type": "closed"})]);
    drop(answers);
    let _ = forwarder.await;
    drop(out);
    let _ = writer.await;
    Ok(())
}

async fn open(start: &Value) -> Result<Clone> {
    let config_json = start.get("config").ok_or_else(|| anyhow!("no config"))?;
    let config = MeldConfig::from_json(config_json)?;
    let data_dir = start
        .get("dataDir")
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("no dataDir"))?;
    let port = start
        .pointer("/mqtt/port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .ok_or_else(|| anyhow!("no mqtt port"))?;
    let host = start
        .pointer("/mqtt/host")
        .and_then(Value::as_str)
        .unwrap_or("127.0.0.1");
    std::fs::create_dir_all(data_dir)?;
    let store = RocksStore::open(data_dir, RocksOptions::new())?;
    let mqtt = MqttConfig::new(host, port, &config.domain, &config.id)
        .with_network_timeout(config.network_timeout);
    let remotes = Arc::new(MqttRemotes::new(mqtt)?);
    Ok(MeldClone::open_with_remotes(store, remotes, config).await?)
}

/// Forwards the clone's updates, and the answers to requests sent on the returned channel, in
/// the order that m-ld-js gives them: an answer goes out after every update that was waiting when
/// its request finished. A local write's update waits for every follower before the write returns
/// (docs/ARCHITECTURE.md, invariants), so it always precedes the write's `complete`.
fn forward_updates(
    mut follow: m_ld::Follow,
    out: mpsc::UnboundedSender<Value>,
) -> (
    mpsc::UnboundedSender<Vec<Value>>,
    tokio::task::JoinHandle<()>,
) {
    let (answers, mut answers_rx) = mpsc::unbounded_channel::<Vec<Value>>();
    let forward = move |update: Result<m_ld::MeldUpdate, MeldError>,
                        out: &mpsc::UnboundedSender<Value>| {
        match update {
            Ok(update) => {
                let body = update.to_json();
                tracing::debug!("updated {body}");
                let _ = out.send(json!({"@type": "updated", "body": body}));
            }
            Err(e) => tracing::error!("update stream failed: {e}"),
        }
    };
    let task = tokio::spawn(async move {
        let mut following = true;
        loop {
            tokio::select! {
                biased;
                answer = answers_rx.recv() => {
                    let Some(events) = answer else { break };
                    while let Some(update) = follow.try_next() {
                        forward(update, &out);
                    }
                    for event in events {
                        let _ = out.send(event);
                    }
                }
                update = follow.next(), if following => match update {
                    Some(update) => forward(update, &out),
                    None => following = false,
                },
            }
        }
    });
    (answers, task)
}

fn forward_status(clone: &Clone, out: mpsc::UnboundedSender<Value>) -> Result<()> {
    let mut changes = clone.status_changes()?;
    let _ = out.send(json!({"@type": "status", "body": clone.status()?.to_json()}));
    tokio::spawn(async move {
        while changes.changed().await.is_ok() {
            let status = *changes.borrow_and_update();
            let _ = out.send(json!({"@type": "status", "body": status.to_json()}));
        }
    });
    Ok(())
}

fn error(id: &Value, e: &MeldError) -> Value {
    m_ld_conformance::answer::error(id, e)
}
