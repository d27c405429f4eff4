//! Clone configuration, [`MeldConfig`], in the shape m-ld-js accepts (`@id`, `@domain`, `genesis`,
//! `@context`), with validation.
//!
//! Owns config parsing only; the JSON-LD context itself is validated by the json-rql layer.

use serde_json::{Map, Value};

use crate::MeldError;
use crate::constraints::ConstraintConfig;

/// Configuration of one clone.
#[derive(Debug, Clone, PartialEq)]
pub struct MeldConfig {
    /// The clone identity (`@id`): unique among the domain's live clones, no `/`, `+` or `#`.
    pub id: String,
    /// The domain name (`@domain`), e.g. `test.example.org`.
    pub domain: String,
    /// Whether this is the first clone of a new domain. Ignored when the store already has data.
    pub genesis: bool,
    /// The app's JSON-LD context (`@context`), merged over the domain defaults.
    pub context: Option<Value>,
    /// How many updates a `follow` subscriber may fall behind before its stream ends with
    /// [`MeldError::Lagged`]. Writers never wait for subscribers.
    pub follow_buffer: usize,
    /// How long to wait for peers (responses, acknowledgements, stream items) before trying
    /// another or giving up (`networkTimeout`, default 5 s). Messaging adapters take it from here.
    pub network_timeout: std::time::Duration,
    /// Data constraints (`constraints`): single-valued properties and SHACL property shapes,
    /// see [`ConstraintConfig`] for the JSON forms.
    pub constraints: Vec<ConstraintConfig>,
    /// Journal administration (`journal`): fusion of contiguous entries and how many entries
    /// are kept; see [`JournalConfig`](crate::JournalConfig).
    pub journal: crate::JournalConfig,
    /// The largest operation a local write may produce, in encoded bytes (`maxOperationSize`;
    /// default: no limit beyond what the remotes can carry). A write over it fails with 4002.
    pub max_operation_size: Option<usize>,
}

impl MeldConfig {
    /// The default number of updates buffered per `follow` subscriber.
    pub const DEFAULT_FOLLOW_BUFFER: usize = 4096;

    /// A configuration with the given identity and domain, and defaults for the rest.
    pub fn new(id: impl Into<String>, domain: impl Into<String>, genesis: bool) -> Self {
        MeldConfig {
            id: id.into(),
            domain: domain.into(),
            genesis,
            context: None,
            follow_buffer: Self::DEFAULT_FOLLOW_BUFFER,
            network_timeout: std::time::Duration::from_millis(5000),
            constraints: Vec::new(),
            journal: crate::JournalConfig::default(),
            max_operation_size: None,
        }
    }

    /// Reads a configuration in the JSON shape of m-ld-js `MeldConfig`:
    /// `{"@id", "@domain", "genesis", "@context"?, "networkTimeout"?, "maxOperationSize"?,
    /// "constraints"?}`, plus
    /// `followBuffer` (see [`MeldConfig::follow_buffer`]) and `journal` (see
    /// [`JournalConfig`](crate::JournalConfig)).
    /// Unknown keys are rejected, so a typo does not silently change behaviour.
    pub fn from_json(json: &Value) -> Result<Self, MeldError> {
        let obj = json
            .as_object()
            .ok_or_else(|| MeldError::Config("configuration must be a JSON object".into()))?;
        let id = required_str(obj, "@id")?;
        let domain = required_str(obj, "@domain")?;
        let genesis = match obj.get("genesis") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(MeldError::Config(format!(
                    "genesis must be a boolean, not {other}"
                )));
            }
        };
        let mut config = MeldConfig::new(id, domain, genesis);
        for (key, value) in obj {
            match key.as_str() {
                "@id" | "@domain" | "genesis" => {}
                "@context" => config.context = Some(value.clone()),
                "followBuffer" => config.follow_buffer = positive_int(key, value)?,
                "maxOperationSize" => {
                    config.max_operation_size = Some(positive_int(key, value)?);
                }
                "constraints" => config.constraints = ConstraintConfig::list_from_json(value)?,
                "journal" => config.journal = crate::JournalConfig::from_json(value)?,
                "networkTimeout" => {
                    config.network_timeout =
                        std::time::Duration::from_millis(positive_int(key, value)? as u64);
                }
                // Accepted for compatibility with m-ld-js configurations: logging is configured
                // through `tracing` instead.
                "logLevel" => {}
                other => {
                    return Err(MeldError::Config(format!(
                        "unknown configuration key {other:?}"
                    )));
                }
            }
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks the identity; the domain name and context are checked when the clone starts.
    pub fn validate(&self) -> Result<(), MeldError> {
        if self.id.is_empty() {
            return Err(MeldError::Config("@id must not be empty".into()));
        }
        if let Some(c) = self
            .id
            .chars()
            .find(|c| matches!(c, '/' | '+' | '#') || c.is_control())
        {
            return Err(MeldError::Config(format!(
                "@id {:?} must not contain {c:?}",
                self.id
            )));
        }
        if self.follow_buffer == 0 {
            return Err(MeldError::Config("followBuffer must be at least 1".into()));
        }
        Ok(())
    }
}

fn required_str(obj: &Map<String, Value>, key: &str) -> Result<String, MeldError> {
    match obj.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(MeldError::Config(format!(
            "{key} must be a string, not {other}"
        ))),
        None => Err(MeldError::Config(format!("{key} is required"))),
    }
}

fn positive_int(key: &str, value: &Value) -> Result<usize, MeldError> {
    value
        .as_u64()
        .filter(|n| *n > 0)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| MeldError::Config(format!("{key} must be a positive integer, not {value}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_js_shaped_config() {
        let c = MeldConfig::from_json(&json!({
            "@id": "a", "@domain": "test.example.org", "genesis": true,
            "@context": {"ex": "http://ex.org/"}, "followBuffer": 10
        }))
        .unwrap();
        assert_eq!(c.id, "a");
        assert!(c.genesis);
        assert_eq!(c.follow_buffer, 10);
        assert_eq!(c.context, Some(json!({"ex": "http://ex.org/"})));
    }

    #[test]
    fn rejects_bad_config() {
        for bad in [
            json!([]),
            json!({"@domain": "test.example.org"}),
            json!({"@id": "a/b", "@domain": "test.example.org"}),
            json!({"@id": "", "@domain": "test.example.org"}),
            json!({"@id": "a", "@domain": 5}),
            json!({"@id": "a", "@domain": "test.example.org", "genesis": "yes"}),
            json!({"@id": "a", "@domain": "test.example.org", "gensis": true}),
            json!({"@id": "a", "@domain": "test.example.org", "followBuffer": -1}),
        ] {
            assert!(
                MeldConfig::from_json(&bad).is_err(),
                "{bad} should be rejected"
            );
        }
    }
}
