//! The `mld` shell, for a person at a terminal: a line editor (rustyline) with history, a prompt
//! showing the domain and the clone's status, json-rql that may span lines, dot commands, and
//! updates printed as they arrive without garbling the line being typed.
//!
//! Owns the terminal while the clone runs: the editor runs on a blocking thread and hands each
//! complete input to the session loop here, which answers it (printing through the editor's
//! external printer) before the editor reads on. Commands are parsed by `input`; plain json-rql
//! is answered by `main`'s `answer`, as the library classifies it. It must not decide how the
//! clone reaches its domain (`network`).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context as _, Result};
use indicatif::{ProgressBar, ProgressStyle};
use m_ld::core::store::Store;
use m_ld::{Follow, MeldClone, MeldConfig, MeldError, MeldStatus, MeldUpdate};
use rustyline::completion::Completer;
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Editor, ExternalPrinter, Helper};
use serde_json::{Value, json};

use crate::input::{self, COMMANDS, Command, DumpFormat, Load};

/// How often spinners turn.
const TICK: Duration = Duration::from_millis(100);

/// A spinner on standard error while the clone starts (nothing when no person is watching).
pub struct Starting(Option<ProgressBar>);

impl Starting {
    /// Shows the spinner if `interactive`.
    pub fn show(interactive: bool, config: &MeldConfig) -> Starting {
        if !interactive {
            return Starting(None);
        }
        Starting(Some(spinner(format!(
            "starting clone {} of {}",
            config.id, config.domain
        ))))
    }
}

impl Drop for Starting {
    fn drop(&mut self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
        }
    }
}

fn spinner(message: String) -> ProgressBar {
    let bar = ProgressBar::new_spinner().with_message(message);
    bar.enable_steady_tick(TICK);
    bar
}

/// Runs the shell on `clone` until the user leaves (Ctrl-D or `.exit`).
pub async fn run<S: Store>(clone: &MeldClone<S>) -> Result<()> {
    let config = clone.config();
    let (id, domain) = (config.id.clone(), config.domain.clone());
    let mut status = clone.status_changes()?;
    catch_up(&mut status, &domain).await;

    let prompt = Arc::new(Mutex::new(prompt_of(&domain, &status.borrow())));
    let (lines_tx, mut lines) = tokio::sync::mpsc::channel(1);
    let (done, done_rx) = std::sync::mpsc::channel::<()>();
    let (printer_tx, printer_rx) = tokio::sync::oneshot::channel();
    let editor = {
        let prompt = Arc::clone(&prompt);
        tokio::task::spawn_blocking(move || edit(&prompt, &lines_tx, &done_rx, printer_tx))
    };
    let Ok(printer) = printer_rx.await else {
        return match editor.await {
            Ok(Err(e)) => Err(anyhow::Error::new(e).context("starting the line editor")),
            _ => Err(anyhow::anyhow!("the line editor did not start")),
        };
    };
    let mut shell = Shell {
        clone,
        out: printer,
        follow: Some(clone.follow()?),
        colour: colour(true),
    };
    shell.say(&format!(
        "clone {id} of {domain}: type json-rql, or .help for commands; Ctrl-D leaves"
    ))?;
    let mut watching = true;
    let mut shown = *status.borrow_and_update();
    loop {
        tokio::select! {
            input = lines.recv() => {
                let text = match input {
                    Some(Ok(text)) => text,
                    Some(Err(e)) => {
                        shell.fail(&format!("the line editor failed: {e}"))?;
                        break;
                    }
                    None => break,
                };
                let go_on = shell.command(&text).await?;
                // A local write's update is already waiting: print it right after its answer.
                shell.print_waiting_updates()?;
                set_prompt(&prompt, &domain, clone);
                if !go_on || done.send(()).is_err() {
                    break;
                }
            }
            update = next_update(&mut shell.follow) => shell.print_update(update)?,
            changed = status.changed(), if watching => {
                if changed.is_err() {
                    watching = false;
                    continue;
                }
                let now = *status.borrow_and_update();
                set_prompt(&prompt, &domain, clone);
                // Catching up comes and goes with every peer that arrives: not worth a line.
                if (now.online, now.silo) != (shown.online, shown.silo) {
                    shell.say(&format!("status: {}", status_words(&now)))?;
                    shown = now;
                }
            }
        }
    }
    // The editor reads no more: let it save its history and give the terminal back.
    drop(done);
    drop(lines);
    match editor.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(anyhow::Error::new(e).context("the line editor")),
        Err(e) => Err(anyhow::Error::new(e).context("the line editor")),
    }
}

/// Waits, with a spinner, while the clone is online and catching up with its domain.
async fn catch_up(status: &mut tokio::sync::watch::Receiver<MeldStatus>, domain: &str) {
    let behind = |s: &MeldStatus| s.online && s.outdated;
    if !behind(&status.borrow()) {
        return;
    }
    let bar = spinner(format!("catching up with {domain}"));
    while behind(&status.borrow_and_update()) {
        if status.changed().await.is_err() {
            break;
        }
    }
    bar.finish_and_clear();
}

fn status_words(status: &MeldStatus) -> String {
    let mut words = String::from(if status.online { "online" } else { "offline" });
    if status.outdated {
        words.push_str(", outdated");
    }
    if status.silo {
        words.push_str(", silo");
    }
    words
}

fn prompt_of(domain: &str, status: &MeldStatus) -> String {
    format!("{domain} ({})> ", status_words(status))
}

fn set_prompt<S: Store>(prompt: &Mutex<String>, domain: &str, clone: &MeldClone<S>) {
    if let (Ok(mut prompt), Ok(status)) = (prompt.lock(), clone.status()) {
        *prompt = prompt_of(domain, &status);
    }
}

/// The next update, or never if the subscription has ended.
async fn next_update(follow: &mut Option<Follow>) -> Option<Result<MeldUpdate, MeldError>> {
    match follow {
        Some(follow) => follow.next().await,
        None => std::future::pending().await,
    }
}

/// The line editor's loop, on its own thread: each complete input goes to `lines`, and the next
/// is read once the session has answered it (`done`). Ends at end of input, or when the session
/// stops listening.
fn edit(
    prompt: &Mutex<String>,
    lines: &tokio::sync::mpsc::Sender<Result<String, String>>,
    done: &std::sync::mpsc::Receiver<()>,
    printer: tokio::sync::oneshot::Sender<Box<dyn ExternalPrinter + Send>>,
) -> Result<(), ReadlineError> {
    let config = rustyline::Config::builder()
        .auto_add_history(false)
        .history_ignore_dups(true)?
        .max_history_size(1000)?
        .build();
    let mut editor: Editor<ShellHelper, DefaultHistory> = Editor::with_config(config)?;
    editor.set_helper(Some(ShellHelper));
    let history = history_path();
    if let Some(path) = &history
        && path.exists()
        && let Err(e) = editor.load_history(path)
    {
        tracing::debug!("no shell history from {}: {e}", path.display());
    }
    let _ = printer.send(Box::new(editor.create_external_printer()?));
    loop {
        let text = prompt.lock().map(|p| p.clone()).unwrap_or_default();
        match editor.readline(&text) {
            Ok(line) => {
                if line.trim().is_empty() {
                    continue;
                }
                let _ = editor.add_history_entry(line.as_str());
                if lines.blocking_send(Ok(line)).is_err() || done.recv().is_err() {
                    break;
                }
            }
            // Ctrl-C drops the line being typed.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                let _ = lines.blocking_send(Err(e.to_string()));
                break;
            }
        }
    }
    if let Some(path) = &history {
        let saved = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .map_err(ReadlineError::from)
            .and_then(|()| editor.save_history(path));
        if let Err(e) = saved {
            tracing::debug!("shell history not saved to {}: {e}", path.display());
        }
    }
    Ok(())
}

/// Where the shell keeps its history: `mld/history` in the user's data directory
/// (`$XDG_DATA_HOME`, else `~/.local/share`; `%APPDATA%` on Windows).
fn history_path() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let base = var("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|home| PathBuf::from(home).join(".local").join("share")))
        .or_else(|| var("APPDATA").map(PathBuf::from))?;
    Some(base.join("mld").join("history"))
}

/// The editor's helper: input is complete once its JSON brackets close; dot commands complete.
struct ShellHelper;

impl Validator for ShellHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        Ok(if input::is_complete(ctx.input()) {
            ValidationResult::Valid(None)
        } else {
            ValidationResult::Incomplete
        })
    }
}

impl Completer for ShellHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &rustyline::Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        let typed = line.get(..pos).unwrap_or(line);
        if !typed.starts_with('.') || typed.contains(char::is_whitespace) {
            return Ok((pos, Vec::new()));
        }
        let names = COMMANDS
            .iter()
            .filter_map(|(usage, _)| {
                let name = usage.split(' ').next()?;
                let takes_argument = usage.len() > name.len();
                name.starts_with(typed).then(|| {
                    let mut name = name.to_owned();
                    if takes_argument {
                        name.push(' ');
                    }
                    name
                })
            })
            .collect();
        Ok((0, names))
    }
}

impl Hinter for ShellHelper {
    type Hint = String;
}

impl Highlighter for ShellHelper {}

impl Helper for ShellHelper {}

/// The session side of the shell: answers inputs, prints through the editor.
struct Shell<'c, S: Store> {
    clone: &'c MeldClone<S>,
    out: Box<dyn ExternalPrinter + Send>,
    follow: Option<Follow>,
    colour: bool,
}

impl<S: Store> Shell<'_, S> {
    /// Prints a line (or several) above the prompt, or straight out while nothing is typed.
    fn say(&mut self, text: &str) -> Result<()> {
        let mut text = text.to_owned();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        self.out.print(text).context("printing")
    }

    /// Prints a failure, in red if colour is on.
    fn fail(&mut self, text: &str) -> Result<()> {
        if self.colour {
            self.say(&format!("\x1b[31m{text}\x1b[0m"))
        } else {
            self.say(text)
        }
    }

    fn fail_meld(&mut self, error: &MeldError) -> Result<()> {
        self.fail(&render_error(&error.to_json()))
    }

    fn print_update(&mut self, update: Option<Result<MeldUpdate, MeldError>>) -> Result<()> {
        match update {
            Some(Ok(update)) => self.say(&format!("update {}", update.to_json())),
            Some(Err(error)) => {
                self.fail_meld(&error)?;
                // A subscriber that fell behind starts again from now.
                self.follow = self.clone.follow().ok();
                Ok(())
            }
            None => {
                self.follow = None;
                Ok(())
            }
        }
    }

    fn print_waiting_updates(&mut self) -> Result<()> {
        while let Some(update) = self.follow.as_mut().and_then(Follow::try_next) {
            self.print_update(Some(update))?;
        }
        Ok(())
    }

    /// Drops the updates waiting (those of a `.load`, which reports them in one line).
    fn skip_waiting_updates(&mut self) {
        while let Some(update) = self.follow.as_mut().and_then(Follow::try_next) {
            if update.is_err() {
                self.follow = self.clone.follow().ok();
            }
        }
    }

    /// Answers one complete input; false if the user leaves.
    async fn command(&mut self, text: &str) -> Result<bool> {
        let command = match Command::parse(text) {
            Ok(command) => command,
            Err(e) => {
                self.fail(&e)?;
                return Ok(true);
            }
        };
        match command {
            Command::Request(request) => match crate::answer(self.clone, &request).await {
                Ok(reply) => self.say(&render_reply(&reply))?,
                Err(error) => self.fail(&render_error(&error))?,
            },
            Command::Get(id) => match self.clone.get(&id).await {
                Ok(Some(subject)) => self.say(&pretty(&subject))?,
                Ok(None) => self.say(&format!("no subject {id:?}"))?,
                Err(e) => self.fail_meld(&e)?,
            },
            Command::Ask(request) => match self.clone.ask(&request).await {
                Ok(found) => self.say(&found.to_string())?,
                Err(e) => self.fail_meld(&e)?,
            },
            Command::Delete(id) => match self.clone.delete(&id).await {
                Ok(()) => self.say("ok")?,
                Err(e) => self.fail_meld(&e)?,
            },
            Command::Status => match self.clone.status() {
                Ok(status) => {
                    let config = self.clone.config();
                    let mut shown = json!({"@id": config.id, "@domain": config.domain});
                    if let (Some(shown), Value::Object(status)) =
                        (shown.as_object_mut(), status.to_json())
                    {
                        shown.extend(status);
                    }
                    self.say(&pretty(&shown))?;
                }
                Err(e) => self.fail_meld(&e)?,
            },
            Command::Load(file) => self.load(&file).await?,
            Command::Dump(format, file) => self.dump(format, file.as_deref()).await?,
            Command::Help => self.say(&help())?,
            Command::Exit => return Ok(false),
        }
        Ok(true)
    }

    async fn load(&mut self, file: &str) -> Result<()> {
        let path = PathBuf::from(file);
        let text = match tokio::fs::read_to_string(&path).await {
            Ok(text) => text,
            Err(e) => return self.fail(&format!("cannot read {file}: {e}")),
        };
        let load = match input::load(&path, &text) {
            Ok(load) => load,
            Err(e) => return self.fail(&format!("{file}: {e}")),
        };
        match load {
            Load::Rdf(format) => {
                let bar = spinner(format!("importing {file}"));
                let imported = self.clone.import(format, &text).await;
                bar.finish_and_clear();
                self.skip_waiting_updates();
                match imported {
                    Ok(()) => self.say(&format!("imported {file}")),
                    Err(e) => self.fail(&format!("{file}: {}", render_error(&e.to_json()))),
                }
            }
            Load::Writes(writes) => {
                let total = writes.len();
                let bar = ProgressBar::new(total as u64);
                if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} writes") {
                    bar.set_style(style);
                }
                for (done, write) in writes.iter().enumerate() {
                    let written = self.clone.write(write).await;
                    self.skip_waiting_updates();
                    if let Err(e) = written {
                        bar.finish_and_clear();
                        return self.fail(&format!(
                            "{file}: write {} failed ({done} of {total} written): {}",
                            done + 1,
                            render_error(&e.to_json())
                        ));
                    }
                    bar.inc(1);
                }
                bar.finish_and_clear();
                self.say(&format!("loaded {total} writes from {file}"))
            }
        }
    }

    async fn dump(&mut self, format: DumpFormat, file: Option<&str>) -> Result<()> {
        let text = match format {
            DumpFormat::Json => self
                .clone
                .read(&json!({"@describe": "?s", "@where": {"@id": "?s"}}))
                .await
                .map(|subjects| pretty(&Value::Array(subjects)) + "\n"),
            DumpFormat::Turtle => self.clone.read_state().and_then(|s| s.to_turtle()),
            DumpFormat::NTriples => self.clone.read_state().and_then(|s| s.to_ntriples()),
        };
        let text = match text {
            Ok(text) => text,
            Err(e) => return self.fail_meld(&e),
        };
        match file {
            None => self.say(text.trim_end()),
            Some(file) => match tokio::fs::write(file, &text).await {
                Ok(()) => self.say(&format!("wrote {file}")),
                Err(e) => self.fail(&format!("cannot write {file}: {e}")),
            },
        }
    }
}

/// An answer of `main::answer` as the shell shows it.
fn render_reply(reply: &Value) -> String {
    if let Some(subjects) = reply.get("subjects") {
        pretty(subjects)
    } else if let Some(found) = reply.get("ask") {
        found.to_string()
    } else if reply.get("ok").is_some() {
        "ok".into()
    } else {
        pretty(reply)
    }
}

/// A m-ld error object, `{"status", "message"}`, as one line.
fn render_error(error: &Value) -> String {
    match (
        error.get("status"),
        error.get("message").and_then(Value::as_str),
    ) {
        (Some(status), Some(message)) => format!("error {status}: {message}"),
        _ => format!("error: {error}"),
    }
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

fn help() -> String {
    let width = COMMANDS
        .iter()
        .map(|(usage, _)| usage.len())
        .max()
        .unwrap_or(0);
    let mut text = String::from(
        "Type a json-rql request as JSON: a write (a subject, an array of them, or\n\
         @insert/@delete/@update), a read (@describe, @select, @distinct, @construct) or an ask\n\
         (@where alone). It may span lines: it ends when its brackets close.\n\nCommands:\n",
    );
    for (usage, what) in COMMANDS {
        text.push_str(&format!("  {usage:width$}  {what}\n"));
    }
    text.push_str(
        "\nUpdates to the data, local or from other clones, print as they arrive (not during a\n\
         .load). The prompt shows the domain and the clone's status: online or offline,\n\
         outdated while it catches up, silo while no other clone is there to keep a copy.",
    );
    text
}

/// Whether to colour output on a stream (`terminal`: whether it is one): only on a terminal, and
/// never when `NO_COLOR` is set to a non-empty value (<https://no-color.org>). The one rule for the
/// shell's lines and the log lines alike.
pub fn colour(terminal: bool) -> bool {
    terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_show_the_domain_and_status() {
        let status = MeldStatus {
            online: true,
            outdated: false,
            silo: false,
            ticks: 3,
        };
        assert_eq!(
            prompt_of("example.m-ld.org", &status),
            "example.m-ld.org (online)> "
        );
        let status = MeldStatus {
            online: false,
            outdated: true,
            silo: true,
            ticks: 0,
        };
        assert_eq!(prompt_of("d", &status), "d (offline, outdated, silo)> ");
    }

    #[test]
    fn replies_and_errors_render_for_people() {
        assert_eq!(render_reply(&json!({"ok": true})), "ok");
        assert_eq!(render_reply(&json!({"ask": false})), "false");
        assert_eq!(
            render_reply(&json!({"subjects": [{"@id": "a"}]})),
            "[\n  {\n    \"@id\": \"a\"\n  }\n]"
        );
        assert_eq!(
            render_error(&json!({"status": 4001, "message": "bad"})),
            "error 4001: bad"
        );
        assert!(help().contains(".load FILE"));
    }
}
