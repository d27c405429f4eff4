//! The single error type of m-ld-mqtt, [`MqttError`].
//!
//! Errors met while a clone runs are reported to the engine as [`CoreError`]s, through the
//! [`Remotes`](m_ld_core::remotes::Remotes) contract; [`MqttError`] covers what the crate's own
//! API can fail with: configuration, the embedded broker, and the presence probe's connection.

use m_ld_core::CoreError;
use thiserror::Error;

/// Errors of m-ld-mqtt's own API.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MqttError {
    /// The configuration cannot work (e.g. a clone id with `/` in it).
    #[error("Bad MQTT configuration: {0}")]
    Config(String),
    /// The embedded broker could not start.
    #[error("Embedded MQTT broker failed: {0}")]
    Broker(#[source] std::io::Error),
    /// The broker could not be reached, or did not answer in time (see [`crate::id_in_use`]).
    #[error("MQTT connection failed: {0}")]
    Connection(String),
}

impl From<MqttError> for CoreError {
    fn from(e: MqttError) -> CoreError {
        CoreError::Transport(e.to_string())
    }
}
