//! The clone process protocol: JSON lines between the orchestrator and one clone process.
//!
//! The orchestrator writes commands to the process's standard input, one JSON object per line:
//! - `{"@type":"start","config":{...},"dataDir":"...","mqtt":{"host":"127.0.0.1","port":N}}` (first)
//! - `{"@type":"transact","requestId":N,"request":{...json-rql...}}`
//! - `{"@type":"stop","requestId":N}`
//!
//! The process writes events to its standard output, one JSON object per line (the same names as the
//! m-ld-js compliance clone process):
//! - `{"@type":"started"}`, or `{"@type":"unstarted","err":"..."}` if the clone could not start;
//! - `{"@type":"status","body":MeldStatus}` and `{"@type":"updated","body":MeldUpdate}` while it runs;
//! - `{"@type":"next","requestId":N,"body":subject}`, `{"@type":"complete","requestId":N}` and
//!   `{"@type":"error","requestId":N,"err":"...","status":code}` for requests (an ask, which
//!   `mld-clone` answers and m-ld-js's process does not, has one `next` whose body is `true` or
//!   `false`: see [`crate::answer`]);
//! - `{"@type":"stopped","requestId":N}` then `{"@type":"closed"}` when it stops.
//!
//! Anything a process prints that is not such an object is logged and ignored.

use serde_json::{Value, json};

/// The start command.
pub fn start(config: &Value, data_dir: &str, mqtt_port: u16) -> Value {
    json!({
        "@type": "start",
        "config": config,
        "dataDir": data_dir,
        "mqtt": {"host": "127.0.0.1", "port": mqtt_port},
    })
}

/// A transaction (json-rql read or write) command.
pub fn transact(request_id: u64, request: &Value) -> Value {
    json!({"@type": "transact", "requestId": request_id, "request": request})
}

/// The stop command.
pub fn stop(request_id: u64) -> Value {
    json!({"@type": "stop", "requestId": request_id})
}

/// An event from a clone process.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The clone has started.
    Started,
    /// The clone could not start.
    Unstarted(String),
    /// A status change (the body is a `MeldStatus`).
    Status(Value),
    /// An update (the body is a `MeldUpdate`).
    Updated(Value),
    /// A result subject of a request.
    Next(u64, Value),
    /// A request completed.
    Complete(u64),
    /// A request failed.
    Error(u64, String),
    /// A stop request completed.
    Stopped(u64),
    /// The clone has closed.
    Closed,
}

impl Event {
    /// Parses one line of a clone process's output; `None` if it is not an event.
    pub fn parse(line: &str) -> Option<Event> {
        let value: Value = serde_json::from_str(line).ok()?;
        let id = || value.get("requestId").and_then(Value::as_u64);
        let body = || value.get("body").cloned().unwrap_or(Value::Null);
        let err = || match value.get("err") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => "unknown error".to_owned(),
        };
        Some(match value.get("@type")?.as_str()? {
            "started" => Event::Started,
            "unstarted" => Event::Unstarted(err()),
            "status" => Event::Status(body()),
            "updated" => Event::Updated(body()),
            "next" => Event::Next(id()?, body()),
            "complete" => Event::Complete(id()?),
            "error" => Event::Error(id()?, err()),
            "stopped" => Event::Stopped(id()?),
            "closed" => Event::Closed,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_events() {
        assert_eq!(Event::parse(r#"{"@type":"started"}"#), Some(Event::Started));
        assert_eq!(
            Event::parse(r#"{"@type":"next","requestId":3,"body":{"@id":"fred"}}"#),
            Some(Event::Next(3, json!({"@id": "fred"})))
        );
        assert_eq!(
            Event::parse(r#"{"@type":"error","requestId":4,"err":"bad"}"#),
            Some(Event::Error(4, "bad".into()))
        );
        assert_eq!(Event::parse("not json"), None);
        assert_eq!(Event::parse(r#"{"@type":"next"}"#), None);
        assert_eq!(Event::parse(r#"{"@type":"weird"}"#), None);
    }
}
