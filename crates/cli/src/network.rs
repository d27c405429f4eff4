//! How `mld` reaches the other clones of its domain: an external MQTT broker (`--mqtt URL`), the
//! shared embedded broker on a well-known loopback port (the default), or none (`--alone`).
//!
//! Owns broker addressing, hosting the shared embedded broker (and taking it over when the
//! process that hosted it exits), refusing a clone id that is live already (before connecting
//! under it), and the join-or-genesis decision at start-up. It must not read
//! requests or print results (that is `main`'s job).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use m_ld::core::remotes::Remotes;
use m_ld::mqtt::{EmbeddedBroker, MqttConfig, MqttRemotes, id_in_use};
use m_ld::{MeldClone, MeldConfig, MeldError};

/// The loopback port of the shared embedded broker (the standard MQTT port).
pub const DEFAULT_BROKER_PORT: u16 = 1883;

/// How often a clone on the shared embedded broker checks that somebody still hosts it.
const TAKEOVER_INTERVAL: Duration = Duration::from_secs(1);

/// How long a joining clone waits for the live clones of this machine to become reachable.
const JOIN_PATIENCE: Duration = Duration::from_secs(15);

/// Where the clone's broker is.
#[derive(Debug, Clone, PartialEq)]
pub enum Network {
    /// No broker: the clone is alone (and must be the domain's genesis clone).
    Alone,
    /// An MQTT broker at `host:port`, with optional credentials. `shared` means the well-known
    /// embedded broker that `mld` processes host for each other on this machine.
    Broker {
        /// The broker's host name or address.
        host: String,
        /// The broker's port.
        port: u16,
        /// User name and password, if the broker asks for them.
        credentials: Option<(String, String)>,
        /// Whether this is the shared embedded broker on a loopback port.
        shared: bool,
    },
}

impl Network {
    /// The shared embedded broker on `port` of this machine.
    pub fn shared(port: u16) -> Network {
        Network::Broker {
            host: Ipv4Addr::LOCALHOST.to_string(),
            port,
            credentials: None,
            shared: true,
        }
    }

    /// Reads a broker URL: `mqtt://[user[:password]@]host[:port]` (port 1883 by default). A
    /// password may also come from the `MLD_MQTT_PASSWORD` environment variable, which keeps it
    /// out of process listings.
    pub fn from_url(url: &str) -> Result<Network, String> {
        let rest = match url.split_once("://") {
            Some(("mqtt" | "tcp", rest)) => rest,
            Some((scheme, _)) => {
                return Err(format!(
                    "unsupported broker URL scheme {scheme:?} (use mqtt://host:port)"
                ));
            }
            None => url,
        };
        let rest = rest.trim_end_matches('/');
        let (userinfo, hostport) = match rest.rsplit_once('@') {
            Some((userinfo, hostport)) => (Some(userinfo), hostport),
            None => (None, rest),
        };
        let (host, port) = split_host_port(hostport)?;
        let credentials = userinfo.map(|info| {
            let (user, password) = match info.split_once(':') {
                Some((user, password)) => (user.to_owned(), password.to_owned()),
                None => (
                    info.to_owned(),
                    std::env::var("MLD_MQTT_PASSWORD").unwrap_or_default(),
                ),
            };
            (user, password)
        });
        Ok(Network::Broker {
            host,
            port,
            credentials,
            shared: false,
        })
    }

    /// Reads the `mqtt` options of an m-ld-js clone configuration (those of MQTT.js that name
    /// the broker): `{"host" (or "hostname"), "port"?, "protocol"?, "username"?, "password"?}`.
    /// Other options are refused, so that none is silently ignored.
    pub fn from_js_options(options: &serde_json::Value) -> Result<Network, String> {
        let serde_json::Value::Object(options) = options else {
            return Err(format!(
                "mqtt must be an object of MQTT.js options, not {options}"
            ));
        };
        let text = |key: &str| match options.get(key) {
            None => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(format!("mqtt.{key} must be a string, not {other}")),
        };
        for key in options.keys() {
            if ![
                "host", "hostname", "port", "protocol", "username", "password",
            ]
            .contains(&key.as_str())
            {
                return Err(format!(
                    "mqtt.{key} is not supported by mld (it reads host, hostname, port, \
                     protocol, username and password)"
                ));
            }
        }
        if let Some(protocol) = text("protocol")?
            && !matches!(protocol.as_str(), "mqtt" | "tcp")
        {
            return Err(format!(
                "mqtt.protocol {protocol:?} is not supported by mld (use mqtt)"
            ));
        }
        let host = match (text("host")?, text("hostname")?) {
            (Some(host), _) | (None, Some(host)) if !host.is_empty() => host,
            _ => return Err("mqtt.host is required (the broker's host name)".into()),
        };
        let port = match options.get("port") {
            None => 1883,
            Some(port) => port
                .as_u64()
                .and_then(|p| u16::try_from(p).ok())
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("mqtt.port must be a port number, not {port}"))?,
        };
        let credentials = match (text("username")?, text("password")?) {
            (Some(user), password) => Some((
                user,
                password
                    .or_else(|| std::env::var("MLD_MQTT_PASSWORD").ok())
                    .unwrap_or_default(),
            )),
            (None, Some(_)) => return Err("mqtt.password needs mqtt.username".into()),
            (None, None) => None,
        };
        Ok(Network::Broker {
            host,
            port,
            credentials,
            shared: false,
        })
    }

    /// The MQTT configuration of clone `config` on this network (`None` when alone).
    fn mqtt_config(&self, config: &MeldConfig) -> Option<MqttConfig> {
        let Network::Broker {
            host,
            port,
            credentials,
            ..
        } = self
        else {
            return None;
        };
        let mut mqtt = MqttConfig::new(host.clone(), *port, &config.domain, &config.id)
            .with_network_timeout(config.network_timeout);
        if let Some(max) = config.max_operation_size {
            // Room for the operation and its envelope, if more than the default allows.
            let packet = mqtt.max_packet_size.max(max + 64 * 1024);
            mqtt = mqtt.with_max_packet_size(packet);
        }
        if let Some((user, password)) = credentials {
            mqtt = mqtt.with_credentials(user, password);
        }
        Some(mqtt)
    }

    /// Remotes for clone `config` on this network (`None` when alone).
    fn remotes(&self, config: &MeldConfig) -> Result<Option<Arc<MqttRemotes>>, MeldError> {
        let Some(mqtt) = self.mqtt_config(config) else {
            return Ok(None);
        };
        MqttRemotes::new(mqtt)
            .map(|r| Some(Arc::new(r)))
            .map_err(|e| MeldError::Config(e.to_string()))
    }

    /// Fails if a clone with `config`'s id is live on this network already: connecting under its
    /// id would disconnect it (the broker keeps one connection per client id). If the broker
    /// cannot be asked, says so in the log and lets the clone try.
    async fn check_id_free(&self, config: &MeldConfig) -> Result<(), MeldError> {
        let Some(mqtt) = self.mqtt_config(config) else {
            return Ok(());
        };
        match id_in_use(&mqtt).await {
            Ok(None) => Ok(()),
            Ok(Some(domain)) => Err(MeldError::Config(format!(
                "a clone with id {:?} is already live in domain {domain} on this broker; \
                 give this one another --id (or leave --id out for a unique one)",
                config.id
            ))),
            Err(e) => {
                tracing::warn!("could not check that clone id {:?} is free: {e}", config.id);
                Ok(())
            }
        }
    }
}

fn split_host_port(hostport: &str) -> Result<(String, u16), String> {
    let bad = || format!("bad broker address {hostport:?}");
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or_else(bad)?;
        (host, after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err(bad());
    }
    let port = match port {
        Some(port) => port.parse().map_err(|_| bad())?,
        None => 1883,
    };
    Ok((host.to_owned(), port))
}

/// Whether a new clone starts a new domain or joins the one on its network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Genesis {
    /// Start the domain: fails if other clones are already live on it.
    Yes,
    /// Join the domain by snapshot: fails (5031) if no other clone is live.
    No,
    /// Join if another clone is live, else start the domain.
    Auto,
}

/// A clone on its network, with the embedded broker it may be hosting.
pub struct Started<S: m_ld::core::store::Store> {
    /// The clone.
    pub clone: MeldClone<S>,
    /// The shared embedded broker, while this process hosts it.
    broker: Arc<Mutex<Option<EmbeddedBroker>>>,
    /// Checks that somebody hosts the shared broker, hosting it if nobody does.
    watchdog: Option<tokio::task::JoinHandle<()>>,
    /// This process's share of the domain's membership on this machine.
    _members: Option<Members>,
}

impl<S: m_ld::core::store::Store> Started<S> {
    /// Closes the clone, then stops hosting the broker.
    pub async fn close(self) -> Result<(), MeldError> {
        if let Some(watchdog) = &self.watchdog {
            watchdog.abort();
        }
        let closed = self.clone.close().await;
        if let Ok(mut broker) = self.broker.lock()
            && let Some(broker) = broker.take()
        {
            broker.stop();
        }
        closed
    }
}

/// Starts clone `config` on `store` over `network`. On the shared embedded broker, hosts it if
/// nobody serves its port yet. With [`Genesis::Auto`], clones starting at the same moment on one
/// machine decide one at a time (a lock file), so exactly one of them starts the domain.
pub async fn start<S, F>(
    network: &Network,
    genesis: Genesis,
    config: MeldConfig,
    mut store: F,
) -> Result<Started<S>, MeldError>
where
    S: m_ld::core::store::Store + Clone,
    F: FnMut() -> Result<S, MeldError>,
{
    let broker = Arc::new(Mutex::new(None));
    if let Network::Broker {
        port, shared: true, ..
    } = network
    {
        host_if_free(*port, &broker);
    }
    if matches!(network, Network::Alone) {
        if genesis == Genesis::No {
            return Err(MeldError::Config(
                "a clone with no broker cannot join a domain (give --mqtt, or drop --join or \
                 \"genesis\": false)"
                    .into(),
            ));
        }
        let mut config = config;
        config.genesis = true;
        let clone = MeldClone::open(store()?, config).await?;
        return Ok(Started {
            clone,
            broker,
            watchdog: None,
            _members: None,
        });
    }
    // Starts on this machine go one at a time; each clone holds a shared lock on the domain's
    // membership file while it runs (released by the OS however the process ends), so a clone
    // can tell whether other processes here are in the domain, even while they reconnect.
    let decision = DecisionLock::take(network, &config.domain).await?;
    // Before anything connects under the id (the lock keeps a clone starting here meanwhile
    // from slipping in between).
    network.check_id_free(&config).await?;
    let members = Members::open(network, &config.domain)?;
    let alone_here = members.try_exclusive()?;
    let attempt = |genesis: bool| {
        let mut config = config.clone();
        config.genesis = genesis;
        config
    };
    let open = |config: MeldConfig, store: S| async move {
        let remotes: Arc<dyn Remotes> = match network.remotes(&config)? {
            Some(remotes) => remotes,
            None => return Err(MeldError::Config("no broker".into())),
        };
        MeldClone::open_with_remotes(store, remotes, config).await
    };
    let shared = matches!(network, Network::Broker { shared: true, .. });
    let clone = match genesis {
        Genesis::Yes => open(attempt(true), store()?).await?,
        // Only processes of this machine reach the shared broker: if none is in the domain,
        // nobody is.
        Genesis::Auto if shared && alone_here => open(attempt(true), store()?).await?,
        Genesis::Auto if alone_here => match open(attempt(false), store()?).await {
            Err(e) if e.status() == 5031 => {
                tracing::info!("no other clone of {} is live: starting it", config.domain);
                open(attempt(true), store()?).await?
            }
            other => other?,
        },
        // Other processes here are in the domain: join, waiting while they (re)connect.
        Genesis::No | Genesis::Auto => {
            let deadline = tokio::time::Instant::now() + JOIN_PATIENCE;
            loop {
                match open(attempt(false), store()?).await {
                    Err(e) if e.status() == 5031 && !alone_here => {
                        if tokio::time::Instant::now() >= deadline {
                            return Err(e);
                        }
                        tokio::time::sleep(TAKEOVER_INTERVAL / 2).await;
                    }
                    other => break other?,
                }
            }
        }
    };
    members.share()?;
    drop(decision);
    let watchdog = match network {
        Network::Broker {
            port, shared: true, ..
        } => {
            let (port, broker) = (*port, Arc::clone(&broker));
            Some(tokio::spawn(async move {
                loop {
                    tokio::time::sleep(TAKEOVER_INTERVAL).await;
                    host_if_free(port, &broker);
                }
            }))
        }
        _ => None,
    };
    Ok(Started {
        clone,
        broker,
        watchdog,
        _members: Some(members),
    })
}

/// Hosts the shared embedded broker on `port` unless this process or another already does.
fn host_if_free(port: u16, broker: &Mutex<Option<EmbeddedBroker>>) {
    let Ok(mut hosted) = broker.lock() else {
        return;
    };
    if hosted.is_some() {
        return;
    }
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
        return;
    }
    match EmbeddedBroker::start(addr) {
        Ok(started) => {
            tracing::info!("hosting the shared MQTT broker on {addr}");
            *hosted = Some(started);
        }
        Err(e) => tracing::debug!("not hosting the shared MQTT broker on {addr}: {e}"),
    }
}

/// An exclusive lock on a file named after the broker and domain, held while a clone decides
/// whether to start the domain, until it is live (and so visible to the next one).
struct DecisionLock(std::fs::File);

impl DecisionLock {
    async fn take(network: &Network, domain: &str) -> Result<DecisionLock, MeldError> {
        let path = lock_path(network, domain, "lock");
        tokio::task::spawn_blocking(move || {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)?;
            file.lock()?;
            Ok(DecisionLock(file))
        })
        .await
        .map_err(|e| MeldError::Config(format!("start-up lock: {e}")))?
        .map_err(|e: std::io::Error| MeldError::Config(format!("start-up lock: {e}")))
    }
}

impl Drop for DecisionLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

/// The membership file of a domain on a network: every running clone holds a shared lock on it.
struct Members(std::fs::File);

impl Members {
    fn open(network: &Network, domain: &str) -> Result<Members, MeldError> {
        let path = lock_path(network, domain, "members");
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map(Members)
            .map_err(|e| MeldError::Config(format!("membership file {}: {e}", path.display())))
    }

    /// Whether no other process holds the membership (it is then held exclusively).
    fn try_exclusive(&self) -> Result<bool, MeldError> {
        match self.0.try_lock() {
            Ok(()) => Ok(true),
            Err(std::fs::TryLockError::WouldBlock) => Ok(false),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(MeldError::Config(format!("membership lock: {e}")))
            }
        }
    }

    /// Holds the membership shared with the other clones, for as long as this process runs.
    fn share(&self) -> Result<(), MeldError> {
        let _ = self.0.unlock();
        self.0
            .lock_shared()
            .map_err(|e| MeldError::Config(format!("membership lock: {e}")))
    }
}

fn lock_path(network: &Network, domain: &str, what: &str) -> PathBuf {
    let place = match network {
        Network::Broker { host, port, .. } => format!("{host}-{port}"),
        Network::Alone => "alone".into(),
    };
    let name: String = format!("mld-{place}-{domain}.{what}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-._".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    std::env::temp_dir().join(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn broker(host: &str, port: u16, credentials: Option<(&str, &str)>) -> Network {
        Network::Broker {
            host: host.into(),
            port,
            credentials: credentials.map(|(u, p)| (u.into(), p.into())),
            shared: false,
        }
    }

    #[test]
    fn broker_urls_parse() {
        assert_eq!(
            Network::from_url("mqtt://example.org:1884"),
            Ok(broker("example.org", 1884, None))
        );
        assert_eq!(
            Network::from_url("mqtt://localhost"),
            Ok(broker("localhost", 1883, None))
        );
        assert_eq!(
            Network::from_url("127.0.0.1:2000"),
            Ok(broker("127.0.0.1", 2000, None))
        );
        assert_eq!(
            Network::from_url("mqtt://[::1]:2000/"),
            Ok(broker("::1", 2000, None))
        );
        assert_eq!(
            Network::from_url("mqtt://fred:secret@host:1"),
            Ok(broker("host", 1, Some(("fred", "secret"))))
        );
        for bad in [
            "mqtts://host",
            "http://host",
            "mqtt://:1883",
            "mqtt://host:x",
            "mqtt://[::1",
        ] {
            assert!(Network::from_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lock_files_are_named_safely() {
        let path = lock_path(&broker("::1", 1883, None), "a.b/c", "lock");
        let name = path.file_name().unwrap().to_str().unwrap();
        assert_eq!(name, "mld-__1-1883-a.b_c.lock");
    }
}
