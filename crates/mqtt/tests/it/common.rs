//! Helpers shared by the integration tests: brokers, clones, raw MQTT clients and bounded waits.

use std::sync::{Arc, Once};
use std::time::Duration;

use m_ld::core::store::MemoryStore;
use m_ld::{MeldClone, MeldConfig, MeldError};
use m_ld_mqtt::{EmbeddedBroker, MqttConfig, MqttRemotes};
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, Publish, QoS, SubscribeFilter};
use tokio::sync::mpsc;

pub const DOMAIN: &str = "test.example.org";

/// How long a bounded wait lasts before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(30);

pub fn init_logging() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "warn".into()),
            )
            .with_test_writer()
            .try_init();
    });
}

pub fn broker() -> EmbeddedBroker {
    init_logging();
    EmbeddedBroker::start("127.0.0.1:0".parse().unwrap()).unwrap()
}

pub fn mqtt_config(port: u16, id: &str) -> MqttConfig {
    MqttConfig::new("127.0.0.1", port, DOMAIN, id)
}

pub async fn open_with(
    config: MqttConfig,
    genesis: bool,
    store: MemoryStore,
) -> Result<MeldClone, MeldError> {
    let id = config.id.clone();
    let remotes = Arc::new(MqttRemotes::new(config).unwrap());
    MeldClone::open_with_remotes(store, remotes, MeldConfig::new(id, DOMAIN, genesis)).await
}

pub async fn open(
    port: u16,
    id: &str,
    genesis: bool,
    store: MemoryStore,
) -> Result<MeldClone, MeldError> {
    open_with(mqtt_config(port, id), genesis, store).await
}

pub fn dump(clone: &MeldClone) -> String {
    clone.read_state().unwrap().to_ntriples().unwrap()
}

/// Waits (bounded) until `done` holds.
pub async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits (bounded) until every clone holds the same data and none is outdated.
pub async fn converged(clones: &[&MeldClone]) -> String {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let dumps: Vec<String> = clones.iter().map(|c| dump(c)).collect();
        let settled = clones.iter().all(|c| !c.status().unwrap().outdated);
        if settled && dumps.windows(2).all(|w| w[0] == w[1]) {
            return dumps[0].clone();
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("clones did not converge: {dumps:#?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A raw MQTT client, for playing a peer by hand.
pub struct RawClient {
    pub client: AsyncClient,
    pub messages: mpsc::UnboundedReceiver<Publish>,
    task: tokio::task::JoinHandle<()>,
}

impl RawClient {
    /// Connects, subscribes to `filters` (QoS 1) and waits until the subscription is acked.
    pub async fn connect(port: u16, id: &str, filters: &[&str]) -> RawClient {
        let mut options = MqttOptions::new(id, "127.0.0.1", port);
        options.set_max_packet_size(1 << 20, 1 << 20);
        let (client, mut event_loop) = AsyncClient::new(options, 64);
        let mut network = event_loop.network_options();
        network.set_tcp_nodelay(true);
        event_loop.set_network_options(network);
        let (tx, messages) = mpsc::unbounded_channel();
        let (subscribed_tx, subscribed) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(pump(event_loop, tx, subscribed_tx));
        if !filters.is_empty() {
            let filters = filters
                .iter()
                .map(|f| SubscribeFilter::new((*f).to_owned(), QoS::AtLeastOnce));
            client.subscribe_many(filters).await.unwrap();
            tokio::time::timeout(PATIENCE, subscribed)
                .await
                .unwrap()
                .unwrap();
        }
        RawClient {
            client,
            messages,
            task,
        }
    }

    pub async fn publish(&self, topic: &str, payload: impl Into<Vec<u8>>) {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .await
            .unwrap();
    }

    /// The next message whose topic satisfies `select` (bounded wait).
    pub async fn next_where(&mut self, mut select: impl FnMut(&Publish) -> bool) -> Publish {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let message = tokio::time::timeout_at(deadline, self.messages.recv())
                .await
                .expect("no such message in time")
                .expect("raw client stopped");
            if select(&message) {
                return message;
            }
        }
    }
}

impl Drop for RawClient {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn pump(
    mut event_loop: EventLoop,
    messages: mpsc::UnboundedSender<Publish>,
    subscribed: tokio::sync::oneshot::Sender<()>,
) {
    let mut subscribed = Some(subscribed);
    loop {
        match event_loop.poll().await {
            Ok(Event::Incoming(Packet::Publish(p))) => {
                let _ = messages.send(p);
            }
            Ok(Event::Incoming(Packet::SubAck(_))) => {
                if let Some(s) = subscribed.take() {
                    let _ = s.send(());
                }
            }
            Ok(_) => {}
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}
