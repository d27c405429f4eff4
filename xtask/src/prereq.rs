//! The system tools the tests need, checked before anything is built: libclang (RocksDB's
//! bindings are generated with it), and, for the interop tests, node with npm (m-ld-js) and
//! Mosquitto (a second MQTT broker).
//!
//! Owns detecting them and installing the missing ones with apt-get when we are root (or may use
//! `sudo` without a password, as CI runners may); otherwise it stops at once with the exact
//! command to run. It knows nothing of the tests themselves.

use std::path::Path;
use std::process::Command;

use anyhow::{Result, bail};

/// A tool the tests need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// libclang, for RocksDB's bindings (bindgen).
    Libclang,
    /// node and npm, for m-ld-js.
    Node,
    /// Mosquitto, the second MQTT broker of the interop tests.
    Mosquitto,
}

impl Tool {
    /// The Debian packages that provide it.
    fn packages(self) -> &'static [&'static str] {
        match self {
            Tool::Libclang => &["libclang-dev"],
            Tool::Node => &["nodejs", "npm"],
            Tool::Mosquitto => &["mosquitto"],
        }
    }

    /// What it is for, in a sentence's end.
    fn purpose(self) -> &'static str {
        match self {
            Tool::Libclang => "libclang (RocksDB's Rust bindings are generated with it)",
            Tool::Node => "node and npm (the m-ld-js 0.10 interop tests)",
            Tool::Mosquitto => "Mosquitto (the interop tests' second MQTT broker)",
        }
    }

    fn is_installed(self) -> bool {
        match self {
            Tool::Libclang => has_libclang(),
            Tool::Node => runs("node", "--version") && runs("npm", "--version"),
            Tool::Mosquitto => mosquitto_installed(),
        }
    }
}

/// Makes sure every tool is installed: installs the missing ones with apt-get as root, or fails
/// with the command that would.
pub fn ensure(tools: &[Tool]) -> Result<()> {
    let missing: Vec<Tool> = tools
        .iter()
        .copied()
        .filter(|t| !t.is_installed())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let packages: Vec<&str> = missing.iter().flat_map(|t| t.packages()).copied().collect();
    let what: Vec<&str> = missing.iter().map(|t| t.purpose()).collect();
    install(&packages, &what.join(", "))?;
    let still: Vec<&str> = missing
        .iter()
        .filter(|t| !t.is_installed())
        .map(|t| t.purpose())
        .collect();
    if !still.is_empty() {
        bail!(
            "still missing after installing {}: {}",
            packages.join(" "),
            still.join(", ")
        );
    }
    Ok(())
}

/// Installs Debian `packages` (needed for `what`) with apt-get, as root or through password-less
/// `sudo`; otherwise fails at once with the command to run.
pub fn install(packages: &[&str], what: &str) -> Result<()> {
    let command = format!("apt-get install -y {}", packages.join(" "));
    let sudo = !is_root();
    if (sudo && !runs_quietly("sudo", &["-n", "true"])) || !runs("apt-get", "--version") {
        bail!(
            "this needs {what}, which this machine lacks. Install {} with\n\n    sudo {command}\n\n\
             then run this command again (for `cargo xtask test`, --no-interop leaves out the \
             tests that need node, npm and Mosquitto)",
            if packages.len() > 1 { "them" } else { "it" },
        );
    }
    eprintln!("xtask: installing {} for {what}", packages.join(" "));
    let apt = |args: &[&str]| -> Result<()> {
        let mut command = if sudo {
            let mut c = Command::new("sudo");
            c.args(["-n", "env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]);
            c
        } else {
            Command::new("apt-get")
        };
        let status = command
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()?;
        if !status.success() {
            bail!("apt-get {} failed: {status}", args.join(" "));
        }
        Ok(())
    };
    apt(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq"];
    install.extend(packages);
    apt(&install)
}

fn runs(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success())
}

fn runs_quietly(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn mosquitto_installed() -> bool {
    runs("mosquitto", "-h")
        || [
            "/usr/sbin/mosquitto",
            "/usr/bin/mosquitto",
            "/usr/local/sbin/mosquitto",
        ]
        .iter()
        .any(|p| Path::new(p).exists())
}

/// Whether bindgen will find a libclang: `LIBCLANG_PATH`, or a libclang where Debian and LLVM
/// install it (see [`is_libclang`]).
fn has_libclang() -> bool {
    let mut dirs: Vec<std::path::PathBuf> = Vec::new();
    if let Some(path) = std::env::var_os("LIBCLANG_PATH") {
        dirs.push(path.into());
    }
    for root in ["/usr/lib", "/usr/lib64", "/usr/local/lib"] {
        dirs.push(root.into());
        if let Ok(entries) = std::fs::read_dir(root) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if name.starts_with("llvm") {
                    dirs.push(entry.path().join("lib"));
                } else if name.ends_with("-linux-gnu") {
                    dirs.push(entry.path());
                }
            }
        }
    }
    dirs.iter().any(|dir| {
        std::fs::read_dir(dir).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|e| is_libclang(&e.file_name().to_string_lossy()))
        })
    })
}

/// Whether a file name is one that bindgen's clang-sys loads as libclang: `libclang.so`,
/// `libclang.so.N` or `libclang-N….so…`; not `libclang-cpp.so.N` (the C++ interface, which Debian
/// installs without libclang, and which clang-sys rejects).
fn is_libclang(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("libclang") else {
        return false;
    };
    let versioned = rest
        .strip_prefix('-')
        .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()));
    (rest.starts_with(".so") || versioned) && rest.contains(".so")
}

#[cfg(test)]
mod tests {
    use super::is_libclang;

    #[test]
    fn libclang_is_recognised_by_the_names_bindgen_loads() {
        for name in [
            "libclang.so",
            "libclang.so.1",
            "libclang-14.so.1",
            "libclang-14.0.6.so",
        ] {
            assert!(is_libclang(name), "{name}");
        }
        for name in [
            "libclang-cpp.so.14",
            "libclang-cpp.so",
            "libclangBasic.a",
            "libclang.a",
            "libclang-14.a",
        ] {
            assert!(!is_libclang(name), "{name}");
        }
    }
}
