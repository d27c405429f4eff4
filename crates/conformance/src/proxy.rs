//! A per-clone TCP proxy to the MQTT broker, so that a partition really cuts a clone off: while
//! partitioned, the proxy's port refuses connections and every open connection is dropped.
//!
//! Loopback only. It forwards bytes and knows nothing of MQTT.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A TCP proxy on a fixed loopback port, forwarding to `target`.
pub struct Proxy {
    port: u16,
    target: SocketAddr,
    running: Mutex<Option<JoinHandle<()>>>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    /// Starts a proxy on an ephemeral loopback port.
    pub async fn start(target: SocketAddr) -> Result<Proxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .context("binding a proxy port")?;
        let port = listener.local_addr()?.port();
        let proxy = Proxy {
            port,
            target,
            running: Mutex::new(None),
            connections: Arc::default(),
        };
        proxy.serve(listener);
        Ok(proxy)
    }

    /// The proxy's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Cuts (`true`) or restores (`false`) the connection through this proxy.
    pub async fn partition(&self, partitioned: bool) -> Result<()> {
        if partitioned {
            let accept = lock(&self.running).take();
            if let Some(accept) = accept {
                accept.abort();
                let _ = accept.await;
            }
            for connection in lock(&self.connections).drain(..) {
                connection.abort();
            }
        } else if lock(&self.running).is_none() {
            // (No guard is held across the await below: the condition's guard is a temporary.)
            let listener = TcpListener::bind(("127.0.0.1", self.port))
                .await
                .with_context(|| format!("re-binding proxy port {}", self.port))?;
            self.serve(listener);
        }
        Ok(())
    }

    fn serve(&self, listener: TcpListener) {
        let target = self.target;
        let connections = Arc::clone(&self.connections);
        let accept = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let forward = tokio::spawn(forward(inbound, target));
                let mut connections = lock(&connections);
                connections.retain(|c| !c.is_finished());
                connections.push(forward);
            }
        });
        *lock(&self.running) = Some(accept);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(accept) = lock(&self.running).take() {
            accept.abort();
        }
        for connection in lock(&self.connections).drain(..) {
            connection.abort();
        }
    }
}

async fn forward(mut inbound: TcpStream, target: SocketAddr) {
    let Ok(mut outbound) = TcpStream::connect(target).await else {
        return;
    };
    let _ = inbound.set_nodelay(true);
    let _ = outbound.set_nodelay(true);
    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn forwards_and_partitions() {
        let echo = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let target = echo.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = echo.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 64];
                    while let Ok(n) = s.read(&mut buf).await {
                        if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        let proxy = Proxy::start(target).await.unwrap();
        let mut client = TcpStream::connect(("127.0.0.1", proxy.port()))
            .await
            .unwrap();
        client.write_all(b"hello").await.unwrap();
        let mut buf = [0u8; 5];
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hello");

        proxy.partition(true).await.unwrap();
        let mut end = [0u8; 1];
        assert_eq!(
            client.read(&mut end).await.unwrap_or(0),
            0,
            "connection dropped"
        );
        assert!(
            TcpStream::connect(("127.0.0.1", proxy.port()))
                .await
                .is_err()
        );

        proxy.partition(false).await.unwrap();
        let mut client = TcpStream::connect(("127.0.0.1", proxy.port()))
            .await
            .unwrap();
        client.write_all(b"again").await.unwrap();
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"again");
    }
}
