//! [`EmbeddedBroker`]: an in-process MQTT 3.1.1 broker (rumqttd) on a loopback port, for the
//! CLI's default mode and for tests. Retained messages and wills work as m-ld presence needs.
//!
//! Owns the broker's thread and runtime. It must not know m-ld topics. The broker holds
//! everything in memory: stopping it drops every connection and forgets retained messages.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use rumqttd::protocol::v4::V4;
use rumqttd::{ConnectionSettings, LinkType, Router, RouterConfig, Server, ServerSettings};
use tokio::sync::oneshot;

use crate::{MqttConfig, MqttError};

/// The size of a segment of rumqttd's in-memory message logs.
const SEGMENT_SIZE: usize = 8 << 20;

/// How long [`EmbeddedBroker::start`] waits for the listener to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A running in-process MQTT broker, listening on a loopback address.
///
/// It stops when [`stop`](Self::stop)ped or dropped: its connections close (clients see the
/// broker go away, so no wills are published) and its retained messages are forgotten. The
/// broker's message router is a thread that rumqttd cannot stop; it stays, idle, until the
/// process exits.
#[derive(Debug)]
pub struct EmbeddedBroker {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl EmbeddedBroker {
    /// Starts a broker on `addr`, which must be a loopback address; port 0 picks a free port.
    /// Returns once the broker accepts connections.
    pub fn start(addr: SocketAddr) -> Result<EmbeddedBroker, MqttError> {
        if !addr.ip().is_loopback() {
            return Err(MqttError::Config(format!(
                "the embedded broker listens on loopback addresses only, not {addr}"
            )));
        }
        // rumqttd binds the listener itself and cannot report the port: check the address is
        // free (and find a port) by binding it first.
        let addr = TcpListener::bind(addr)
            .and_then(|probe| probe.local_addr())
            .map_err(MqttError::Broker)?;
        let max_payload = MqttConfig::DEFAULT_MAX_PACKET_SIZE;
        let router = Router::new(
            0,
            RouterConfig {
                max_connections: 10_000,
                max_outgoing_packet_count: 200,
                // rumqttd keeps every topic filter's log, up to this many segments of this size
                // (a larger message still fits, overflowing its segment).
                max_segment_size: SEGMENT_SIZE,
                max_segment_count: 4,
                ..RouterConfig::default()
            },
        );
        let router_tx = router.spawn();
        let settings = ServerSettings {
            name: format!("m-ld-{addr}"),
            listen: addr,
            tls: None,
            next_connection_delay_ms: 0,
            connections: ConnectionSettings {
                connection_timeout_ms: 10_000,
                max_payload_size: max_payload,
                max_inflight_count: 500,
                auth: None,
                external_auth: None,
                dynamic_filters: true,
            },
        };
        let mut server = Server::new(settings, router_tx, V4);
        let (shutdown, stopped) = oneshot::channel::<()>();
        let thread = thread::Builder::new()
            .name("m-ld-mqtt-broker".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        tracing::error!("embedded MQTT broker has no runtime: {e}");
                        return;
                    }
                };
                runtime.block_on(async move {
                    tokio::select! {
                        result = server.start(LinkType::Remote) => {
                            if let Err(e) = result {
                                tracing::error!("embedded MQTT broker failed: {e}");
                            }
                        }
                        _ = stopped => {}
                    }
                });
                // Dropping the runtime ends every connection task.
            })
            .map_err(MqttError::Broker)?;
        let broker = EmbeddedBroker {
            addr,
            shutdown: Some(shutdown),
            thread: Some(thread),
        };
        broker.wait_until_listening()?;
        Ok(broker)
    }

    fn wait_until_listening(&self) -> Result<(), MqttError> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)) {
                Ok(_) => return Ok(()),
                Err(e) if Instant::now() >= deadline => return Err(MqttError::Broker(e)),
                Err(_) => {
                    if self.thread.as_ref().is_some_and(|t| t.is_finished()) {
                        return Err(MqttError::Broker(std::io::Error::other(
                            "the broker stopped while starting",
                        )));
                    }
                    thread::sleep(Duration::from_millis(10));
                }
            }
        }
    }

    /// The address the broker listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port the broker listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Stops the broker: closes its listener and every connection, and waits until they are.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for EmbeddedBroker {
    fn drop(&mut self) {
        self.shut_down();
    }
}
