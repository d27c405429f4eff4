//! How `mld-clone` answers a `transact` command: the request is classified by the library
//! ([`RequestKind`], as the query layer decides), then answered with clone process events
//! (see [`crate::protocol`]):
//! - a read (`@describe`, `@select`, `@distinct`, `@construct`): one `next` event per result
//!   subject, then `complete`;
//! - an ask (`{"@where": ...}` alone): one `next` event whose body is the JSON boolean
//!   `true` or `false` (whether the pattern has a solution), then `complete`; the orchestrator's
//!   `/transact` answers it as a chunked stream of that one JSON value;
//! - a write: `complete`;
//! - any failure: one `error` event with the m-ld status.
//!
//! Owns only that mapping; must not know processes, transports or storage.

use m_ld::core::store::Store;
use m_ld::{MeldClone, MeldError, RequestKind};
use serde_json::{Value, json};

/// The events answering request `request` of id `id`, in order.
pub async fn transact<S: Store>(clone: &MeldClone<S>, id: &Value, request: &Value) -> Vec<Value> {
    let next = |body: Value| json!({"@type": "next", "requestId": id, "body": body});
    let complete = json!({"@type": "complete", "requestId": id});
    let answered: Result<Vec<Value>, MeldError> = match RequestKind::of(request) {
        Ok(RequestKind::Read(_)) => clone
            .read(request)
            .await
            .map(|subjects| subjects.into_iter().map(next).collect()),
        Ok(RequestKind::Ask) => clone
            .ask(request)
            .await
            .map(|found| vec![next(Value::Bool(found))]),
        Ok(_) => clone.write(request).await.map(|()| Vec::new()),
        Err(e) => Err(e.into()),
    };
    match answered {
        Ok(mut events) => {
            events.push(complete);
            events
        }
        Err(e) => vec![error(id, &e)],
    }
}

/// The `error` event for a failed request.
pub fn error(id: &Value, e: &MeldError) -> Value {
    json!({"@type": "error", "requestId": id, "err": e.to_string(), "status": e.status()})
}

#[cfg(test)]
mod tests {
    // Test code: a failure is a test failure.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use m_ld::MeldConfig;

    fn bodies(events: &[Value]) -> Vec<Value> {
        events
            .iter()
            .filter(|e| e["@type"] == "next")
            .map(|e| e["body"].clone())
            .collect()
    }

    fn last_type(events: &[Value]) -> &str {
        events
            .last()
            .and_then(|e| e["@type"].as_str())
            .unwrap_or("")
    }

    #[tokio::test]
    async fn routes_every_request_kind() {
        let clone = MeldClone::new(MeldConfig::new("c", "test.example.org", true))
            .await
            .unwrap();
        let id = json!(7);
        let write = json!([{"@id": "fred", "name": "Fred"}, {"@id": "pebbles", "name": "Fred"}]);
        let events = transact(&clone, &id, &write).await;
        assert_eq!(events, vec![json!({"@type": "complete", "requestId": 7})]);

        // SELECT DISTINCT, which was routed to write (5011) before the library classified it.
        let distinct = json!({"@distinct": "?n", "@where": {"@id": "?s", "name": "?n"}});
        let events = transact(&clone, &id, &distinct).await;
        assert_eq!(last_type(&events), "complete", "{events:?}");
        let rows = bodies(&events);
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0]["?n"], json!("Fred"));

        for (pattern, expected) in [
            (json!({"@where": {"@id": "fred", "name": "Fred"}}), true),
            (json!({"@where": [{"@id": "?s", "name": "Wilma"}]}), false),
        ] {
            let events = transact(&clone, &id, &pattern).await;
            assert_eq!(bodies(&events), vec![Value::Bool(expected)], "{pattern}");
            assert_eq!(last_type(&events), "complete");
        }

        let describe = transact(&clone, &id, &json!({"@describe": "fred"})).await;
        assert_eq!(
            bodies(&describe),
            vec![json!({"@id": "fred", "name": "Fred"})]
        );

        let bad = transact(&clone, &id, &json!({"@where": {}, "@limit": 1})).await;
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0]["@type"], "error");
        assert_eq!(bad[0]["status"], 5011);
        let not_a_request = transact(&clone, &id, &json!(3)).await;
        assert_eq!(not_a_request[0]["status"], 4001);
    }
}
