//! [`MqttRemotes`]: a clone's [`Remotes`] over an MQTT 3.1.1 broker, wire-compatible with m-ld-js
//! 0.10 `MqttRemotes` (docs/protocol.md §1, §2.3–§2.6).
//!
//! Owns the connection (a rumqttc event loop polled by one task, reconnecting after failures),
//! presence (ghost, record, will), the broadcast of operations, and the request / response / ACK
//! exchange with collaborators in both directions. It must not look inside operations beyond
//! decoding them with the core wire codec, nor decide recovery (that is the engine's, through
//! [`LocalClone`]).
//!
//! Concurrency rules: the engine may call [`Remotes::publish`] while holding its own lock, so
//! `publish` takes no lock of ours; and we never call into the [`LocalClone`] while holding our
//! lock. Presence is reported to the clone only from the event loop task, so reports are
//! ordered. Operations are decoded and delivered by one worker task, in arrival order.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use m_ld_core::CoreError;
use m_ld_core::clock::TreeClock;
use m_ld_core::operation::OperationMessage;
use m_ld_core::remotes::{
    LocalClone, PeerStream, RemoteRevup, RemoteSnapshot, Remotes, SnapshotDatum,
};
use m_ld_core::wire::control::{Reply, Request, Response, RevupTime, SnapshotResponse};
use m_ld_core::wire::notify::SnapshotDatum as WireDatum;
use m_ld_core::wire::operation::{decode_operation_message, encode_operation_message};
use rumqttc::{
    AsyncClient, ConnectionError, Event, EventLoop, LastWill, Outgoing, Packet, Publish, QoS,
    SubscribeFilter, SubscribeReasonCode,
};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::channel::{self, ChannelEntry};
use crate::presence::{self, GHOST, LEAVE, Presence};
use crate::topics::{Incoming, Topics, is_level};
use crate::{MqttConfig, MqttError};

/// Capacity of rumqttc's request channel. Publishing tasks wait when it is full; the engine's
/// `publish` never does (operations queue in front of it).
const REQUEST_CAPACITY: usize = 256;
/// Triples per snapshot `inserts` item (m-ld-js sends 10; any number works).
const SNAPSHOT_TRIPLES_PER_ITEM: usize = 100;
/// Reconnection back-off bounds.
const MIN_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// The QoS of the session's subscriptions, in m-ld-js order: presence, operations, control,
/// requests, replies.
const SESSION_QOS: [QoS; 5] = [
    QoS::AtLeastOnce,
    QoS::AtLeastOnce,
    QoS::AtLeastOnce,
    QoS::AtMostOnce,
    QoS::AtMostOnce,
];
/// Bytes of an MQTT PUBLISH beyond its topic and payload (fixed header, lengths, packet id).
const PUBLISH_OVERHEAD: usize = 16;

/// Counts of how waits on collaborators ended, since the remotes were made (for tests and
/// monitoring).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MqttStats {
    /// Responses, channel subscriptions and stream items that did not come in time.
    pub timeouts: u64,
    /// Waits on a collaborator (a response or a stream) ended because it left the domain.
    pub collaborators_gone: u64,
}

/// The counters behind [`MqttStats`].
#[derive(Default)]
pub(crate) struct Counters {
    timeouts: AtomicU64,
    collaborators_gone: AtomicU64,
}

impl Counters {
    pub(crate) fn timed_out(&self) {
        self.timeouts.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn collaborator_gone(&self) {
        self.collaborators_gone.fetch_add(1, Ordering::Relaxed);
    }
}

/// A clone's messaging layer over MQTT.
///
/// Create it with [`MqttRemotes::new`] and hand it to the engine (as an `Arc<dyn Remotes>`);
/// the connection starts when the engine attaches, inside its tokio runtime, and ends on
/// detach or when the remotes are dropped.
pub struct MqttRemotes {
    shared: Arc<Shared>,
}

/// State shared by the remotes, the event loop and the tasks answering peers.
pub(crate) struct Shared {
    pub(crate) config: MqttConfig,
    pub(crate) topics: Topics,
    client: AsyncClient,
    /// Whether the broker has acknowledged our connection (and not dropped it since).
    connected: AtomicBool,
    /// Whether the retained presence has been received since connecting (our ghost is back).
    ready: watch::Sender<bool>,
    /// Tells the event loop to stop.
    stop: watch::Sender<bool>,
    /// Counts presence messages received, to wait for our own record to come back.
    presence_seen: watch::Sender<u64>,
    /// Operations to broadcast, in order.
    outbox: mpsc::UnboundedSender<OperationMessage>,
    state: Mutex<State>,
    /// The span of everything these remotes do, naming the clone.
    span: tracing::Span,
    next_id: AtomicU64,
    id_prefix: u64,
    pub(crate) counters: Counters,
}

struct State {
    /// The event loop and the outbox's receiver, until attached.
    unstarted: Option<(EventLoop, mpsc::UnboundedReceiver<OperationMessage>)>,
    local: Option<Arc<dyn LocalClone>>,
    detached: bool,
    /// Whether the clone wants to be present (re-announced on every reconnection).
    present: bool,
    presence: Presence,
    /// The last presence reported to the clone.
    reported: Option<Option<bool>>,
    /// Peers asked recently, for round-robin choice (m-ld-js `recentlySentTo`).
    recently_sent: HashSet<String>,
    /// Who waits for a reply to which of our messages.
    replies: HashMap<String, oneshot::Sender<ReplyMessage>>,
    /// Channels we consume.
    channels: HashMap<String, ChannelEntry>,
    event_loop: Option<JoinHandle<()>>,
    workers: Vec<JoinHandle<()>>,
}

/// A collaborator as chosen: its clone id and the stay of its presence then (a clone that
/// leaves and comes back under the same id is another stay: waits on the first end).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Peer {
    pub(crate) id: String,
    stay: u64,
}

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.id)
    }
}

/// A reply as it arrived on `__reply/<us>/<from>/<message_id>/<sent message id>`.
struct ReplyMessage {
    from: String,
    message_id: String,
    payload: Bytes,
}

impl MqttRemotes {
    /// Remotes for the clone and broker of `config`. Nothing connects until the engine attaches.
    pub fn new(config: MqttConfig) -> Result<MqttRemotes, MqttError> {
        config.validate()?;
        let topics = Topics::new(&config.domain, &config.id);
        let will = LastWill::new(
            topics.own_presence.clone(),
            LEAVE.to_vec(),
            QoS::AtLeastOnce,
            true,
        );
        let (client, event_loop) = config.client(config.id.clone(), REQUEST_CAPACITY, |options| {
            options
                .set_request_channel_capacity(REQUEST_CAPACITY)
                .set_last_will(will);
        });
        let (outbox, outbox_rx) = mpsc::unbounded_channel();
        let span = tracing::error_span!("mqtt", clone = %config.id);
        Ok(MqttRemotes {
            shared: Arc::new(Shared {
                config,
                topics,
                client,
                connected: AtomicBool::new(false),
                ready: watch::channel(false).0,
                stop: watch::channel(false).0,
                presence_seen: watch::channel(0).0,
                outbox,
                state: Mutex::new(State {
                    unstarted: Some((event_loop, outbox_rx)),
                    local: None,
                    detached: false,
                    present: false,
                    presence: Presence::default(),
                    reported: None,
                    recently_sent: HashSet::new(),
                    replies: HashMap::new(),
                    channels: HashMap::new(),
                    event_loop: None,
                    workers: Vec::new(),
                }),
                span,
                next_id: AtomicU64::new(0),
                id_prefix: rand::random(),
                counters: Counters::default(),
            }),
        })
    }

    /// The configuration these remotes were made with.
    pub fn config(&self) -> &MqttConfig {
        &self.shared.config
    }

    /// Whether the broker connection is up now.
    pub fn is_connected(&self) -> bool {
        self.shared.connected.load(Ordering::Acquire)
    }

    /// How waits on collaborators have ended so far.
    pub fn stats(&self) -> MqttStats {
        let counters = &self.shared.counters;
        MqttStats {
            timeouts: counters.timeouts.load(Ordering::Relaxed),
            collaborators_gone: counters.collaborators_gone.load(Ordering::Relaxed),
        }
    }
}

impl Drop for MqttRemotes {
    fn drop(&mut self) {
        // Without a detach, the broker sees the connection drop and publishes our will.
        self.shared.stop.send_replace(true);
        let mut state = self.shared.state();
        for worker in state.workers.drain(..) {
            worker.abort();
        }
    }
}

#[async_trait]
impl Remotes for MqttRemotes {
    async fn attach(&self, local: Arc<dyn LocalClone>) -> Result<(), CoreError> {
        let shared = &self.shared;
        let mut state = shared.state();
        if state.detached {
            return Err(CoreError::Transport(
                "these MQTT remotes were detached".into(),
            ));
        }
        let Some((event_loop, outbox)) = state.unstarted.take() else {
            return Err(CoreError::Transport(
                "these MQTT remotes are already attached".into(),
            ));
        };
        state.local = Some(local);
        let (operations_tx, operations_rx) = mpsc::unbounded_channel();
        state.event_loop = Some(shared.spawn(run_event_loop(
            Arc::clone(shared),
            event_loop,
            operations_tx,
        )));
        let deliver = shared.spawn(deliver_operations(Arc::clone(shared), operations_rx));
        let broadcast = shared.spawn(broadcast_operations(Arc::clone(shared), outbox));
        state.workers.extend([deliver, broadcast]);
        Ok(())
    }

    fn publish(&self, msg: &OperationMessage) -> Result<(), CoreError> {
        if !self.shared.connected.load(Ordering::Acquire) {
            return Err(CoreError::Transport(
                "not connected to the MQTT broker".into(),
            ));
        }
        self.shared
            .outbox
            .send(msg.clone())
            .map_err(|_| CoreError::Transport("the MQTT remotes have stopped".into()))
    }

    async fn set_present(&self, present: bool) -> Result<(), CoreError> {
        let shared = &self.shared;
        shared
            .set_present(present)
            .instrument(shared.span.clone())
            .await
    }

    async fn snapshot(&self, new_clock: bool) -> Result<RemoteSnapshot, CoreError> {
        let shared = &self.shared;
        shared
            .ask_snapshot(new_clock)
            .instrument(shared.span.clone())
            .await
    }

    async fn revup_from(&self, time: &TreeClock) -> Result<Option<RemoteRevup>, CoreError> {
        let shared = &self.shared;
        shared.ask_revup(time).instrument(shared.span.clone()).await
    }

    async fn detach(&self) {
        let shared = &self.shared;
        shared.leave().instrument(shared.span.clone()).await;
    }

    fn max_operation_size(&self) -> Option<usize> {
        // An operation travels alone in a packet (broadcast), or wrapped in a stream notification
        // on a control channel (rev-up, snapshot): leave room for the longest topic and wrapper.
        let config = &self.shared.config;
        let room = PUBLISH_OVERHEAD + config.domain.len() + config.id.len() + STREAM_WRAPPER_ROOM;
        Some(config.max_packet_size.saturating_sub(room))
    }
}

/// Bytes reserved for a stream notification's wrapper and channel topic around an operation.
const STREAM_WRAPPER_ROOM: usize = 256;

impl Shared {
    /// Declares this clone present or not (see [`Remotes::set_present`]).
    async fn set_present(&self, present: bool) -> Result<(), CoreError> {
        {
            let mut state = self.state();
            if state.detached {
                return Ok(());
            }
            state.present = present;
        }
        if !self.connected.load(Ordering::Acquire) {
            // Announced when the connection (re)starts; absent meanwhile.
            return Ok(());
        }
        // Like m-ld-js (which awaits the PUBACK), return once the broker has the record: when
        // it comes back to us, peers that subscribe from now on will see it.
        let mut seen = self.presence_seen.subscribe();
        self.announce(present).await?;
        let confirmed = async {
            while self.is_present(&self.config.id) != present {
                if seen.changed().await.is_err() {
                    break;
                }
            }
        };
        if tokio::time::timeout(self.config.network_timeout, confirmed)
            .await
            .is_err()
        {
            tracing::debug!("the broker has not confirmed our presence record yet");
        }
        Ok(())
    }

    /// Withdraws from the domain and stops the connection (see [`Remotes::detach`]).
    async fn leave(&self) {
        let event_loop = {
            let mut state = self.state();
            state.detached = true;
            state.local = None;
            state.present = false;
            state.event_loop.take()
        };
        let timeout = self.config.network_timeout;
        if self.connected.load(Ordering::Acquire) {
            // Leave, then disconnect cleanly (so the broker does not publish the will); the
            // event loop ends once the disconnection is sent.
            let leave =
                self.client
                    .publish(&self.topics.own_presence, QoS::AtLeastOnce, true, LEAVE);
            if tokio::time::timeout(timeout, leave).await.is_err() {
                tracing::debug!("leaving the domain timed out");
            }
            let _ = tokio::time::timeout(timeout, self.client.disconnect()).await;
        } else {
            self.stop.send_replace(true);
        }
        if let Some(mut event_loop) = event_loop
            && tokio::time::timeout(timeout, &mut event_loop)
                .await
                .is_err()
        {
            event_loop.abort();
        }
        self.stop.send_replace(true);
        let workers: Vec<_> = self.state().workers.drain(..).collect();
        for worker in workers {
            worker.abort();
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Our state stays consistent across a panic elsewhere: recover it.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Spawns a task in these remotes' span.
    fn spawn<F>(&self, task: F) -> JoinHandle<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        tokio::spawn(task.instrument(self.span.clone()))
    }

    fn local(&self) -> Option<Arc<dyn LocalClone>> {
        self.state().local.clone()
    }

    /// A new message or channel id: unique, and a valid topic level.
    fn new_id(&self) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        format!("{:016x}{n:x}", self.id_prefix)
    }

    /// Publishes, refusing payloads larger than the configured packet size.
    pub(crate) async fn publish(
        &self,
        topic: &str,
        qos: QoS,
        retain: bool,
        payload: Vec<u8>,
    ) -> Result<(), CoreError> {
        let size = topic.len() + payload.len() + PUBLISH_OVERHEAD;
        if size > self.config.max_packet_size {
            return Err(CoreError::WireTooLarge(format!(
                "a message of {size} bytes exceeds the MQTT packet size limit of {}",
                self.config.max_packet_size
            )));
        }
        self.client
            .publish(topic, qos, retain, payload)
            .await
            .map_err(|e| CoreError::Transport(format!("cannot publish: {e}")))
    }

    pub(crate) async fn subscribe(&self, topic: &str, qos: QoS) -> Result<(), CoreError> {
        self.client
            .subscribe(topic, qos)
            .await
            .map_err(|e| CoreError::Transport(format!("cannot subscribe: {e}")))
    }

    /// Publishes our presence record, or clears it.
    async fn announce(&self, present: bool) -> Result<(), CoreError> {
        let payload = if present {
            presence::record(&self.config.id, &self.topics.control)
        } else {
            LEAVE.to_vec()
        };
        self.publish(&self.topics.own_presence, QoS::AtLeastOnce, true, payload)
            .await
    }

    /// Asks present peers in turn for a snapshot until one provides it.
    async fn ask_snapshot(self: &Arc<Self>, new_clock: bool) -> Result<RemoteSnapshot, CoreError> {
        self.wait_ready().await?;
        let request = Request::Snapshot { new_clock }.encode();
        let mut tried = HashSet::new();
        let mut last = CoreError::NoVisibleClones;
        while let Some(peer) = self.next_peer() {
            if !tried.insert(peer.id.clone()) {
                break;
            }
            match self.snapshot_from(&peer, &request).await {
                Ok(snapshot) => return Ok(snapshot),
                Err(e) => {
                    tracing::debug!("no snapshot from {peer}: {e}");
                    last = e;
                }
            }
        }
        Err(last)
    }

    /// Asks present peers in turn for a rev-up until one can provide it; `None` if none can.
    async fn ask_revup(
        self: &Arc<Self>,
        time: &TreeClock,
    ) -> Result<Option<RemoteRevup>, CoreError> {
        self.wait_ready().await?;
        let request = Request::Revup {
            time: RevupTime::Clock(time.clone()),
        }
        .encode();
        let mut tried = HashSet::new();
        let mut last = CoreError::NoVisibleClones;
        let mut unable = false;
        while let Some(peer) = self.next_peer() {
            if !tried.insert(peer.id.clone()) {
                break;
            }
            match self.revup_from(&peer, &request).await {
                Ok(Some(revup)) => {
                    tracing::debug!("rev-up from {peer} at {time}");
                    return Ok(Some(revup));
                }
                Ok(None) => unable = true,
                Err(e) => {
                    tracing::debug!("no rev-up from {peer}: {e}");
                    last = e;
                }
            }
        }
        if unable { Ok(None) } else { Err(last) }
    }

    /// Notified of every presence message received.
    pub(crate) fn presence_changes(&self) -> watch::Receiver<u64> {
        self.presence_seen.subscribe()
    }

    /// Whether `peer` is still present on the stay it was chosen in.
    pub(crate) fn still_present(&self, peer: &Peer) -> bool {
        self.state().presence.stay(&peer.id, &self.topics.control) == Some(peer.stay)
    }

    /// Whether `id`'s presence record says it is present.
    pub(crate) fn is_present(&self, id: &str) -> bool {
        self.state()
            .presence
            .present(&self.topics.control)
            .iter()
            .any(|present| present == id)
    }

    /// Waits (up to the network timeout) until connected and the presence is known.
    async fn wait_ready(&self) -> Result<(), CoreError> {
        let mut ready = self.ready.subscribe();
        match tokio::time::timeout(self.config.network_timeout, ready.wait_for(|r| *r)).await {
            Ok(Ok(_)) => Ok(()),
            _ => Err(CoreError::Transport(
                "not connected to the MQTT broker".into(),
            )),
        }
    }

    /// The next collaborator to ask: the first present peer not asked recently (m-ld-js
    /// `PubsubRemotes.nextSender`), which makes requests go round-robin in presence order.
    fn next_peer(&self) -> Option<Peer> {
        let mut state = self.state();
        let present = state.presence.present(&self.topics.control);
        if present.iter().all(|id| state.recently_sent.contains(id)) {
            state.recently_sent.clear();
        }
        state.recently_sent.insert(self.config.id.clone());
        let id = present
            .into_iter()
            .find(|id| !state.recently_sent.contains(id))?;
        state.recently_sent.insert(id.clone());
        let stay = state.presence.stay(&id, &self.topics.control)?;
        Some(Peer { id, stay })
    }

    /// Sends a request to `peer` and waits for its response.
    async fn request(
        &self,
        peer: &Peer,
        request: &[u8],
    ) -> Result<(Response, ReplyMessage), CoreError> {
        let message_id = self.new_id();
        let reply = self.expect_reply(&message_id);
        let sent = self
            .publish(
                &self.topics.send(&peer.id, &message_id),
                QoS::AtMostOnce,
                false,
                request.to_vec(),
            )
            .await;
        if let Err(e) = sent {
            self.state().replies.remove(&message_id);
            return Err(e);
        }
        let reply = self.await_reply(Some(peer), &message_id, reply).await?;
        match Reply::decode(&reply.payload)? {
            Reply::Response(Response::Rejected { status }) => Err(CoreError::Rejected(status)),
            Reply::Response(response) => Ok((response, reply)),
            Reply::Ack => Err(CoreError::BadResponse(
                "an acknowledgement where a response was due".into(),
            )),
        }
    }

    fn expect_reply(&self, message_id: &str) -> oneshot::Receiver<ReplyMessage> {
        let (tx, rx) = oneshot::channel();
        self.state().replies.insert(message_id.to_owned(), tx);
        rx
    }

    /// Waits up to the network timeout for the reply to our message `message_id`; fails at once
    /// if the replier is a present `collaborator` and leaves the domain meanwhile (a requester
    /// awaiting our answer need not be present: a joining clone is not).
    async fn await_reply(
        &self,
        collaborator: Option<&Peer>,
        message_id: &str,
        mut reply: oneshot::Receiver<ReplyMessage>,
    ) -> Result<ReplyMessage, CoreError> {
        let mut presence = self.presence_changes();
        let deadline = tokio::time::sleep(self.config.network_timeout);
        tokio::pin!(deadline);
        let failure = loop {
            tokio::select! {
                reply = &mut reply => match reply {
                    Ok(reply) => return Ok(reply),
                    Err(_) => {
                        return Err(CoreError::Transport(
                            "connection lost while waiting for a reply".into(),
                        ));
                    }
                },
                changed = presence.changed(), if collaborator.is_some() => {
                    match collaborator {
                        Some(peer) if changed.is_err() || !self.still_present(peer) => {
                            self.counters.collaborator_gone();
                            break format!("{peer} left the domain");
                        }
                        _ => {}
                    }
                }
                () = &mut deadline => {
                    self.counters.timed_out();
                    break "send timeout exceeded".into();
                }
            }
        };
        self.state().replies.remove(message_id);
        Err(CoreError::Transport(failure))
    }

    /// Replies to `reply` (a response from `reply.from`): the ACK, or a rejection.
    async fn reply_to(&self, reply: &ReplyMessage, payload: Vec<u8>) {
        let topic = self
            .topics
            .reply(&reply.from, &self.new_id(), &reply.message_id);
        if let Err(e) = self.publish(&topic, QoS::AtMostOnce, false, payload).await {
            tracing::debug!("could not reply to {}: {e}", reply.from);
        }
    }

    async fn snapshot_from(
        self: &Arc<Self>,
        peer: &Peer,
        request: &[u8],
    ) -> Result<RemoteSnapshot, CoreError> {
        let (response, reply) = self.request(peer, request).await?;
        let Response::Snapshot(response) = response else {
            return Err(CoreError::BadResponse(format!(
                "{peer} answered a snapshot request with {response:?}"
            )));
        };
        let consumed = match check_channels(&[&response.data_address, &response.updates_address]) {
            Ok(()) => {
                let (data, updates) = futures::join!(
                    channel::consume(self, &response.data_address, peer),
                    channel::consume(self, &response.updates_address, peer)
                );
                data.and_then(|data| Ok((data, updates?)))
            }
            Err(e) => Err(e),
        };
        let (data, updates) = match consumed {
            Ok(consumers) => consumers,
            Err(e) => {
                let rejected = Response::Rejected { status: e.status() }.encode();
                self.reply_to(&reply, rejected).await;
                return Err(e);
            }
        };
        self.reply_to(&reply, Reply::Ack.encode()).await;
        let domain = self.config.domain.clone();
        let limits = self.config.wire_limits;
        let data = channel::into_stream(data, "snapshot data", move |bytes| {
            Ok(match WireDatum::decode(bytes, &domain, &limits)? {
                WireDatum::Inserts(triples) => SnapshotDatum::Triples(triples),
                WireDatum::Operation(op) => SnapshotDatum::Operation(op),
            })
        });
        let SnapshotResponse {
            clock, gwc, agreed, ..
        } = response;
        Ok(RemoteSnapshot {
            clock,
            gwc,
            agreed: Some(agreed).filter(|a| *a != TreeClock::genesis()),
            data,
            updates: self.operation_stream(updates, "snapshot updates"),
        })
    }

    async fn revup_from(
        self: &Arc<Self>,
        peer: &Peer,
        request: &[u8],
    ) -> Result<Option<RemoteRevup>, CoreError> {
        let (response, reply) = self.request(peer, request).await?;
        let Response::Revup {
            gwc,
            updates_address,
        } = response
        else {
            return Err(CoreError::BadResponse(format!(
                "{peer} answered a rev-up request with {response:?}"
            )));
        };
        // "Cannot provide": no ACK, no stream.
        let Some(gwc) = gwc else { return Ok(None) };
        let consumed = match check_channels(&[&updates_address]) {
            Ok(()) => channel::consume(self, &updates_address, peer).await,
            Err(e) => Err(e),
        };
        let updates = match consumed {
            Ok(updates) => updates,
            Err(e) => {
                let rejected = Response::Rejected { status: e.status() }.encode();
                self.reply_to(&reply, rejected).await;
                return Err(e);
            }
        };
        self.reply_to(&reply, Reply::Ack.encode()).await;
        Ok(Some(RemoteRevup {
            gwc,
            updates: self.operation_stream(updates, "rev-up"),
        }))
    }

    fn operation_stream(
        &self,
        consumer: channel::Consumer,
        what: &'static str,
    ) -> PeerStream<OperationMessage> {
        let domain = self.config.domain.clone();
        let limits = self.config.wire_limits;
        channel::into_stream(consumer, what, move |bytes| {
            decode_operation_message(bytes, &domain, &limits)
        })
    }

    pub(crate) fn register_channel(
        &self,
        channel: &str,
        entry: ChannelEntry,
    ) -> Result<(), CoreError> {
        let mut state = self.state();
        if state.channels.contains_key(channel) {
            return Err(CoreError::BadResponse(format!(
                "channel {channel} is already in use"
            )));
        }
        state.channels.insert(channel.to_owned(), entry);
        Ok(())
    }

    pub(crate) fn forget_channel(&self, channel: &str) {
        if self.state().channels.remove(channel).is_some() {
            let topic = self.topics.notify(channel);
            if let Err(e) = self.client.try_unsubscribe(topic) {
                tracing::debug!("could not unsubscribe from channel {channel}: {e}");
            }
        }
    }

    // ---- the event loop's handlers ----

    /// The broker accepted our connection: subscribe, send the ghost, re-announce presence.
    fn on_connected(self: &Arc<Self>) {
        tracing::debug!("connected to the MQTT broker");
        self.connected.store(true, Ordering::Release);
        let shared = Arc::clone(self);
        self.spawn(async move {
            let t = &shared.topics;
            let filters = [
                &t.presence_filter,
                &t.operations_filter,
                &t.control,
                &t.send_filter,
                &t.reply_filter,
            ];
            let subscriptions: Vec<SubscribeFilter> = filters
                .into_iter()
                .zip(SESSION_QOS)
                .map(|(filter, qos)| SubscribeFilter::new(filter.clone(), qos))
                .collect();
            let setup = async {
                shared
                    .client
                    .subscribe_many(subscriptions)
                    .await
                    .map_err(|e| CoreError::Transport(e.to_string()))?;
                shared
                    .publish(&t.own_presence, QoS::AtLeastOnce, false, GHOST.to_vec())
                    .await?;
                let present = shared.state().present;
                if present {
                    shared.announce(true).await?;
                }
                Ok::<(), CoreError>(())
            };
            if let Err(e) = setup.await {
                tracing::warn!("could not set up the MQTT session: {e}");
            }
        });
    }

    /// The connection dropped: nothing is present, pending exchanges fail.
    fn on_disconnected(&self) {
        self.connected.store(false, Ordering::Release);
        self.ready.send_replace(false);
        let report = {
            let mut state = self.state();
            state.presence.clear();
            // Dropping the senders fails whoever waits for a reply or a channel item.
            state.replies.clear();
            state.channels.clear();
            self.report(&mut state, None)
        };
        if let Some((local, others)) = report {
            local.presence(others);
        }
    }

    /// What to tell the clone about presence, if it changed.
    fn report(
        &self,
        state: &mut State,
        others: Option<bool>,
    ) -> Option<(Arc<dyn LocalClone>, Option<bool>)> {
        if state.reported == Some(others) {
            return None;
        }
        let local = state.local.clone()?;
        state.reported = Some(others);
        Some((local, others))
    }

    fn on_message(
        self: &Arc<Self>,
        publish: Publish,
        operations: &mpsc::UnboundedSender<(String, Bytes)>,
    ) {
        match self.topics.classify(&publish.topic) {
            Incoming::Presence { client } => self.on_presence(client, &publish.payload),
            Incoming::Operation { client } => {
                // Our own operations come back to us: ignore them.
                if client != self.config.id {
                    let _ = operations.send((client.to_owned(), publish.payload));
                }
            }
            Incoming::Request { from, message_id } => {
                let shared = Arc::clone(self);
                let (from, message_id) = (from.to_owned(), message_id.to_owned());
                self.spawn(async move {
                    shared.answer(from, message_id, publish.payload).await;
                });
            }
            Incoming::Reply {
                from,
                message_id,
                sent_message_id,
            } => {
                let waiter = self.state().replies.remove(sent_message_id);
                match waiter {
                    Some(waiter) => {
                        let _ = waiter.send(ReplyMessage {
                            from: from.to_owned(),
                            message_id: message_id.to_owned(),
                            payload: publish.payload,
                        });
                    }
                    None => tracing::debug!("ignored a late or unknown reply from {from}"),
                }
            }
            Incoming::Notify { channel } => {
                let mut state = self.state();
                if let Some(entry) = state.channels.get_mut(channel) {
                    if publish.payload.is_empty() {
                        if let Some(probe) = entry.probe.take() {
                            let _ = probe.send(());
                        }
                    } else {
                        let _ = entry.items.send(publish.payload);
                    }
                }
            }
            Incoming::Other => {
                tracing::debug!("ignored a message on topic {:?}", publish.topic);
            }
        }
    }

    fn on_presence(&self, client: &str, payload: &[u8]) {
        tracing::trace!(
            "{}: presence of {client}: {:?}",
            self.config.id,
            String::from_utf8_lossy(payload)
        );
        let report = {
            let mut state = self.state();
            if payload == GHOST {
                // Our ghost is back: the retained records came before it. Others' ghosts are
                // theirs to count.
                if client == self.config.id && self.connected.load(Ordering::Acquire) {
                    self.ready.send_replace(true);
                }
            } else if payload == LEAVE {
                state.presence.left(client);
            } else if let Err(e) = state.presence.arrived(client, payload) {
                tracing::warn!("ignored a malformed presence record of {client:?}: {e}");
            }
            if *self.ready.borrow() {
                let others = state
                    .presence
                    .present(&self.topics.control)
                    .iter()
                    .any(|id| *id != self.config.id);
                self.report(&mut state, Some(others))
            } else {
                None
            }
        };
        self.presence_seen.send_modify(|n| *n += 1);
        if let Some((local, others)) = report {
            local.presence(others);
        }
    }

    /// Answers a peer's request (m-ld-js `PubsubRemotes.onSent`).
    async fn answer(self: Arc<Self>, from: String, message_id: String, payload: Bytes) {
        let request = match Request::decode(&payload) {
            Ok(request) => request,
            Err(e) => {
                tracing::warn!("rejecting a malformed request from {from:?}: {e}");
                return self.respond_rejected(&from, &message_id, e.status()).await;
            }
        };
        let Some(local) = self.local() else {
            return self
                .respond_rejected(&from, &message_id, CoreError::Offline.status())
                .await;
        };
        let outcome = match request {
            Request::Snapshot { new_clock } => match local.snapshot(new_clock).await {
                Ok(snapshot) => {
                    self.serve_snapshot(&from, &message_id, snapshot).await;
                    return;
                }
                Err(e) => e,
            },
            Request::Revup {
                time: RevupTime::Clock(time),
            } => match local.revup_from(&time).await {
                Ok(Some(revup)) => {
                    self.serve_revup(&from, &message_id, revup).await;
                    return;
                }
                Ok(None) => {
                    let cannot = Response::Revup {
                        gwc: None,
                        updates_address: self.config.id.clone(),
                    };
                    let reply_id = self.new_id();
                    let topic = self.topics.reply(&from, &reply_id, &message_id);
                    if let Err(e) = self
                        .publish(&topic, QoS::AtMostOnce, false, cannot.encode())
                        .await
                    {
                        tracing::debug!("could not answer {from}: {e}");
                    }
                    return;
                }
                Err(e) => e,
            },
            Request::Revup {
                time: RevupTime::Unidentified(time),
            } => CoreError::BadRequest(format!("rev-up from a time without an identity: {time}")),
        };
        tracing::debug!("rejecting a request from {from}: {outcome}");
        self.respond_rejected(&from, &message_id, outcome.status())
            .await;
    }

    async fn respond_rejected(&self, to: &str, message_id: &str, status: u16) {
        let topic = self.topics.reply(to, &self.new_id(), message_id);
        let rejected = Response::Rejected { status }.encode();
        if let Err(e) = self.publish(&topic, QoS::AtMostOnce, false, rejected).await {
            tracing::debug!("could not reject a request from {to}: {e}");
        }
    }

    /// Sends a response that needs an ACK, and waits for it. Returns whether it came.
    async fn respond_for_ack(&self, to: &str, message_id: &str, response: Response) -> bool {
        let reply_id = self.new_id();
        let ack = self.expect_reply(&reply_id);
        let topic = self.topics.reply(to, &reply_id, message_id);
        if let Err(e) = self
            .publish(&topic, QoS::AtMostOnce, false, response.encode())
            .await
        {
            self.state().replies.remove(&reply_id);
            tracing::debug!("could not answer {to}: {e}");
            return false;
        }
        match self.await_reply(None, &reply_id, ack).await {
            Ok(reply) => match Reply::decode(&reply.payload) {
                Ok(Reply::Ack) => true,
                Ok(Reply::Response(Response::Rejected { status })) => {
                    tracing::debug!("{to} cancelled its request ({status})");
                    false
                }
                Ok(Reply::Response(other)) => {
                    tracing::warn!("{to} replied {other:?} where an acknowledgement was due");
                    false
                }
                Err(e) => {
                    tracing::warn!("{to} sent a malformed acknowledgement: {e}");
                    false
                }
            },
            Err(e) => {
                tracing::info!("no acknowledgement from {to}: {e}");
                false
            }
        }
    }

    async fn serve_snapshot(&self, to: &str, message_id: &str, snapshot: RemoteSnapshot) {
        let RemoteSnapshot {
            clock,
            gwc,
            agreed,
            data,
            updates,
        } = snapshot;
        let data_address = self.new_id();
        let updates_address = self.new_id();
        let response = Response::Snapshot(SnapshotResponse {
            clock,
            gwc,
            agreed: agreed.unwrap_or_else(TreeClock::genesis),
            data_address: data_address.clone(),
            updates_address: updates_address.clone(),
        });
        if !self.respond_for_ack(to, message_id, response).await {
            return;
        }
        let domain = self.config.domain.as_str();
        futures::join!(
            channel::produce(self, &data_address, data, |datum| encode_datum(
                datum, domain
            )),
            channel::produce(self, &updates_address, updates, |msg| Ok(vec![
                encode_operation_message(&msg, domain)?
            ])),
        );
    }

    async fn serve_revup(&self, to: &str, message_id: &str, revup: RemoteRevup) {
        let RemoteRevup { gwc, updates } = revup;
        let updates_address = self.new_id();
        let response = Response::Revup {
            gwc: Some(gwc),
            updates_address: updates_address.clone(),
        };
        if !self.respond_for_ack(to, message_id, response).await {
            return;
        }
        let domain = self.config.domain.as_str();
        channel::produce(self, &updates_address, updates, |msg| {
            Ok(vec![encode_operation_message(&msg, domain)?])
        })
        .await;
    }
}

/// Channel ids chosen by a peer become topic levels: they must be proper, distinct levels.
fn check_channels(channels: &[&String]) -> Result<(), CoreError> {
    for (i, channel) in channels.iter().enumerate() {
        if !is_level(channel) {
            return Err(CoreError::BadResponse(format!(
                "channel id {channel:?} is not a topic level"
            )));
        }
        if channels[..i].contains(channel) {
            return Err(CoreError::BadResponse(format!(
                "channel id {channel:?} is used twice"
            )));
        }
    }
    Ok(())
}

/// A snapshot datum as one or more `next` payloads (large triple batches are split).
fn encode_datum(datum: SnapshotDatum, domain: &str) -> Result<Vec<Vec<u8>>, CoreError> {
    match datum {
        SnapshotDatum::Operation(op) => Ok(vec![WireDatum::Operation(op).encode(domain)?]),
        SnapshotDatum::Triples(triples) => {
            let mut items = Vec::with_capacity(triples.len() / SNAPSHOT_TRIPLES_PER_ITEM + 1);
            let mut rest = triples.into_iter();
            loop {
                let batch: Vec<_> = rest.by_ref().take(SNAPSHOT_TRIPLES_PER_ITEM).collect();
                if batch.is_empty() {
                    break;
                }
                items.push(WireDatum::Inserts(batch).encode(domain)?);
            }
            Ok(items)
        }
    }
}

/// Polls the connection until told to stop: dispatches what arrives, reconnects with back-off.
async fn run_event_loop(
    shared: Arc<Shared>,
    mut event_loop: EventLoop,
    operations: mpsc::UnboundedSender<(String, Bytes)>,
) {
    let mut stop = shared.stop.subscribe();
    let mut backoff = MIN_BACKOFF;
    let mut was_up = false;
    loop {
        let event = tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => break,
            event = event_loop.poll() => event,
        };
        match event {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                backoff = MIN_BACKOFF;
                was_up = true;
                shared.on_connected();
            }
            Ok(Event::Incoming(Packet::Publish(publish))) => {
                shared.on_message(publish, &operations);
            }
            Ok(Event::Incoming(Packet::SubAck(ack))) => check_granted(&ack.return_codes),
            Ok(Event::Outgoing(Outgoing::Disconnect)) => {
                // Only detach disconnects.
                shared.on_disconnected();
                break;
            }
            Ok(_) => {}
            Err(e) => {
                if shared.state().detached {
                    break;
                }
                if was_up {
                    tracing::warn!("MQTT connection lost: {}", describe(&e));
                } else {
                    tracing::debug!("MQTT connection failed: {}", describe(&e));
                }
                was_up = false;
                shared.on_disconnected();
                tokio::select! {
                    biased;
                    _ = stop.wait_for(|s| *s) => break,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
    shared.on_disconnected();
}

/// A connection error for the log (rumqttc's errors carry no credentials).
fn describe(e: &ConnectionError) -> String {
    e.to_string()
}

/// Logs subscriptions the broker refused or granted at a lower QoS than m-ld needs (m-ld-js
/// closes then; we carry on, and the clone stays offline if presence never arrives).
fn check_granted(codes: &[SubscribeReasonCode]) {
    if codes
        .iter()
        .any(|c| matches!(c, SubscribeReasonCode::Failure))
    {
        tracing::error!("the MQTT broker refused a subscription: {codes:?}");
    } else if codes.len() == SESSION_QOS.len() {
        let granted: Vec<QoS> = codes
            .iter()
            .filter_map(|c| match c {
                SubscribeReasonCode::Success(qos) => Some(*qos),
                SubscribeReasonCode::Failure => None,
            })
            .collect();
        if granted != SESSION_QOS {
            tracing::warn!("the MQTT broker granted {granted:?}, not {SESSION_QOS:?}");
        }
    }
}

/// Decodes operations from peers and hands them to the clone, in arrival order.
async fn deliver_operations(
    shared: Arc<Shared>,
    mut operations: mpsc::UnboundedReceiver<(String, Bytes)>,
) {
    while let Some((from, payload)) = operations.recv().await {
        let decoded =
            decode_operation_message(&payload, &shared.config.domain, &shared.config.wire_limits);
        match decoded {
            Ok(msg) => match shared.local() {
                Some(local) => local.operation(msg),
                None => break,
            },
            Err(e) if e.unsupported_feature().is_some() => match shared.local() {
                Some(local) => local.refuse(e),
                None => break,
            },
            Err(e) => tracing::warn!("dropped a bad operation from {from:?}: {e}"),
        }
    }
}

/// Broadcasts our operations, in order, while connected.
async fn broadcast_operations(
    shared: Arc<Shared>,
    mut outbox: mpsc::UnboundedReceiver<OperationMessage>,
) {
    while let Some(msg) = outbox.recv().await {
        if !shared.connected.load(Ordering::Acquire) {
            // Peers get it by rev-up.
            continue;
        }
        let bytes = match encode_operation_message(&msg, &shared.config.domain) {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::warn!("cannot encode operation at {}: {e}", msg.op.time);
                continue;
            }
        };
        let topic = &shared.topics.own_operations;
        if let Err(e) = shared.publish(topic, QoS::AtLeastOnce, false, bytes).await {
            tracing::warn!("operation at {} not broadcast: {e}", msg.op.time);
        }
    }
}
