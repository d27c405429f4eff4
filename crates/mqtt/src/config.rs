//! [`MqttConfig`]: where the broker is, who this clone is on it, and the limits of the exchange.
//!
//! Owns configuration and its validation only. It must not open connections; credentials are
//! never printed (its `Debug` redacts the password).

use std::fmt;
use std::time::Duration;

use m_ld_core::wire::encoding::WireLimits;

use crate::MqttError;

/// How an [`MqttRemotes`](crate::MqttRemotes) connects to its broker and behaves on it.
///
/// Build it with [`MqttConfig::new`] and the `with_*` methods. The MQTT client id is the clone's
/// `@id`, which m-ld puts in topic levels: it must be non-empty and contain no `/`, `+` or `#`.
#[derive(Clone)]
#[non_exhaustive]
pub struct MqttConfig {
    /// The broker's host name or IP address.
    pub host: String,
    /// The broker's port.
    pub port: u16,
    /// The m-ld domain (`@domain`), e.g. `test.example.org`.
    pub domain: String,
    /// The clone's `@id`, used as the MQTT client id.
    pub id: String,
    /// A user name for the broker, if it asks for one.
    pub username: Option<String>,
    /// The password that goes with [`username`](Self::username). Never logged.
    pub password: Option<String>,
    /// How long to wait for a peer's response, for an acknowledgement, and between the items of
    /// a stream (m-ld `networkTimeout`, default 5 s).
    pub network_timeout: Duration,
    /// The largest MQTT packet sent or accepted, in bytes (default 64 MiB). Operations and
    /// snapshot items that would not fit are not sent (an operation then reaches peers through
    /// their rev-ups; a stream fails with an error notification).
    pub max_packet_size: usize,
    /// Limits on decoding what peers send (gzip inflation, statements per message).
    pub wire_limits: WireLimits,
    /// TLS to the broker. Without the `tls` feature, connections are plain TCP.
    #[cfg(feature = "tls")]
    pub tls: Option<rumqttc::TlsConfiguration>,
}

impl MqttConfig {
    /// A client of this configuration's broker under MQTT client id `client_id`: clean session,
    /// credentials, TLS, packet limit, connection timeout and TCP_NODELAY (small control messages
    /// must not wait for Nagle's algorithm). `options` adds what a particular client needs.
    pub(crate) fn client(
        &self,
        client_id: String,
        capacity: usize,
        options: impl FnOnce(&mut rumqttc::MqttOptions),
    ) -> (rumqttc::AsyncClient, rumqttc::EventLoop) {
        let mut mqtt = rumqttc::MqttOptions::new(client_id, self.host.clone(), self.port);
        mqtt.set_clean_session(true)
            .set_keep_alive(Duration::from_secs(60))
            .set_max_packet_size(self.max_packet_size, self.max_packet_size);
        if let Some(username) = &self.username {
            mqtt.set_credentials(username.clone(), self.password.clone().unwrap_or_default());
        }
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            mqtt.set_transport(rumqttc::Transport::Tls(tls.clone()));
        }
        options(&mut mqtt);
        let (client, mut event_loop) = rumqttc::AsyncClient::new(mqtt, capacity);
        let mut network = event_loop.network_options();
        network.set_connection_timeout(self.network_timeout.as_secs().max(1));
        network.set_tcp_nodelay(true);
        event_loop.set_network_options(network);
        (client, event_loop)
    }

    /// The default [`network_timeout`](Self::network_timeout): 5 s, as m-ld-js.
    pub const DEFAULT_NETWORK_TIMEOUT: Duration = Duration::from_secs(5);
    /// The default [`max_packet_size`](Self::max_packet_size): 64 MiB.
    pub const DEFAULT_MAX_PACKET_SIZE: usize = 64 << 20;

    /// A configuration for clone `id` of `domain`, through the broker at `host:port`, with the
    /// defaults for everything else.
    pub fn new(
        host: impl Into<String>,
        port: u16,
        domain: impl Into<String>,
        id: impl Into<String>,
    ) -> MqttConfig {
        MqttConfig {
            host: host.into(),
            port,
            domain: domain.into(),
            id: id.into(),
            username: None,
            password: None,
            network_timeout: Self::DEFAULT_NETWORK_TIMEOUT,
            max_packet_size: Self::DEFAULT_MAX_PACKET_SIZE,
            wire_limits: WireLimits::default(),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// Logs in to the broker with a user name and password.
    pub fn with_credentials(
        mut self,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> MqttConfig {
        self.username = Some(username.into());
        self.password = Some(password.into());
        self
    }

    /// Sets the [`network_timeout`](Self::network_timeout).
    pub fn with_network_timeout(mut self, timeout: Duration) -> MqttConfig {
        self.network_timeout = timeout;
        self
    }

    /// Sets the [`max_packet_size`](Self::max_packet_size).
    pub fn with_max_packet_size(mut self, bytes: usize) -> MqttConfig {
        self.max_packet_size = bytes;
        self
    }

    /// Sets the [`wire_limits`](Self::wire_limits).
    pub fn with_wire_limits(mut self, limits: WireLimits) -> MqttConfig {
        self.wire_limits = limits;
        self
    }

    /// Connects over TLS.
    #[cfg(feature = "tls")]
    pub fn with_tls(mut self, tls: rumqttc::TlsConfiguration) -> MqttConfig {
        self.tls = Some(tls);
        self
    }

    /// Checks what the broker and m-ld's topic scheme require.
    pub fn validate(&self) -> Result<(), MqttError> {
        check_level("id", &self.id)?;
        check_level("domain", &self.domain)?;
        if self.domain.contains('/') {
            return Err(MqttError::Config(format!(
                "domain {:?} must not contain '/'",
                self.domain
            )));
        }
        if self.host.is_empty() {
            return Err(MqttError::Config("host must not be empty".into()));
        }
        if self.network_timeout.is_zero() {
            return Err(MqttError::Config("network timeout must not be zero".into()));
        }
        if self.max_packet_size < MIN_PACKET_SIZE {
            return Err(MqttError::Config(format!(
                "max packet size must be at least {MIN_PACKET_SIZE} bytes"
            )));
        }
        if self.password.is_some() && self.username.is_none() {
            return Err(MqttError::Config(
                "a password needs a user name (MQTT 3.1.1)".into(),
            ));
        }
        Ok(())
    }
}

/// Small enough for any test, large enough for every control message.
const MIN_PACKET_SIZE: usize = 1024;

/// A value that is used as one topic level: non-empty, no wildcards, no separators.
fn check_level(what: &str, value: &str) -> Result<(), MqttError> {
    if value.is_empty() {
        return Err(MqttError::Config(format!("{what} must not be empty")));
    }
    if let Some(c) = value
        .chars()
        .find(|c| matches!(c, '/' | '+' | '#') || c.is_control())
    {
        return Err(MqttError::Config(format!(
            "{what} {value:?} must not contain {c:?}"
        )));
    }
    Ok(())
}

impl fmt::Debug for MqttConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("MqttConfig");
        d.field("host", &self.host)
            .field("port", &self.port)
            .field("domain", &self.domain)
            .field("id", &self.id)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("network_timeout", &self.network_timeout)
            .field("max_packet_size", &self.max_packet_size)
            .field("wire_limits", &self.wire_limits);
        #[cfg(feature = "tls")]
        d.field("tls", &self.tls.is_some());
        d.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_never_printed() {
        let config = MqttConfig::new("localhost", 1883, "test.example.org", "a")
            .with_credentials("user", "s3cret-pa55");
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret-pa55"), "{shown}");
        assert!(shown.contains("user"), "{shown}");
    }

    #[test]
    fn ids_and_domains_must_be_topic_levels() {
        let ok = MqttConfig::new("localhost", 1883, "test.example.org", "a");
        assert!(ok.validate().is_ok());
        for (domain, id) in [
            ("test.example.org", ""),
            ("test.example.org", "a/b"),
            ("test.example.org", "a+"),
            ("test.example.org", "#"),
            ("", "a"),
            ("test/example.org", "a"),
            ("test.example.org", "a\u{0}"),
        ] {
            let bad = MqttConfig::new("localhost", 1883, domain, id);
            assert!(bad.validate().is_err(), "{domain:?} {id:?}");
        }
        let no_wait = ok.clone().with_network_timeout(Duration::ZERO);
        assert!(no_wait.validate().is_err());
        let tiny = ok.with_max_packet_size(10);
        assert!(tiny.validate().is_err());
    }
}
