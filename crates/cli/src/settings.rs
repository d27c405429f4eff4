//! What clone `mld` runs and where: the command line over an optional m-ld-js clone
//! configuration file (`--config FILE`).
//!
//! Owns reading the file and the precedence of options (the command line wins), and the id a
//! `--data` directory keeps for its clone. It must not start anything.

use m_ld::{MeldConfig, MeldError};
use serde_json::{Map, Value};

use crate::Args;
use crate::network::{self, Genesis, Network};

/// The default domain, when neither `--domain` nor the configuration names one.
pub const DEFAULT_DOMAIN: &str = "example.m-ld.org";

/// The clone to run, its network and how it starts.
#[derive(Debug)]
pub struct Settings {
    /// The clone's configuration.
    pub config: MeldConfig,
    /// Where its broker is.
    pub network: Network,
    /// Whether it starts the domain or joins it.
    pub genesis: Genesis,
}

/// A fresh clone id: `cli-` and six random hexadecimal digits.
pub fn unique_id() -> String {
    format!("cli-{:06x}", rand::random::<u32>() & 0xff_ffff)
}

/// The file in a `--data` directory that keeps its clone's id.
const ID_FILE: &str = "mld-id";

/// The id of the clone kept in `dir`: the one it was first started with (so that a durable clone
/// is the same clone each time), or a new unique id, which [`keep_id`] writes there once the
/// store has made the directory.
fn kept_id(dir: &std::path::Path) -> Result<String, MeldError> {
    let file = dir.join(ID_FILE);
    match std::fs::read_to_string(&file) {
        Ok(id) if !id.trim().is_empty() => Ok(id.trim().to_owned()),
        Ok(_) => Err(MeldError::Config(format!("{} is empty", file.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(unique_id()),
        Err(e) => Err(MeldError::Config(format!("{}: {e}", file.display()))),
    }
}

/// Records `id` as the id of the clone kept in `dir` (a store directory, which tolerates other
/// files once it holds a database), unless one is recorded already.
#[cfg(feature = "rocksdb")]
pub fn keep_id(dir: &std::path::Path, id: &str) -> Result<(), MeldError> {
    let file = dir.join(ID_FILE);
    if file.exists() {
        return Ok(());
    }
    std::fs::write(&file, format!("{id}\n"))
        .map_err(|e| MeldError::Config(format!("{}: {e}", file.display())))
}

impl Settings {
    /// The settings of `args`, reading its `--config` file if any.
    pub fn of(args: &Args) -> Result<Settings, MeldError> {
        let file = match &args.config {
            Some(path) => {
                let bad = |what: String| MeldError::Config(format!("{}: {what}", path.display()));
                let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
                let json: Value =
                    serde_json::from_str(&text).map_err(|e| bad(format!("not JSON ({e})")))?;
                match json {
                    Value::Object(object) => Some(object),
                    _ => return Err(bad("not a JSON object".into())),
                }
            }
            None => None,
        };
        Settings::from_parts(args, file)
    }

    fn from_parts(args: &Args, file: Option<Map<String, Value>>) -> Result<Settings, MeldError> {
        let mut object = file.unwrap_or_default();
        // The file's broker, unless the command line chooses one.
        let file_mqtt = object.remove("mqtt");
        // genesis: true starts the domain, false joins it (as m-ld-js); absent, mld decides.
        let file_genesis = match object.get("genesis") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(genesis)) => Some(*genesis),
            Some(other) => {
                return Err(MeldError::Config(format!(
                    "genesis must be a boolean, not {other}"
                )));
            }
        };
        if let Some(id) = &args.id {
            object.insert("@id".into(), Value::String(id.clone()));
        }
        if let Some(domain) = &args.domain {
            object.insert("@domain".into(), Value::String(domain.clone()));
        }
        if let Some(context) = &args.context {
            object.insert("@context".into(), context.clone());
        }
        if !object.contains_key("@id") {
            let id = match &args.data {
                Some(dir) => kept_id(dir)?,
                None => unique_id(),
            };
            object.insert("@id".into(), Value::String(id));
        }
        object
            .entry("@domain")
            .or_insert_with(|| Value::String(DEFAULT_DOMAIN.into()));
        let mut config = MeldConfig::from_json(&Value::Object(object))?;
        if let Some(keep) = args.retain {
            config.journal.admin.retention = m_ld::core::suset::Retention::Entries(keep);
        }
        let network = if args.alone {
            Network::Alone
        } else if let Some(url) = &args.mqtt {
            Network::from_url(url).map_err(MeldError::Config)?
        } else if let Some(port) = args.broker_port {
            Network::shared(port)
        } else if let Some(mqtt) = &file_mqtt {
            Network::from_js_options(mqtt).map_err(MeldError::Config)?
        } else {
            Network::shared(network::DEFAULT_BROKER_PORT)
        };
        let genesis = if args.genesis {
            Genesis::Yes
        } else if args.join {
            Genesis::No
        } else {
            match file_genesis {
                Some(true) => Genesis::Yes,
                Some(false) => Genesis::No,
                None => Genesis::Auto,
            }
        };
        Ok(Settings {
            config,
            network,
            genesis,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use serde_json::json;

    fn settings(argv: &[&str], file: Value) -> Result<Settings, String> {
        let args = Args::try_parse_from([&["mld"], argv].concat()).unwrap();
        Settings::from_parts(&args, file.as_object().cloned()).map_err(|e| e.to_string())
    }

    #[test]
    fn default_ids_are_unique_and_say_they_are_the_cli() {
        let a = settings(&[], Value::Null).unwrap().config.id;
        let b = settings(&[], Value::Null).unwrap().config.id;
        assert!(a.starts_with("cli-") && a.len() == 10, "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn the_command_line_overrides_the_file() {
        let file = json!({
            "@id": "fromfile", "@domain": "file.example.org", "genesis": true,
            "@context": {"ex": "http://ex.org/"}, "networkTimeout": 2000,
            "mqtt": {"host": "broker.example.org", "port": 1884, "username": "u", "password": "p"}
        });
        let s = settings(&[], file.clone()).unwrap();
        assert_eq!(s.config.id, "fromfile");
        assert_eq!(s.config.domain, "file.example.org");
        assert_eq!(
            s.config.network_timeout,
            std::time::Duration::from_millis(2000)
        );
        assert_eq!(s.config.context, Some(json!({"ex": "http://ex.org/"})));
        assert_eq!(s.genesis, Genesis::Yes);
        assert_eq!(
            s.network,
            Network::Broker {
                host: "broker.example.org".into(),
                port: 1884,
                credentials: Some(("u".into(), "p".into())),
                shared: false,
            }
        );
        let s = settings(
            &[
                "--id",
                "x",
                "--domain",
                "cli.example.org",
                "--join",
                "--alone",
            ],
            file.clone(),
        )
        .unwrap();
        assert_eq!(s.config.id, "x");
        assert_eq!(s.config.domain, "cli.example.org");
        assert_eq!(s.genesis, Genesis::No);
        assert_eq!(s.network, Network::Alone);
        let s = settings(&["--broker-port", "2000"], file).unwrap();
        assert_eq!(s.network, Network::shared(2000));
        let s = settings(&[], json!({"genesis": false})).unwrap();
        assert_eq!(s.genesis, Genesis::No);
        assert_eq!(s.config.domain, DEFAULT_DOMAIN);
        assert_eq!(settings(&[], json!({})).unwrap().genesis, Genesis::Auto);
    }

    #[test]
    fn bad_files_are_refused_clearly() {
        for (file, says) in [
            (json!({"@id": "a/b"}), "@id"),
            (json!({"gensis": true}), "gensis"),
            (json!({"genesis": "yes"}), "genesis"),
            (json!({"mqtt": {"host": "h", "clientId": "c"}}), "clientId"),
            (json!({"mqtt": {"protocol": "ws", "host": "h"}}), "ws"),
            (json!({"mqtt": {"port": 1883}}), "host"),
            (json!({"mqtt": "mqtt://h"}), "object"),
        ] {
            let error = settings(&[], file.clone()).unwrap_err();
            assert!(error.contains(says), "{file}: {error}");
        }
    }
}
