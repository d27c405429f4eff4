//! Notification channels (docs/protocol.md §2.5, m-ld-js `PubsubRemotes.consume` / `produce`): the
//! streams of a snapshot or rev-up, each on its own topic `<domain>/control/<channelId>`.
//!
//! Owns both ends: the consumer's subscription (confirmed before the ACK, then removed when the
//! stream ends or is dropped) and its conversion into a [`PeerStream`] with a per-item timeout,
//! and the producer's loop that publishes `{next}` items then `{complete}` or `{error}`. It must
//! not choose peers or answer requests (that is [`remotes`](crate::remotes)).
//!
//! A consumer confirms its subscription by publishing an empty *probe* on the channel topic and
//! waiting for it to come back: MQTT delivers a client's publishes after its earlier subscribe
//! took effect. Producers never subscribe, so no m-ld-js peer sees a probe.
//!
//! Patience: a stream fails at once when its producer's presence goes (it left, or its will was
//! published), and after [`STREAM_PATIENCE`] network timeouts of silence while it stays present.
//! A producer that is present is alive and connected; m-ld-js collaborators can pause longer
//! than a network timeout between items (about a second with a few thousand subjects), and m-ld-js
//! joiners get over that by retrying, so a single network timeout would make a live but slow
//! collaborator look dead (docs/protocol.md §2.5).

use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use m_ld_core::CoreError;
use m_ld_core::remotes::PeerStream;
use m_ld_core::wire::notify::{Notification, NotifyError};
use rumqttc::QoS;
use tokio::sync::{mpsc, oneshot};

use crate::remotes::{Peer, Shared};

/// A registered channel, as the event loop sees it.
pub(crate) struct ChannelEntry {
    /// Where notifications go.
    pub items: mpsc::UnboundedSender<Bytes>,
    /// Signalled when the probe comes back.
    pub probe: Option<oneshot::Sender<()>>,
}

/// How many network timeouts of silence a stream allows while its producer is present.
pub(crate) const STREAM_PATIENCE: u32 = 12;

/// The receiving end of a channel; unsubscribes when dropped.
pub(crate) struct Consumer {
    items: mpsc::UnboundedReceiver<Bytes>,
    /// The clone producing the channel.
    producer: Peer,
    guard: ChannelGuard,
}

struct ChannelGuard {
    shared: Arc<Shared>,
    channel: String,
}

impl Drop for ChannelGuard {
    fn drop(&mut self) {
        self.shared.forget_channel(&self.channel);
    }
}

/// Subscribes to channel `channel`, produced by clone `producer`, and waits until the
/// subscription is in effect.
pub(crate) async fn consume(
    shared: &Arc<Shared>,
    channel: &str,
    producer: &Peer,
) -> Result<Consumer, CoreError> {
    let (items_tx, items) = mpsc::unbounded_channel();
    let (probe_tx, probe_rx) = oneshot::channel();
    shared.register_channel(
        channel,
        ChannelEntry {
            items: items_tx,
            probe: Some(probe_tx),
        },
    )?;
    let guard = ChannelGuard {
        shared: Arc::clone(shared),
        channel: channel.to_owned(),
    };
    let topic = shared.topics.notify(channel);
    shared.subscribe(&topic, QoS::AtLeastOnce).await?;
    shared
        .publish(&topic, QoS::AtLeastOnce, false, Vec::new())
        .await?;
    match tokio::time::timeout(shared.config.network_timeout, probe_rx).await {
        Ok(Ok(())) => Ok(Consumer {
            items,
            producer: producer.clone(),
            guard,
        }),
        Ok(Err(_)) => Err(CoreError::Transport(
            "connection lost while subscribing to a channel".into(),
        )),
        Err(_) => {
            shared.counters.timed_out();
            Err(CoreError::Transport(
                "subscription to a channel was not confirmed in time".into(),
            ))
        }
    }
}

/// The items of a channel, each decoded by `decode`. The stream fails when its producer is no
/// longer present, after [`STREAM_PATIENCE`] network timeouts without a notification, if the
/// connection drops, or on a malformed or error notification.
pub(crate) fn into_stream<T, D>(consumer: Consumer, what: &'static str, decode: D) -> PeerStream<T>
where
    T: Send + 'static,
    D: Fn(&[u8]) -> Result<T, CoreError> + Send + 'static,
{
    Box::pin(futures::stream::unfold(
        Some((consumer, decode)),
        move |state| async move {
            let (mut consumer, decode) = state?;
            let failure = match next_notification(&mut consumer, what).await {
                Err(e) => e,
                Ok(bytes) => match Notification::decode(&bytes) {
                    Ok(Notification::Next(item)) => match decode(&item) {
                        Ok(item) => return Some((Ok(item), Some((consumer, decode)))),
                        Err(e) => e,
                    },
                    Ok(Notification::Complete) => return None,
                    Ok(Notification::Error(e)) => notified(what, e),
                    Err(e) => e,
                },
            };
            tracing::debug!("{what} failed: {failure}");
            Some((Err(failure), None))
        },
    ))
}

/// The next notification on a channel, waited for as long as its producer is present (up to
/// the patience).
async fn next_notification(consumer: &mut Consumer, what: &str) -> Result<Bytes, CoreError> {
    let shared = Arc::clone(&consumer.guard.shared);
    let timeout = shared.config.network_timeout;
    let mut presence = shared.presence_changes();
    let mut silent = 0;
    let mut deadline = tokio::time::Instant::now() + timeout;
    loop {
        tokio::select! {
            item = consumer.items.recv() => {
                return item.ok_or_else(|| CoreError::Transport(format!("{what}: connection lost")));
            }
            changed = presence.changed() => {
                if changed.is_err() || !shared.still_present(&consumer.producer) {
                    shared.counters.collaborator_gone();
                    return Err(CoreError::Transport(format!(
                        "{what}: {} left the domain",
                        consumer.producer
                    )));
                }
            }
            () = tokio::time::sleep_until(deadline) => {
                silent += 1;
                if silent >= STREAM_PATIENCE || !shared.still_present(&consumer.producer) {
                    shared.counters.timed_out();
                    return Err(CoreError::Transport(format!("{what}: send timeout exceeded")));
                }
                tracing::debug!(
                    "{what}: {} is slow ({silent} network timeouts), and still present",
                    consumer.producer
                );
                deadline += timeout;
            }
        }
    }
}

fn notified(what: &str, e: NotifyError) -> CoreError {
    match e.status {
        Some(status) => {
            tracing::debug!("{what}: peer notified error {status}: {}", e.message);
            CoreError::Rejected(status)
        }
        None => CoreError::Transport(format!("{what}: peer notified error: {}", e.message)),
    }
}

/// Publishes `items` on channel `channel`: each encoded by `encode` into one or more `next`
/// notifications, then `complete`; or `error` at the first failure.
pub(crate) async fn produce<T, E>(
    shared: &Shared,
    channel: &str,
    mut items: PeerStream<T>,
    encode: E,
) where
    E: Fn(T) -> Result<Vec<Vec<u8>>, CoreError>,
{
    let topic = shared.topics.notify(channel);
    let end = 'items: loop {
        let payloads = match items.next().await {
            None => break Notification::Complete,
            Some(item) => match item.and_then(&encode) {
                Ok(payloads) => payloads,
                Err(e) => break error_notification(&e),
            },
        };
        for payload in payloads {
            let next = Notification::Next(payload).encode();
            match shared.publish(&topic, QoS::AtMostOnce, false, next).await {
                Ok(()) => {}
                Err(e @ CoreError::WireTooLarge(_)) => break 'items error_notification(&e),
                Err(e) => {
                    tracing::warn!("stopped sending on channel {channel}: {e}");
                    return;
                }
            }
        }
    };
    if let Notification::Error(e) = &end {
        tracing::warn!("sending an error on channel {channel}: {}", e.message);
    }
    if let Err(e) = shared
        .publish(&topic, QoS::AtMostOnce, false, end.encode())
        .await
    {
        tracing::warn!("could not end channel {channel}: {e}");
    }
}

fn error_notification(e: &CoreError) -> Notification {
    Notification::Error(NotifyError {
        status: Some(e.status()),
        message: e.to_string(),
    })
}
