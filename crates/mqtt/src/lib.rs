#![doc = include_str!("../README.md")]
#![doc(test(attr(deny(warnings))))]
//!
//! ## Modules
//! The public API is [`MqttRemotes`] and [`MqttConfig`] (and `EmbeddedBroker` with the
//! `broker` feature), and [`id_in_use`], which asks a broker whether a clone id is live before a
//! clone connects under it. Inside: `topics` (the topic scheme), `presence` (the presence map),
//! `channel` (notification channels), `remotes` (the connection and the exchanges) and `probe`.

#[cfg(feature = "broker")]
mod broker;
mod channel;
mod config;
mod error;
mod presence;
mod probe;
mod remotes;
mod topics;

#[cfg(feature = "broker")]
pub use broker::EmbeddedBroker;
pub use config::MqttConfig;
pub use error::MqttError;
pub use probe::id_in_use;
pub use remotes::{MqttRemotes, MqttStats};
#[cfg(feature = "tls")]
pub use rumqttc::TlsConfiguration;
