//! Child processes for tests that need more than one process: this test binary run again with
//! `--ignored --exact child::entry`, its role and directory passed in the environment.
//!
//! Owns the child's entry point, the spawning and killing of children, and the line protocol
//! between them: a child writes `M-LD-CHILD <message>` lines to its stdout, which the parent
//! reads on a thread. The roles themselves live with their tests (`crash`, `locked`, `memory`).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

const ROLE_VAR: &str = "M_LD_ROCKS_CHILD";
const DIR_VAR: &str = "M_LD_ROCKS_CHILD_DIR";
const LINE_PREFIX: &str = "M-LD-CHILD ";

/// The child's entry point; it does nothing unless run by [`Child::spawn`].
#[test]
#[ignore = "runs only as a child process of another test"]
fn entry() {
    let (Ok(role), Ok(dir)) = (std::env::var(ROLE_VAR), std::env::var(DIR_VAR)) else {
        return;
    };
    let dir = PathBuf::from(dir);
    match role.as_str() {
        "hold-lock" => crate::locked::hold_lock(&dir),
        "crash-writer" => crate::crash::writer(&dir, crate::crash::Writer::Plain),
        "crash-writer-sync" => crate::crash::writer(&dir, crate::crash::Writer::Synced),
        "crash-writer-admin" => crate::crash::writer(&dir, crate::crash::Writer::Administering),
        "load" => crate::memory::load(&dir, false),
        "load-wide" => crate::memory::load(&dir, true),
        other => panic!("unknown child role {other}"),
    }
}

/// Sends one message line to the parent. A parent that has gone away ends the child.
pub fn say(message: &str) {
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{LINE_PREFIX}{message}")
        .and_then(|()| out.flush())
        .is_err()
    {
        std::process::exit(0);
    }
}

/// A running child process, killed (`SIGKILL`) when dropped.
pub struct Child {
    process: std::process::Child,
    lines: mpsc::Receiver<String>,
    reader: Option<thread::JoinHandle<()>>,
}

impl Child {
    /// Starts this test binary as a child in `role` on the clone directory `dir`.
    pub fn spawn(role: &str, dir: &Path) -> Child {
        let exe = std::env::current_exe().expect("test binary path");
        let mut process = Command::new(exe)
            .args(["--ignored", "--exact", "child::entry", "--nocapture"])
            .args(["--test-threads=1", "-q"])
            .env(ROLE_VAR, role)
            .env(DIR_VAR, dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn child test process");
        let stdout = process.stdout.take().expect("child stdout");
        let (tx, lines) = mpsc::channel();
        let reader = thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(message) = line.strip_prefix(LINE_PREFIX)
                    && tx.send(message.to_string()).is_err()
                {
                    break;
                }
            }
        });
        Child {
            process,
            lines,
            reader: Some(reader),
        }
    }

    /// Waits (at most `limit`) for the next message, failing the test if none comes.
    pub fn next_message(&self, limit: Duration) -> String {
        match self.lines.recv_timeout(limit) {
            Ok(line) => line,
            Err(e) => panic!("no message from child within {limit:?}: {e}"),
        }
    }

    /// Waits (at most `limit`) for a message starting with `prefix`; returns it and the
    /// messages skipped on the way.
    pub fn wait_for(&self, prefix: &str, limit: Duration) -> (String, Vec<String>) {
        let deadline = Instant::now() + limit;
        let mut skipped = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.next_message(left);
            if line.starts_with(prefix) {
                return (line, skipped);
            }
            skipped.push(line);
        }
    }

    /// Closes the child's stdin (a polite request to finish) and waits for it to exit; returns
    /// the messages it had not yet delivered.
    pub fn finish(mut self) -> Vec<String> {
        drop(self.process.stdin.take());
        let status = self.process.wait().expect("wait for child");
        assert!(status.success(), "child failed: {status}");
        self.drain()
    }

    /// Kills the child with `SIGKILL` and returns the messages it had not yet delivered: all
    /// it wrote before dying.
    pub fn kill(mut self) -> Vec<String> {
        self.process.kill().expect("kill child");
        self.process.wait().expect("reap child");
        self.drain()
    }

    fn drain(&mut self) -> Vec<String> {
        // The reader ends at the pipe's end, once the child is gone.
        if let Some(reader) = self.reader.take() {
            reader.join().expect("child reader thread");
        }
        self.lines.try_iter().collect()
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.reader.is_some() {
            let _ = self.process.kill();
            let _ = self.process.wait();
        }
    }
}
