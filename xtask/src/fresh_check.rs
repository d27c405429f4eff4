//! `cargo xtask fresh-check`: the README's test command on a fresh machine, as a new user would
//! run it. A clean Debian bookworm root is made with debootstrap (with only a C compiler, which the
//! Rust toolchain needs to link); this machine's Rust toolchain and node are bind-mounted into it;
//! a fresh clone of the repository, empty cargo, target and npm folders, no libclang, no
//! Mosquitto. There, `cargo xtask test` runs twice:
//!
//! 1. as an ordinary user, who cannot install anything: it must stop within a minute with the
//!    exact command to run;
//! 2. as root: it must install what it needs and pass.
//!
//! Owns the root's lifetime (made once into `target/fresh-check/pristine`, copied for each check)
//! and its mounts (undone when the check ends, whatever happens). Needs root and the network
//! (Debian's mirror, crates.io and the npm registry). Not part of CI: it takes as long as a cold
//! build (RocksDB's C++ included).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::{root, target_dir};

const SUITE: &str = "bookworm";
const MIRROR: &str = "http://deb.debian.org/debian";
/// What a fresh machine has beside the toolchain: a C compiler and linker (rustc links with cc,
/// and `-sys` crates compile C), and CA certificates for the registries.
const BASE_PACKAGES: &str = "gcc,g++,libc6-dev,make,ca-certificates";
/// How long the ordinary user's run may take to stop (it builds xtask first).
const STOP_WITHIN: Duration = Duration::from_secs(60);

/// Runs the check and prints how long each run took.
pub fn run() -> Result<()> {
    if !crate::prereq::is_root() {
        bail!("fresh-check needs root (debootstrap, chroot and mounts)");
    }
    if which("debootstrap").is_err() {
        crate::prereq::install(
            &["debootstrap"],
            "debootstrap (to make a fresh Debian root)",
        )?;
    }
    let dir = target_dir().join("fresh-check");
    let pristine = dir.join("pristine");
    if !pristine.join("etc/debian_version").exists() {
        eprintln!("xtask: making a clean Debian {SUITE} root with debootstrap (a few minutes)");
        let _ = std::fs::remove_dir_all(&pristine);
        std::fs::create_dir_all(&dir)?;
        let started = Instant::now();
        sh(Command::new("debootstrap").args([
            "--variant=minbase",
            &format!("--include={BASE_PACKAGES}"),
            SUITE,
            &pristine.display().to_string(),
            MIRROR,
        ]))?;
        eprintln!(
            "xtask: debootstrap took {:.0} s",
            started.elapsed().as_secs_f64()
        );
    }
    let machine = dir.join("root");
    let _ = std::fs::remove_dir_all(&machine);
    sh(Command::new("cp").arg("-a").arg(&pristine).arg(&machine))?;
    let mounts = Mounts::new(&machine)?;
    prepare(&machine)?;

    // 1. An ordinary user.
    let user = Run {
        user: Some("fresh"),
        home: "/home/fresh",
    };
    let started = Instant::now();
    let (status, output) = user.cargo_xtask_test(&machine)?;
    let took = started.elapsed();
    eprintln!(
        "xtask: as an ordinary user: {status} after {:.0} s",
        took.as_secs_f64()
    );
    let told = output.contains("sudo apt-get install -y libclang-dev");
    if status.success() || !told || took > STOP_WITHIN {
        bail!(
            "as an ordinary user, `cargo xtask test` should stop within {STOP_WITHIN:?} with the \
             install command; it ended {status} after {took:?}:\n{output}"
        );
    }

    // 2. Root.
    let admin = Run {
        user: None,
        home: "/root",
    };
    let started = Instant::now();
    let (status, output) = admin.cargo_xtask_test(&machine)?;
    let took = started.elapsed();
    eprintln!("xtask: as root: {status} after {:.0} s", took.as_secs_f64());
    drop(mounts);
    if !status.success() {
        let tail: Vec<&str> = output.lines().rev().take(60).collect();
        bail!(
            "as root, `cargo xtask test` failed:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    println!(
        "fresh-check passed: an ordinary user was stopped with the install command; root passed \
         in {:.0} s",
        took.as_secs_f64()
    );
    Ok(())
}

/// One run of the README's test command in the root, as a user or as root.
struct Run {
    user: Option<&'static str>,
    home: &'static str,
}

impl Run {
    fn cargo_xtask_test(&self, machine: &Path) -> Result<(std::process::ExitStatus, String)> {
        let script = format!(
            "set -o pipefail; cd /src && cargo xtask test 2>&1 | tee {home}/xtask-test.log",
            home = self.home
        );
        let mut chroot = Command::new("chroot");
        if let Some(user) = self.user {
            chroot.arg(format!("--userspec={user}:{user}"));
        }
        chroot
            .arg(machine)
            .args(["env", "-i"])
            .arg(format!("HOME={}", self.home))
            .arg("PATH=/opt/cargo-bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
            .arg("RUSTUP_HOME=/opt/rustup")
            .arg("RUSTUP_TOOLCHAIN=stable")
            .arg(format!("CARGO_HOME={}/.cargo", self.home))
            .arg(format!("CARGO_TARGET_DIR={}/target", self.home))
            .arg(format!("npm_config_cache={}/.npm", self.home))
            .arg("CARGO_TERM_COLOR=never")
            .arg("NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt")
            .args(["bash", "-c", &script]);
        let output = chroot.output().context("running chroot")?;
        let text = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        Ok((output.status, text))
    }
}

/// The repository (a fresh clone), the ordinary user, and name resolution.
fn prepare(machine: &Path) -> Result<()> {
    let src = machine.join("src");
    sh(Command::new("git")
        .args(["clone", "--quiet", "--no-hardlinks"])
        .arg(root())
        .arg(&src))?;
    std::fs::copy("/etc/resolv.conf", machine.join("etc/resolv.conf"))?;
    // This site's trusted certificates (its network may intercept TLS with a CA of its own), so
    // that the registries are reachable as they are from here; node reads them through
    // NODE_EXTRA_CA_CERTS.
    std::fs::copy(
        "/etc/ssl/certs/ca-certificates.crt",
        machine.join("etc/ssl/certs/ca-certificates.crt"),
    )?;
    sh(Command::new("chroot")
        .arg(machine)
        .args(["useradd", "--create-home", "fresh"]))?;
    // The user may read the clone; cargo writes only under its home.
    sh(Command::new("chmod").args(["-R", "a+rX"]).arg(&src))?;
    Ok(())
}

/// The mounts a chroot needs, undone when dropped.
struct Mounts {
    points: Vec<PathBuf>,
}

impl Mounts {
    fn new(machine: &Path) -> Result<Mounts> {
        let mut mounts = Mounts { points: Vec::new() };
        let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
        let rustup = std::env::var("RUSTUP_HOME").unwrap_or_else(|_| format!("{home}/.rustup"));
        let cargo_bin = Path::new(&home).join(".cargo/bin");
        let node = which("node")?;
        let npm_modules = Path::new("/usr/lib/node_modules");
        mounts.mount(&["-t", "proc", "proc"], &machine.join("proc"))?;
        mounts.bind(Path::new("/dev"), &machine.join("dev"), false)?;
        // A bind of /dev leaves out the mounts under it: pseudo-terminals (the shell's tests
        // drive `mld` through one) need devpts, as any real machine has.
        mounts.bind(Path::new("/dev/pts"), &machine.join("dev/pts"), false)?;
        mounts.bind(Path::new("/sys"), &machine.join("sys"), true)?;
        mounts.bind(Path::new(&rustup), &machine.join("opt/rustup"), true)?;
        mounts.bind(&cargo_bin, &machine.join("opt/cargo-bin"), true)?;
        mounts.bind(&node, &machine.join("usr/local/bin/node"), true)?;
        mounts.bind(
            npm_modules,
            &machine.join("usr/local/lib/node_modules"),
            true,
        )?;
        let npm = machine.join("usr/local/bin/npm");
        if !npm.exists() {
            std::os::unix::fs::symlink("../lib/node_modules/npm/bin/npm-cli.js", &npm)?;
        }
        Ok(mounts)
    }

    fn bind(&mut self, from: &Path, to: &Path, read_only: bool) -> Result<()> {
        if from.is_dir() {
            std::fs::create_dir_all(to)?;
        } else {
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(to, b"")?;
        }
        sh(Command::new("mount").arg("--bind").arg(from).arg(to))?;
        self.points.push(to.to_path_buf());
        if read_only {
            sh(Command::new("mount")
                .args(["-o", "remount,bind,ro"])
                .arg(to))?;
        }
        Ok(())
    }

    fn mount(&mut self, args: &[&str], to: &Path) -> Result<()> {
        std::fs::create_dir_all(to)?;
        sh(Command::new("mount").args(args).arg(to))?;
        self.points.push(to.to_path_buf());
        Ok(())
    }
}

impl Drop for Mounts {
    fn drop(&mut self) {
        for point in self.points.iter().rev() {
            let _ = Command::new("umount").arg("--lazy").arg(point).status();
        }
    }
}

fn which(program: &str) -> Result<PathBuf> {
    let output = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()?;
    let path = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if path.is_empty() {
        bail!("{program} is not on the PATH");
    }
    Ok(std::fs::canonicalize(path)?)
}

fn sh(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("running {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed: {status}");
    }
    Ok(())
}
