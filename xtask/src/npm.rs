//! Pinned npm packages installed into a cache folder, once per manifest (shared by the
//! conformance run and bench-compare).

use std::io::Write;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Installs `packages` (name, exact version) into `dir` as the private package `name`, with
/// optional npm `overrides` (a JSON object), unless that exact manifest is installed already.
pub fn install(
    dir: &Path,
    name: &str,
    packages: &[(&str, &str)],
    overrides: Option<&str>,
) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let deps: Vec<String> = packages
        .iter()
        .map(|(package, version)| format!("    \"{package}\": \"{version}\""))
        .collect();
    let overrides = overrides
        .map(|o| format!(",\n  \"overrides\": {o}"))
        .unwrap_or_default();
    let manifest = format!(
        "{{\n  \"name\": \"{name}\",\n  \"private\": true,\n  \"dependencies\": {{\n{}\n  }}{overrides}\n}}\n",
        deps.join(",\n")
    );
    let installed = dir.join("node_modules").join(".installed-manifest");
    if std::fs::read_to_string(&installed).ok().as_deref() == Some(manifest.as_str()) {
        return Ok(());
    }
    std::fs::write(dir.join("package.json"), &manifest)?;
    eprintln!("xtask: installing npm packages into {}", dir.display());
    let status = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir)
        .status()
        .context("running npm (node and npm are required)")?;
    if !status.success() {
        bail!("npm install failed: {status}");
    }
    std::fs::File::create(&installed)?.write_all(manifest.as_bytes())?;
    Ok(())
}
