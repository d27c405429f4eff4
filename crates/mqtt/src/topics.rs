//! m-ld's MQTT topic scheme (docs/protocol.md §1.2, m-ld-js `MqttTopic`, `MqttRemotes`): the topics
//! a clone subscribes to and publishes on, and the classification of an incoming topic.
//!
//! Owns topic strings only. It must not decide what to do with a message. Every level taken
//! from an incoming topic is non-empty and free of wildcards (`+`, `#`), so it can be used to
//! build a reply topic.

/// The topics of one clone on one domain.
#[derive(Debug, Clone)]
pub(crate) struct Topics {
    domain: String,
    id: String,
    /// `__presence/<domain>/+`: every clone's presence record.
    pub presence_filter: String,
    /// `__presence/<domain>/<id>`: this clone's presence record (and will).
    pub own_presence: String,
    /// `<domain>/operations/+`: every clone's operations.
    pub operations_filter: String,
    /// `<domain>/operations/<id>`: where this clone broadcasts its operations.
    pub own_operations: String,
    /// `<domain>/control`: the presence address of every clone (nothing is published there).
    pub control: String,
    /// `__send/<id>/+/+/<domain>/control`: requests to this clone.
    pub send_filter: String,
    /// `__reply/<id>/+/+/+`: replies to this clone.
    pub reply_filter: String,
}

/// What an incoming topic is, with the levels that matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Incoming<'t> {
    /// A presence record (or ghost, or leave) of `client`.
    Presence {
        /// The MQTT client id that owns the record.
        client: &'t str,
    },
    /// An operation broadcast by `client`.
    Operation {
        /// The sender's client id.
        client: &'t str,
    },
    /// A request to this clone.
    Request {
        /// The requester's id.
        from: &'t str,
        /// The request's message id.
        message_id: &'t str,
    },
    /// A reply (a response, or the ACK of one) to a message this clone sent.
    Reply {
        /// The replier's id.
        from: &'t str,
        /// The reply's own message id.
        message_id: &'t str,
        /// The id of the message replied to.
        sent_message_id: &'t str,
    },
    /// A message on a notification channel.
    Notify {
        /// The channel id.
        channel: &'t str,
    },
    /// Anything else, including topics with empty or wildcard levels.
    Other,
}

impl Topics {
    /// The topics of clone `id` on `domain`; both must be valid topic levels.
    pub fn new(domain: &str, id: &str) -> Topics {
        Topics {
            domain: domain.to_owned(),
            id: id.to_owned(),
            presence_filter: format!("__presence/{domain}/+"),
            own_presence: format!("__presence/{domain}/{id}"),
            operations_filter: format!("{domain}/operations/+"),
            own_operations: format!("{domain}/operations/{id}"),
            control: format!("{domain}/control"),
            send_filter: format!("__send/{id}/+/+/{domain}/control"),
            reply_filter: format!("__reply/{id}/+/+/+"),
        }
    }

    /// The topic of a request to `to`.
    pub fn send(&self, to: &str, message_id: &str) -> String {
        format!(
            "__send/{to}/{}/{message_id}/{}/control",
            self.id, self.domain
        )
    }

    /// The topic of a reply to `to`'s message `sent_message_id`.
    pub fn reply(&self, to: &str, message_id: &str, sent_message_id: &str) -> String {
        format!("__reply/{to}/{}/{message_id}/{sent_message_id}", self.id)
    }

    /// The topic of notification channel `channel`.
    pub fn notify(&self, channel: &str) -> String {
        format!("{}/control/{channel}", self.domain)
    }

    /// Classifies an incoming topic.
    pub fn classify<'t>(&self, topic: &'t str) -> Incoming<'t> {
        let levels: Vec<&str> = topic.split('/').collect();
        if !levels.iter().all(|l| is_level(l)) {
            return Incoming::Other;
        }
        let domain = self.domain.as_str();
        let id = self.id.as_str();
        match levels.as_slice() {
            ["__presence", d, client] if *d == domain => Incoming::Presence { client },
            [d, "operations", client] if *d == domain => Incoming::Operation { client },
            [d, "control", channel] if *d == domain => Incoming::Notify { channel },
            ["__send", to, from, message_id, d, "control"] if *to == id && *d == domain => {
                Incoming::Request { from, message_id }
            }
            ["__reply", to, from, message_id, sent_message_id] if *to == id => Incoming::Reply {
                from,
                message_id,
                sent_message_id,
            },
            _ => Incoming::Other,
        }
    }
}

/// Whether `s` can be one level of a topic that m-ld builds from it: non-empty, without a
/// separator or a wildcard, and without control characters.
pub(crate) fn is_level(s: &str) -> bool {
    !s.is_empty()
        && !s
            .chars()
            .any(|c| matches!(c, '/' | '+' | '#') || c.is_control())
}

/// Whether an MQTT topic filter (with `+` and `#` wildcards) matches a topic (m-ld-js uses
/// `mqtt-pattern.matches(address, topic)` to find present clones).
pub(crate) fn filter_matches(filter: &str, topic: &str) -> bool {
    let mut topic_levels = topic.split('/');
    for level in filter.split('/') {
        match level {
            "#" => return true,
            "+" => {
                if topic_levels.next().is_none() {
                    return false;
                }
            }
            literal => {
                if topic_levels.next() != Some(literal) {
                    return false;
                }
            }
        }
    }
    topic_levels.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOMAIN: &str = "test.m-ld.org";

    #[test]
    fn topics_are_those_of_m_ld_js() {
        let t = Topics::new(DOMAIN, "cloneA");
        assert_eq!(t.presence_filter, "__presence/test.m-ld.org/+");
        assert_eq!(t.own_presence, "__presence/test.m-ld.org/cloneA");
        assert_eq!(t.operations_filter, "test.m-ld.org/operations/+");
        assert_eq!(t.own_operations, "test.m-ld.org/operations/cloneA");
        assert_eq!(t.control, "test.m-ld.org/control");
        assert_eq!(t.send_filter, "__send/cloneA/+/+/test.m-ld.org/control");
        assert_eq!(t.reply_filter, "__reply/cloneA/+/+/+");
        assert_eq!(
            t.send("cloneB", "m1"),
            "__send/cloneB/cloneA/m1/test.m-ld.org/control"
        );
        assert_eq!(t.reply("cloneB", "m2", "m1"), "__reply/cloneB/cloneA/m2/m1");
        assert_eq!(t.notify("d"), "test.m-ld.org/control/d");
    }

    #[test]
    fn incoming_topics_are_classified() {
        let a = Topics::new(DOMAIN, "cloneA");
        let b = Topics::new(DOMAIN, "cloneB");
        let sent = b.send("cloneA", "m1");
        assert_eq!(
            a.classify(&sent),
            Incoming::Request {
                from: "cloneB",
                message_id: "m1"
            }
        );
        // A request to someone else is not ours.
        assert_eq!(b.classify(&sent), Incoming::Other);
        let replied = b.reply("cloneA", "m2", "m1");
        assert_eq!(
            a.classify(&replied),
            Incoming::Reply {
                from: "cloneB",
                message_id: "m2",
                sent_message_id: "m1"
            }
        );
        assert_eq!(
            a.classify("__presence/test.m-ld.org/cloneC"),
            Incoming::Presence { client: "cloneC" }
        );
        assert_eq!(
            a.classify("test.m-ld.org/operations/cloneC"),
            Incoming::Operation { client: "cloneC" }
        );
        assert_eq!(
            a.classify("test.m-ld.org/control/ch1"),
            Incoming::Notify { channel: "ch1" }
        );
        for other in [
            "test.m-ld.org/control",
            "other.org/operations/cloneC",
            "__presence/other.org/cloneC",
            "__reply/cloneA/cloneB/m2",
            "__reply/cloneA//m2/m1",
            "__send/cloneA/cloneB/m1/other.org/control",
            "test.m-ld.org/operations/",
            "",
            "/",
        ] {
            assert_eq!(a.classify(other), Incoming::Other, "{other}");
        }
    }

    #[test]
    fn filters_match_as_mqtt_does() {
        assert!(filter_matches("a/control", "a/control"));
        assert!(filter_matches("a/+", "a/control"));
        assert!(filter_matches("#", "a/control"));
        assert!(filter_matches("a/#", "a/control/x"));
        assert!(!filter_matches("a/control", "a/control/x"));
        assert!(!filter_matches("a/control/x", "a/control"));
        assert!(!filter_matches("a/+", "a"));
        assert!(!filter_matches("b/control", "a/control"));
    }

    #[test]
    fn levels_exclude_wildcards_and_separators() {
        assert!(is_level("cmwu2fop80004fn7d23z76o6k"));
        for bad in ["", "a/b", "a+", "#", "a\nb"] {
            assert!(!is_level(bad), "{bad:?}");
        }
    }
}
