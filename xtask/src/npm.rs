//! The pinned m-ld-js tools (`js/package.json` with its `package-lock.json`), installed with
//! `npm ci` into one folder of the target directory, once per manifest: the conformance run,
//! bench-compare and the tests that run m-ld-js (`M_LD_JS_NODE_MODULES`) all use that folder.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The manifest and lockfile, as committed.
const MANIFEST: &str = include_str!("../../js/package.json");
const LOCKFILE: &str = include_str!("../../js/package-lock.json");

/// Installs the pinned packages (unless that exact manifest and lockfile are installed already)
/// and returns their `node_modules` folder.
pub fn install() -> Result<PathBuf> {
    let dir = crate::target_dir().join("js");
    install_into(&dir)?;
    Ok(dir.join("node_modules"))
}

fn install_into(dir: &Path) -> Result<()> {
    let stamp = format!("{MANIFEST}\n{LOCKFILE}");
    let installed = dir.join("node_modules").join(".installed-manifest");
    if std::fs::read_to_string(&installed).ok().as_deref() == Some(stamp.as_str()) {
        return Ok(());
    }
    let npm_works = Command::new("npm")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !npm_works {
        bail!(
            "the m-ld-js tools need node and npm on the PATH (Node.js 18 or later): on Debian, \
             `apt-get install nodejs npm`"
        );
    }
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("package.json"), MANIFEST)?;
    std::fs::write(dir.join("package-lock.json"), LOCKFILE)?;
    eprintln!(
        "xtask: installing the pinned m-ld-js tools (js/package.json) into {}",
        dir.display()
    );
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir)
        .status()
        .context("running npm")?;
    if !status.success() {
        bail!("npm ci failed: {status}");
    }
    std::fs::write(&installed, stamp)?;
    Ok(())
}
