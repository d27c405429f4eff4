#![doc = include_str!("../README.md")]
#![doc(test(attr(deny(warnings))))]
//!
//! ## Modules
//! The public API is [`MqttRemotes`] and [`MqttConfig`] (and `EmbeddedBroker` with the
//! `broker` feature). Inside: `topics` (the topic scheme), `presence` (the presence map),
//! `channel` (notification channels) and `remotes` (the connection and the exchanges).

#[cfg(feature = "broker")]
mod broker;
mod channel;
mod config;
mod error;
mod presence;
mod remotes;
mod topics;

#[cfg(feature = "broker")]
pub use broker::EmbeddedBroker;
pub use config::MqttConfig;
pub use error::MqttError;
pub use remotes::{MqttRemotes, MqttStats};
#[cfg(feature = "tls")]
pub use rumqttc::TlsConfiguration;
