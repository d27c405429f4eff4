//! [`id_in_use`]: whether a clone id is already live on a broker, asked before a clone connects
//! under it (an MQTT broker disconnects the older of two connections with one client id, so a
//! second clone with a live clone's id would throw the first into a reconnection loop).
//!
//! Owns the short-lived probe connection only: it reads retained presence records and publishes
//! nothing but its own ghost, so present clones see no change. It must not decide what the caller
//! does with the answer.

use std::time::Duration;

use rumqttc::{Event, Packet, QoS, SubscribeFilter, SubscribeReasonCode};

use crate::presence::{GHOST, LEAVE};
use crate::{MqttConfig, MqttError};

/// The domain in which a clone with MQTT client id `config.id` is live on the broker of
/// `config`, if any, from the retained presence records (`__presence/<domain>/<id>`) of every
/// domain (MQTT client ids are unique per broker, whatever the domain). A record is live unless
/// it is empty or a ghost (`-`).
///
/// Connects under a random client id (`probe-<hex>`), with no will, and reads until its own ghost
/// (sent on `__presence/<config.domain>/<probe id>`, not retained) comes back: the retained
/// records the broker sends on subscription come first. Fails if the broker cannot be reached or
/// the exchange takes longer than `config.network_timeout`.
pub async fn id_in_use(config: &MqttConfig) -> Result<Option<String>, MqttError> {
    config.validate()?;
    let probe_id = format!("probe-{:016x}", rand::random::<u64>());
    let (client, mut event_loop) = config.client(probe_id.clone(), 16, |_| {});

    let records = format!("__presence/+/{}", config.id);
    let ghost = format!("__presence/{}/{probe_id}", config.domain);
    let exchange = async {
        // The domains with a live record for the id, in arrival order.
        let mut live: Vec<String> = Vec::new();
        loop {
            let event = event_loop
                .poll()
                .await
                .map_err(|e| MqttError::Connection(format!("probing the broker: {e}")))?;
            let Event::Incoming(packet) = event else {
                continue;
            };
            match packet {
                Packet::ConnAck(_) => client
                    .try_subscribe_many([
                        SubscribeFilter::new(records.clone(), QoS::AtLeastOnce),
                        SubscribeFilter::new(ghost.clone(), QoS::AtLeastOnce),
                    ])
                    .map_err(|e| MqttError::Connection(e.to_string()))?,
                Packet::SubAck(ack) => {
                    if ack.return_codes.contains(&SubscribeReasonCode::Failure) {
                        return Err(MqttError::Connection(
                            "the broker refused the presence subscription".into(),
                        ));
                    }
                    client
                        .try_publish(ghost.clone(), QoS::AtLeastOnce, false, GHOST.to_vec())
                        .map_err(|e| MqttError::Connection(e.to_string()))?;
                }
                Packet::Publish(publish)
                    if publish.topic == ghost && &publish.payload[..] == GHOST =>
                {
                    // Prefer the caller's own domain, if the id is live there.
                    let own = live.iter().position(|d| *d == config.domain).unwrap_or(0);
                    return Ok((own < live.len()).then(|| live.swap_remove(own)));
                }
                Packet::Publish(publish) => {
                    let levels: Vec<&str> = publish.topic.split('/').collect();
                    if let ["__presence", domain, id] = levels.as_slice()
                        && *id == config.id
                    {
                        let record = &publish.payload[..];
                        live.retain(|d| d != domain);
                        if record != LEAVE && record != GHOST {
                            live.push((*domain).to_owned());
                        }
                    }
                }
                _ => {}
            }
        }
    };
    let found = match tokio::time::timeout(config.network_timeout, exchange).await {
        Ok(found) => found,
        Err(_) => Err(MqttError::Connection(format!(
            "the broker at {}:{} did not answer the presence probe within {:?}",
            config.host, config.port, config.network_timeout
        ))),
    };
    // Leave cleanly (a dropped connection is logged by some brokers), but do not wait long.
    if client.try_disconnect().is_ok() {
        let flushed = async {
            while let Ok(event) = event_loop.poll().await {
                if matches!(event, Event::Outgoing(rumqttc::Outgoing::Disconnect)) {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), flushed).await;
    }
    found
}
