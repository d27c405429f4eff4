//! The orchestrator: the `@m-ld/m-ld-test` REST interface over clone processes.
//!
//! Owns the clones' processes, data directories and partition proxies, and the mapping of HTTP
//! requests to clone process commands (see [`crate::protocol`]). Each clone keeps the engine it was
//! first started with (its data directory is in that engine's format); in a mixed run, new clones
//! alternate between engines, starting from a different engine on each new domain so that genesis is
//! taken by each in turn.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::UnboundedReceiverStream;

use crate::delay::Delay;
use crate::protocol::{self, Event};
use crate::proxy::Proxy;

/// How long a clone may take to answer a stop before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

/// What the orchestrator needs to know.
#[derive(Debug, Clone)]
pub struct Config {
    /// The MQTT broker every clone connects to (through its proxy).
    pub broker: SocketAddr,
    /// The commands that start a clone process, one per engine; a mixed run has two.
    pub engines: Vec<Vec<String>>,
    /// Where clones keep their data (one directory per clone id) and their logs.
    pub work_dir: PathBuf,
    /// Extra clone configuration merged into every start (e.g. `networkTimeout`).
    pub clone_defaults: Value,
    /// The emulated one-way network delay of every clone's proxy, both directions, whatever the
    /// clone's engine.
    pub delay: Delay,
}

/// The orchestrator's shared state.
pub struct Orchestrator {
    config: Config,
    clones: tokio::sync::Mutex<HashMap<String, CloneEntry>>,
    domains: Mutex<HashMap<String, DomainEntry>>,
    next_request: AtomicU64,
    /// One started, idle process per engine, waiting for its start command.
    spares: Mutex<HashMap<usize, Child>>,
}

struct DomainEntry {
    /// The engine the next new clone on this domain will run.
    next_engine: usize,
}

struct CloneEntry {
    data_dir: PathBuf,
    engine: usize,
    proxy: Proxy,
    process: Option<Process>,
}

/// A running clone process.
struct Process {
    commands: mpsc::UnboundedSender<String>,
    waiters: Waiters,
    kill: Option<oneshot::Sender<()>>,
    /// Whether the orchestrator stopped or killed it (as opposed to its ending by itself).
    ended_by_us: Arc<AtomicBool>,
    exited: tokio::sync::watch::Receiver<bool>,
}

type Waiters = Arc<Mutex<HashMap<u64, mpsc::UnboundedSender<Event>>>>;

#[derive(Deserialize)]
struct CloneQuery {
    #[serde(rename = "cloneId")]
    clone_id: String,
    domain: Option<String>,
    state: Option<String>,
}

impl Orchestrator {
    /// A new orchestrator.
    pub fn new(config: Config) -> Arc<Orchestrator> {
        Arc::new(Orchestrator {
            config,
            clones: tokio::sync::Mutex::default(),
            domains: Mutex::default(),
            next_request: AtomicU64::new(1),
            spares: Mutex::default(),
        })
    }

    /// The HTTP routes of the REST interface.
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/start", post(start))
            .route("/transact", post(transact))
            .route("/stop", post(stop))
            .route("/kill", post(kill))
            .route("/destroy", post(destroy))
            .route("/partition", post(partition))
            .with_state(Arc::clone(self))
    }

    /// Kills every clone process (at shutdown).
    pub async fn shutdown(&self) {
        let mut clones = self.clones.lock().await;
        for entry in clones.values_mut() {
            if let Some(mut process) = entry.process.take() {
                if let Some(kill) = process.kill.take() {
                    let _ = kill.send(());
                }
                let _ = process.exited.wait_for(|e| *e).await;
            }
        }
    }

    fn request_id(&self) -> u64 {
        self.next_request.fetch_add(1, Ordering::Relaxed)
    }

    /// Whether `domain` is new (its first clone is genesis), and the engine for a new clone on it.
    fn assign(&self, domain: &str) -> (bool, usize) {
        let engines = self.config.engines.len().max(1);
        let mut domains = self.domains.lock().unwrap_or_else(|p| p.into_inner());
        let count = domains.len();
        let mut genesis = false;
        let entry = domains.entry(domain.to_owned()).or_insert_with(|| {
            genesis = true;
            DomainEntry {
                next_engine: count % engines,
            }
        });
        let engine = entry.next_engine;
        entry.next_engine = (engine + 1) % engines;
        (genesis, engine)
    }
}

fn error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (status, axum::Json(json!({"message": message.to_string()}))).into_response()
}

fn chunked(chunks: mpsc::UnboundedReceiver<Result<Bytes, Infallible>>) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::TRANSFER_ENCODING, "chunked")
        .body(Body::from_stream(UnboundedReceiverStream::new(chunks)))
        .unwrap_or_else(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e))
}

/// Appends an orchestrator note (what the suite asked of the clone) to the clone's log, so the log
/// reads as one story: commands, and the clone's own output between them.
fn note(orc: &Orchestrator, clone_id: &str, what: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let logs = orc.config.work_dir.join("logs");
    let _ = std::fs::create_dir_all(&logs);
    if let Ok(mut log) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(logs.join(format!("{clone_id}.log")))
    {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let _ = writeln!(
            log,
            "== orchestrator {}.{:06}: {what}",
            now.as_secs(),
            now.subsec_micros()
        );
    }
}

fn chunk(value: &Value) -> Result<Bytes, Infallible> {
    Ok(Bytes::from(value.to_string()))
}

async fn start(
    State(orc): State<Arc<Orchestrator>>,
    Query(query): Query<CloneQuery>,
    body: Bytes,
) -> Response {
    let Some(domain) = query.domain.clone() else {
        return error(StatusCode::BAD_REQUEST, "domain is required");
    };
    let extra: Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => return error(StatusCode::BAD_REQUEST, format!("bad config: {e}")),
        }
    };
    let mut clones = orc.clones.lock().await;
    if clones
        .get(&query.clone_id)
        .is_some_and(|c| c.process.is_some())
    {
        return error(
            StatusCode::BAD_REQUEST,
            format!("Clone {} is already started", query.clone_id),
        );
    }
    let (genesis, new_engine) = orc.assign(&domain);
    note(
        &orc,
        &query.clone_id,
        format_args!("start in {domain} (genesis {genesis}) with {extra}"),
    );
    if !clones.contains_key(&query.clone_id) {
        let proxy = match Proxy::start(orc.config.broker, orc.config.delay).await {
            Ok(p) => p,
            Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e),
        };
        let data_dir = orc.config.work_dir.join("data").join(&query.clone_id);
        clones.insert(
            query.clone_id.clone(),
            CloneEntry {
                data_dir,
                engine: new_engine,
                proxy,
                process: None,
            },
        );
    }
    let Some(entry) = clones.get_mut(&query.clone_id) else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "clone entry vanished");
    };
    let mut config = json!({
        "@id": query.clone_id,
        "@domain": domain,
        "genesis": genesis,
    });
    merge(&mut config, &orc.config.clone_defaults);
    merge(&mut config, &extra);
    let (events_tx, mut events) = mpsc::unbounded_channel::<Event>();
    let spares = Spares(&orc.spares);
    let process = match spawn(
        &orc.config,
        &spares,
        &query.clone_id,
        entry,
        &config,
        events_tx,
    )
    .await
    {
        Ok(p) => p,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")),
    };
    entry.process = Some(process);
    drop(clones);
    tracing::info!(
        clone = %query.clone_id, %domain, genesis,
        "starting clone"
    );
    // The first event decides the response: started (a stream) or unstarted (400).
    match events.recv().await {
        Some(Event::Started) => {}
        Some(Event::Unstarted(err)) => {
            forget_process(&orc, &query.clone_id).await;
            return error(StatusCode::BAD_REQUEST, err);
        }
        other => {
            forget_process(&orc, &query.clone_id).await;
            return error(
                StatusCode::BAD_REQUEST,
                format!("clone process did not start: {other:?}"),
            );
        }
    }
    let (chunks, stream) = mpsc::unbounded_channel();
    let _ = chunks.send(chunk(&json!({"@type": "started"})));
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            let out = match event {
                Event::Status(body) => json!({"@type": "status", "body": body}),
                Event::Updated(body) => json!({"@type": "updated", "body": body}),
                Event::Closed => break,
                _ => continue,
            };
            if chunks.send(chunk(&out)).is_err() {
                break;
            }
        }
    });
    chunked(stream)
}

/// Merges the keys of `extra` (an object) into `config`.
fn merge(config: &mut Value, extra: &Value) {
    if let (Some(config), Some(extra)) = (config.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            config.insert(k.clone(), v.clone());
        }
    }
}

/// A clone process of one engine, started ahead of need: it loads its engine (node and m-ld-js
/// take about 0.75 s on 2 cores) while it waits for its start command, so that starting a clone
/// costs what the engine's own start costs. The compliance specs time clone starts and pace
/// themselves on those timings.
fn start_process(program: &str, args: &[String]) -> Result<Child> {
    Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("spawning {program} {args:?}"))
}

/// The idle processes, one per engine.
struct Spares<'a>(&'a Mutex<HashMap<usize, Child>>);

impl Spares<'_> {
    /// The idle process of `engine`, if it is still alive.
    fn take(&self, engine: usize) -> Option<Child> {
        let mut spare = lock(self.0).remove(&engine)?;
        match spare.try_wait() {
            Ok(None) => Some(spare),
            _ => None,
        }
    }

    fn put(&self, engine: usize, child: Child) {
        lock(self.0).insert(engine, child);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Starts a clone process and the tasks that route its output.
async fn spawn(
    config: &Config,
    spares: &Spares<'_>,
    clone_id: &str,
    entry: &CloneEntry,
    clone_config: &Value,
    start_events: mpsc::UnboundedSender<Event>,
) -> Result<Process> {
    let command = config
        .engines
        .get(entry.engine)
        .ok_or_else(|| anyhow!("no engine {}", entry.engine))?;
    let (program, args) = command
        .split_first()
        .ok_or_else(|| anyhow!("empty engine command"))?;
    let logs = config.work_dir.join("logs");
    std::fs::create_dir_all(&logs)?;
    let log = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(logs.join(format!("{clone_id}.log")))
        .await?;
    let mut child = match spares.take(entry.engine) {
        Some(child) => child,
        None => start_process(program, args)?,
    };
    // The next clone of this engine starts in a process that has already loaded its engine.
    spares.put(entry.engine, start_process(program, args)?);
    let mut stderr = child.stderr.take().ok_or_else(|| anyhow!("no stderr"))?;
    tokio::spawn(async move {
        let mut log = log;
        let _ = tokio::io::copy(&mut stderr, &mut log).await;
    });
    let mut stdin = child.stdin.take().ok_or_else(|| anyhow!("no stdin"))?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
    let (commands, mut command_queue) = mpsc::unbounded_channel::<String>();
    let start = protocol::start(
        clone_config,
        &entry.data_dir.to_string_lossy(),
        entry.proxy.port(),
    );
    let _ = commands.send(start.to_string());
    tokio::spawn(async move {
        while let Some(line) = command_queue.recv().await {
            if stdin.write_all(line.as_bytes()).await.is_err()
                || stdin.write_all(b"\n").await.is_err()
                || stdin.flush().await.is_err()
            {
                break;
            }
        }
    });
    let waiters: Waiters = Arc::default();
    let (exited_tx, exited) = tokio::sync::watch::channel(false);
    let (kill, kill_rx) = oneshot::channel::<()>();
    let ended_by_us = Arc::new(AtomicBool::new(false));
    let task_ended_by_us = Arc::clone(&ended_by_us);
    let route_waiters = Arc::clone(&waiters);
    let id = clone_id.to_owned();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        let mut kill_rx = kill_rx;
        loop {
            tokio::select! {
                line = lines.next_line() => match line {
                    Ok(Some(line)) => route(&id, &line, &start_events, &route_waiters),
                    _ => break,
                },
                _ = &mut kill_rx => {
                    task_ended_by_us.store(true, Ordering::SeqCst);
                    let _ = child.start_kill();
                    break;
                }
            }
        }
        let _ = child.wait().await;
        // The process has gone: fail its pending requests and end its start stream.
        route_waiters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        let _ = start_events.send(Event::Closed);
        let _ = exited_tx.send(true);
    });
    Ok(Process {
        commands,
        waiters,
        kill: Some(kill),
        ended_by_us,
        exited,
    })
}

fn route(
    clone_id: &str,
    line: &str,
    start_events: &mpsc::UnboundedSender<Event>,
    waiters: &Waiters,
) {
    let Some(event) = Event::parse(line) else {
        tracing::debug!(clone = clone_id, "ignored output: {line}");
        return;
    };
    let request = match &event {
        Event::Next(id, _) | Event::Complete(id) | Event::Error(id, _) | Event::Stopped(id) => {
            Some(*id)
        }
        _ => None,
    };
    match request {
        Some(id) => {
            let waiters = waiters.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(waiter) = waiters.get(&id) {
                let _ = waiter.send(event);
            }
        }
        None => {
            let _ = start_events.send(event);
        }
    }
}

/// A command sent to a clone process: the channel of its replies, which ends with the process.
struct Pending {
    replies: mpsc::UnboundedReceiver<Event>,
    /// Set if the process ended because the orchestrator stopped or killed it.
    ended_by_us: Arc<AtomicBool>,
}

/// Sends a command to a running clone and returns the channel of its replies.
async fn request(
    orc: &Orchestrator,
    clone_id: &str,
    make: impl FnOnce(u64) -> Value,
) -> Result<Pending, Response> {
    let clones = orc.clones.lock().await;
    let Some(process) = clones.get(clone_id).and_then(|c| c.process.as_ref()) else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            format!("Clone {clone_id} is not started"),
        ));
    };
    let id = orc.request_id();
    let (tx, rx) = mpsc::unbounded_channel();
    process
        .waiters
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(id, tx);
    if process.commands.send(make(id).to_string()).is_err() {
        return Err(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "clone process has ended",
        ));
    }
    Ok(Pending {
        replies: rx,
        ended_by_us: Arc::clone(&process.ended_by_us),
    })
}

async fn transact(
    State(orc): State<Arc<Orchestrator>>,
    Query(query): Query<CloneQuery>,
    body: Bytes,
) -> Response {
    let pattern: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("bad request body: {e}")),
    };
    note(&orc, &query.clone_id, format_args!("transact {pattern}"));
    let Pending {
        mut replies,
        ended_by_us,
    } = match request(&orc, &query.clone_id, |id| protocol::transact(id, &pattern)).await {
        Ok(r) => r,
        Err(response) => return response,
    };
    // Errors must be reported before the chunked stream starts.
    let first = replies.recv().await;
    let (chunks, stream) = mpsc::unbounded_channel();
    match first {
        Some(Event::Next(_, body)) => {
            let _ = chunks.send(chunk(&body));
        }
        Some(Event::Complete(_)) => return chunked(stream),
        Some(Event::Error(_, err)) => return error(StatusCode::INTERNAL_SERVER_ERROR, err),
        // A request in flight when the suite kills its clone is never answered, as with
        // m-ld-js's orchestrator: the chaos specs fire requests they do not await (e.g. on a
        // clone's `started` event), and an error would be an unhandled rejection. The
        // response is dropped when the orchestrator exits.
        None if ended_by_us.load(Ordering::SeqCst) => std::future::pending().await,
        _ => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "clone process ended during the request",
            );
        }
    }
    tokio::spawn(async move {
        loop {
            match replies.recv().await {
                Some(Event::Next(_, body)) => {
                    if chunks.send(chunk(&body)).is_err() {
                        return;
                    }
                }
                Some(_) => return,
                None => break,
            }
        }
        // Killed mid-stream: the response stays open (see above) until the client goes.
        if ended_by_us.load(Ordering::SeqCst) {
            chunks.closed().await;
        }
    });
    chunked(stream)
}

/// Stops a clone's process gracefully (killing it if it does not stop in time).
async fn stop_process(orc: &Orchestrator, clone_id: &str) -> Result<(), Response> {
    let Pending {
        mut replies,
        ended_by_us,
    } = request(orc, clone_id, protocol::stop).await?;
    // Ended on the suite's request: what the process leaves unanswered gets no answer (see
    // `transact`), as with m-ld-js's orchestrator.
    ended_by_us.store(true, Ordering::SeqCst);
    let stopped = tokio::time::timeout(STOP_TIMEOUT, async {
        loop {
            match replies.recv().await {
                Some(Event::Stopped(_)) => return Ok(()),
                Some(Event::Error(_, err)) => return Err(err),
                Some(_) => {}
                None => return Ok(()), // the process exited
            }
        }
    })
    .await;
    let outcome = match stopped {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, err)),
        Err(_) => Err(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "clone did not stop in time",
        )),
    };
    // Wait for the process to exit (kill it if it lingers).
    let mut exited = {
        let clones = orc.clones.lock().await;
        match clones.get(clone_id).and_then(|c| c.process.as_ref()) {
            Some(p) => p.exited.clone(),
            None => return outcome,
        }
    };
    if tokio::time::timeout(STOP_TIMEOUT, exited.wait_for(|e| *e))
        .await
        .is_err()
    {
        kill_process(orc, clone_id).await;
    }
    forget_process(orc, clone_id).await;
    outcome
}

async fn kill_process(orc: &Orchestrator, clone_id: &str) {
    let exited = {
        let mut clones = orc.clones.lock().await;
        let Some(process) = clones.get_mut(clone_id).and_then(|c| c.process.as_mut()) else {
            return;
        };
        if let Some(kill) = process.kill.take() {
            let _ = kill.send(());
        }
        process.exited.clone()
    };
    let mut exited = exited;
    let _ = exited.wait_for(|e| *e).await;
    forget_process(orc, clone_id).await;
}

async fn forget_process(orc: &Orchestrator, clone_id: &str) {
    let mut clones = orc.clones.lock().await;
    if let Some(entry) = clones.get_mut(clone_id)
        && let Some(mut process) = entry.process.take()
        && let Some(kill) = process.kill.take()
    {
        let _ = kill.send(());
    }
}

async fn stop(State(orc): State<Arc<Orchestrator>>, Query(query): Query<CloneQuery>) -> Response {
    note(&orc, &query.clone_id, format_args!("stop"));
    match stop_process(&orc, &query.clone_id).await {
        Ok(()) => axum::Json(json!({"@type": "stopped"})).into_response(),
        Err(response) => response,
    }
}

async fn kill(State(orc): State<Arc<Orchestrator>>, Query(query): Query<CloneQuery>) -> Response {
    note(&orc, &query.clone_id, format_args!("kill"));
    kill_process(&orc, &query.clone_id).await;
    axum::Json(json!({"@type": "killed"})).into_response()
}

async fn destroy(
    State(orc): State<Arc<Orchestrator>>,
    Query(query): Query<CloneQuery>,
) -> Response {
    let running = {
        let clones = orc.clones.lock().await;
        clones
            .get(&query.clone_id)
            .is_some_and(|c| c.process.is_some())
    };
    if running && stop_process(&orc, &query.clone_id).await.is_err() {
        kill_process(&orc, &query.clone_id).await;
    }
    let entry = orc.clones.lock().await.remove(&query.clone_id);
    if let Some(entry) = entry
        && let Err(e) = tokio::fs::remove_dir_all(&entry.data_dir).await
        && e.kind() != std::io::ErrorKind::NotFound
    {
        return error(StatusCode::INTERNAL_SERVER_ERROR, e);
    }
    axum::Json(json!({"@type": "destroyed"})).into_response()
}

async fn partition(
    State(orc): State<Arc<Orchestrator>>,
    Query(query): Query<CloneQuery>,
) -> Response {
    let state = query.state.as_deref() != Some("false");
    note(&orc, &query.clone_id, format_args!("partition {state}"));
    let clones = orc.clones.lock().await;
    let Some(entry) = clones.get(&query.clone_id) else {
        return error(
            StatusCode::BAD_REQUEST,
            format!("Clone {} is unknown", query.clone_id),
        );
    };
    match entry.proxy.partition(state).await {
        Ok(()) => axum::Json(json!({"@type": "partitioned", "state": state})).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")),
    }
}
