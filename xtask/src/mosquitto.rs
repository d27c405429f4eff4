//! A Mosquitto broker process on an ephemeral loopback port, for runs that need an MQTT broker
//! independent of this engine's embedded one (bench-compare, mixed compliance runs).
//!
//! Owns finding the binary, its throw-away configuration and the process's lifetime (killed when
//! dropped). It never listens beyond 127.0.0.1.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// A running Mosquitto; killed when dropped.
pub struct Mosquitto {
    child: Child,
    /// The loopback port it listens on.
    pub port: u16,
}

impl Mosquitto {
    /// Starts Mosquitto on a free loopback port, its configuration written into `dir`, and
    /// waits until it accepts connections.
    pub fn start(dir: &Path) -> Result<Mosquitto> {
        let binary = binary().context("Mosquitto is needed (apt-get install mosquitto)")?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        std::fs::create_dir_all(dir)?;
        let conf = dir.join(format!("mosquitto-{port}.conf"));
        std::fs::write(
            &conf,
            // Without `set_tcp_nodelay` (off by default) Mosquitto's small replies wait on
            // Nagle's algorithm and the peer's delayed ACK: a rev-up of 1,000 operations took
            // ~190 ms instead of ~40 ms, for either engine.
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n\
                 set_tcp_nodelay true\n"
            ),
        )?;
        let child = Command::new(binary)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting mosquitto")?;
        let broker = Mosquitto { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("mosquitto did not listen on port {port}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(broker)
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary() -> Option<PathBuf> {
    [
        "/usr/sbin/mosquitto",
        "/usr/bin/mosquitto",
        "/usr/local/sbin/mosquitto",
        "/usr/local/bin/mosquitto",
        "/opt/homebrew/sbin/mosquitto",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}
