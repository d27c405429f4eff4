//! What the shell's user typed, and the files `.load` reads: pure parsing, no clone.
//!
//! Owns the shell's command syntax, when typed JSON is complete (so that it may span lines), and
//! the shapes of a `.load` file. It must not touch a clone or print anything.

use std::path::Path;

use m_ld::{RdfFormat, RequestKind};
use serde_json::{Value, json};

/// One complete input of the shell.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// A json-rql request, answered as the library classifies it.
    Request(String),
    /// `.get ID`: describe a subject.
    Get(String),
    /// `.ask PATTERN`: whether a `@where` pattern has a solution (the request to ask).
    Ask(Value),
    /// `.delete ID`: delete a subject and every reference to it.
    Delete(String),
    /// `.status`.
    Status,
    /// `.load FILE`.
    Load(String),
    /// `.dump [FORMAT [FILE]]`.
    Dump(DumpFormat, Option<String>),
    /// `.help`.
    Help,
    /// `.exit` (or `.quit`).
    Exit,
}

/// How `.dump` writes the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DumpFormat {
    /// Every subject, described as JSON (as `.load` reads back).
    Json,
    /// Turtle, relative to the domain's base.
    Turtle,
    /// N-Triples, sorted.
    NTriples,
}

/// The shell's commands, for `.help` and completion.
pub const COMMANDS: &[(&str, &str)] = &[
    (".get ID", "describe subject ID"),
    (
        ".ask PATTERN",
        "whether a @where pattern (JSON) has a solution",
    ),
    (".delete ID", "delete subject ID and every reference to it"),
    (".status", "the clone's id, domain and status"),
    (
        ".load FILE",
        "apply the json-rql writes of FILE (JSON lines, or one JSON array),\n\
         \x20                        or import it: .ttl Turtle, .nt N-Triples, .nq N-Quads",
    ),
    (
        ".dump [FORMAT [FILE]]",
        "the data as json (every subject; the default), turtle or ntriples,\n\
         \x20                        to FILE if given",
    ),
    (".help", "this help"),
    (".exit", "close the clone and leave (as Ctrl-D does)"),
];

impl Command {
    /// Reads one complete input (see [`is_complete`]).
    pub fn parse(input: &str) -> Result<Command, String> {
        let input = input.trim();
        let Some(command) = input.strip_prefix('.') else {
            return Ok(Command::Request(input.to_owned()));
        };
        let (name, rest) = match command.split_once(char::is_whitespace) {
            Some((name, rest)) => (name, rest.trim()),
            None => (command, ""),
        };
        let argument = |usage: &str| {
            if rest.is_empty() {
                Err(format!("usage: {usage}"))
            } else {
                Ok(rest.to_owned())
            }
        };
        let none = |command: Command| {
            if rest.is_empty() {
                Ok(command)
            } else {
                Err(format!(".{name} takes no argument"))
            }
        };
        match name {
            "get" => argument(".get ID").map(Command::Get),
            "delete" => argument(".delete ID").map(Command::Delete),
            "ask" => {
                let text = argument(".ask PATTERN")?;
                let pattern: Value = serde_json::from_str(&text)
                    .map_err(|e| format!("the pattern is not JSON: {e}"))?;
                Ok(Command::Ask(ask_request(pattern)))
            }
            "status" => none(Command::Status),
            "load" => argument(".load FILE").map(Command::Load),
            "dump" => {
                let mut words = rest.split_whitespace();
                let format = match words.next() {
                    None | Some("json") => DumpFormat::Json,
                    Some("turtle" | "ttl") => DumpFormat::Turtle,
                    Some("ntriples" | "nt") => DumpFormat::NTriples,
                    Some(other) => {
                        return Err(format!(
                            "unknown dump format {other:?} (json, turtle or ntriples)"
                        ));
                    }
                };
                let file = words.next().map(str::to_owned);
                if words.next().is_some() {
                    return Err("usage: .dump [FORMAT [FILE]]".into());
                }
                Ok(Command::Dump(format, file))
            }
            "help" => none(Command::Help),
            "exit" | "quit" => none(Command::Exit),
            _ => Err(format!("unknown command .{name} (.help lists them)")),
        }
    }
}

/// The ask for a pattern: a `@where` pattern as is, or a whole `{"@where": ...}` request.
fn ask_request(pattern: Value) -> Value {
    match pattern {
        Value::Object(object) if object.contains_key("@where") => Value::Object(object),
        pattern => json!({ "@where": pattern }),
    }
}

/// Whether typed text is complete: every `{` and `[` outside JSON strings is closed. Text that
/// can never become valid JSON (a closing bracket too many, a line break inside a string) is
/// complete too, so that it is answered with an error rather than waited on.
pub fn is_complete(text: &str) -> bool {
    let mut depth = 0i64;
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                '\n' => return true,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' | '[' => depth += 1,
            '}' | ']' => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => {}
        }
    }
    depth == 0 || in_string
}

/// What a `.load` file holds.
#[derive(Debug, PartialEq)]
pub enum Load {
    /// An RDF document, imported in one go.
    Rdf(RdfFormat),
    /// json-rql writes, applied in turn.
    Writes(Vec<Value>),
}

/// Reads a `.load` file's text, by its name: `.ttl` is Turtle, `.nt` and `.nq` N-Triples or
/// N-Quads; anything else is json-rql writes, as one JSON value (an array is a list of writes,
/// each item one write) or JSON lines (blank lines skipped). Every write is checked to be one
/// ([`RequestKind`]) before any is applied.
pub fn load(path: &Path, text: &str) -> Result<Load, String> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("ttl") => return Ok(Load::Rdf(RdfFormat::Turtle)),
        Some("nt" | "nq") => return Ok(Load::Rdf(RdfFormat::NQuads)),
        _ => {}
    }
    let writes: Vec<(String, Value)> = match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| (format!("item {}", i + 1), item))
            .collect(),
        Ok(one) => vec![("the document".to_owned(), one)],
        Err(whole) => {
            let mut writes = Vec::new();
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let value = serde_json::from_str(line).map_err(|e| {
                    if i == 0 {
                        format!("not JSON, nor JSON lines: {whole}")
                    } else {
                        format!("line {} is not JSON: {e}", i + 1)
                    }
                })?;
                writes.push((format!("line {}", i + 1), value));
            }
            writes
        }
    };
    for (at, write) in &writes {
        match RequestKind::of(write) {
            Ok(RequestKind::Write) => {}
            Ok(RequestKind::Read(_)) => return Err(format!("{at} is a read, not a write")),
            Ok(RequestKind::Ask) => return Err(format!("{at} is an ask, not a write")),
            Ok(_) => return Err(format!("{at} is not a write")),
            Err(e) => return Err(format!("{at}: {e}")),
        }
    }
    Ok(Load::Writes(writes.into_iter().map(|(_, w)| w).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse() {
        assert_eq!(
            Command::parse(" .get fred "),
            Ok(Command::Get("fred".into()))
        );
        assert_eq!(
            Command::parse(".delete  http://ex.org/a b"),
            Ok(Command::Delete("http://ex.org/a b".into()))
        );
        assert_eq!(
            Command::parse(".ask {\"@id\": \"?s\"}"),
            Ok(Command::Ask(json!({"@where": {"@id": "?s"}})))
        );
        assert_eq!(
            Command::parse(".ask {\"@where\": [{\"@id\": \"?s\"}]}"),
            Ok(Command::Ask(json!({"@where": [{"@id": "?s"}]})))
        );
        assert_eq!(Command::parse(".status"), Ok(Command::Status));
        assert_eq!(Command::parse(".quit"), Ok(Command::Exit));
        assert_eq!(
            Command::parse(".dump"),
            Ok(Command::Dump(DumpFormat::Json, None))
        );
        assert_eq!(
            Command::parse(".dump ttl out.ttl"),
            Ok(Command::Dump(DumpFormat::Turtle, Some("out.ttl".into())))
        );
        assert_eq!(
            Command::parse("{\"@id\": \"a\"}"),
            Ok(Command::Request("{\"@id\": \"a\"}".into()))
        );
        for (bad, says) in [
            (".get", "usage"),
            (".ask {", "not JSON"),
            (".status now", "no argument"),
            (".dump xml", "xml"),
            (".dump nt a b", "usage"),
            (".frobnicate", ".frobnicate"),
        ] {
            let error = Command::parse(bad).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }

    #[test]
    fn json_is_complete_when_its_brackets_close_outside_strings() {
        for complete in [
            "",
            ".get fred",
            "{}",
            "{\"a\": [1, {\"b\": 2}]}",
            "{\"a\": \"{[\"}",
            "{\"a\": \"\\\"{\"}",
            "}",
            "{\"a\": \"open\nstring\"",
            ".ask {\"@id\": \"?s\"}",
        ] {
            assert!(is_complete(complete), "{complete:?}");
        }
        for incomplete in [
            "{",
            "[{\"@id\": \"a\"},",
            "{\"a\": \"}\"",
            "{\"a\": \"\\\"}\"",
            ".ask {\n\"@id\": \"?s\"",
        ] {
            assert!(!is_complete(incomplete), "{incomplete:?}");
        }
    }

    #[test]
    fn load_files_are_read_by_name_and_shape() {
        let p = |name: &str| Path::new(name).to_owned();
        assert_eq!(
            load(&p("a.TTL"), "whatever"),
            Ok(Load::Rdf(RdfFormat::Turtle))
        );
        assert_eq!(load(&p("a.nq"), ""), Ok(Load::Rdf(RdfFormat::NQuads)));
        assert_eq!(
            load(
                &p("a.json"),
                "[{\"@id\": \"a\"}, {\"@insert\": {\"@id\": \"b\", \"x\": 1}}]"
            ),
            Ok(Load::Writes(vec![
                json!({"@id": "a"}),
                json!({"@insert": {"@id": "b", "x": 1}})
            ]))
        );
        assert_eq!(
            load(&p("a.jsonl"), "{\"@id\": \"a\"}\n\n[{\"@id\": \"b\"}]\n"),
            Ok(Load::Writes(vec![
                json!({"@id": "a"}),
                json!([{"@id": "b"}])
            ]))
        );
        assert_eq!(
            load(&p("a"), "{\"@id\": \"a\"}"),
            Ok(Load::Writes(vec![json!({"@id": "a"})]))
        );
        for (text, says) in [
            ("{\"@id\": \"a\"}\n{oops", "line 2"),
            ("oops", "not JSON"),
            (
                "[{\"@id\": \"a\"}, {\"@describe\": \"a\"}]",
                "item 2 is a read",
            ),
            ("{\"@where\": {\"@id\": \"?s\"}}", "an ask"),
            ("[1]", "item 1"),
        ] {
            let error = load(&p("w.json"), text).unwrap_err();
            assert!(error.contains(says), "{text}: {error}");
        }
    }
}
