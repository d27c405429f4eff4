//! A per-clone TCP proxy to the MQTT broker, so that a partition really cuts a clone off: while
//! partitioned, the proxy's port refuses connections and every open connection is dropped.
//!
//! It may also emulate network latency ([`Delay`], the same for every connection of every proxy of
//! a run): each direction is then forwarded by [`delayed_copy`], which delays bytes but never
//! reorders or drops them. A partition still cuts a connection at once, dropping what it holds back.
//!
//! Loopback only. It forwards bytes and knows nothing of MQTT.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::delay::{Delay, Schedule, delayed_copy};

/// A TCP proxy on a fixed loopback port, forwarding to `target` with an emulated delay.
pub struct Proxy {
    port: u16,
    target: SocketAddr,
    delay: Delay,
    running: Mutex<Option<JoinHandle<()>>>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    /// Starts a proxy on an ephemeral loopback port, delaying every byte in both directions by
    /// `delay` ([`Delay::NONE`] for none).
    pub async fn start(target: SocketAddr, delay: Delay) -> Result<Proxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .context("binding a proxy port")?;
        let port = listener.local_addr()?.port();
        let proxy = Proxy {
            port,
            target,
            delay,
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
        let (target, delay) = (self.target, self.delay);
        let connections = Arc::clone(&self.connections);
        let accept = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let forward = tokio::spawn(forward(inbound, target, delay));
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

async fn forward(mut inbound: TcpStream, target: SocketAddr, delay: Delay) {
    let Ok(mut outbound) = TcpStream::connect(target).await else {
        return;
    };
    let _ = inbound.set_nodelay(true);
    let _ = outbound.set_nodelay(true);
    if delay.is_none() {
        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
    } else {
        let (mut in_read, mut in_write) = inbound.split();
        let (mut out_read, mut out_write) = outbound.split();
        // Like `copy_bidirectional`: an end of one direction shuts down the other side's
        // writing, and an error ends both.
        let _ = tokio::try_join!(
            delayed_copy(&mut in_read, &mut out_write, Schedule::random(delay)),
            delayed_copy(&mut out_read, &mut in_write, Schedule::random(delay)),
        );
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
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
        let proxy = Proxy::start(target, Delay::NONE).await.unwrap();
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

    /// A deterministic pseudo-random payload.
    fn payload(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    }

    #[tokio::test]
    async fn delayed_bytes_arrive_whole_and_in_order_both_ways() {
        // Larger than a delay queue, so that back-pressure is exercised too.
        let up = payload(3 * crate::delay::QUEUE_BYTES + 12_345, 1);
        let down = payload(2 * crate::delay::QUEUE_BYTES + 678, 2);
        let server = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let target = server.local_addr().unwrap();
        let (server_down, up_len) = (down.clone(), up.len());
        let served = tokio::spawn(async move {
            let (s, _) = server.accept().await.unwrap();
            let (mut read, mut write) = s.into_split();
            let send = tokio::spawn(async move {
                write.write_all(&server_down).await.unwrap();
                write.shutdown().await.unwrap();
            });
            let mut got = Vec::with_capacity(up_len);
            read.read_to_end(&mut got).await.unwrap();
            send.await.unwrap();
            got
        });
        let delay = Delay {
            latency: Duration::from_millis(2),
            jitter: Duration::from_millis(3),
        };
        let proxy = Proxy::start(target, delay).await.unwrap();
        let client = TcpStream::connect(("127.0.0.1", proxy.port()))
            .await
            .unwrap();
        let (mut read, mut write) = client.into_split();
        let client_up = up.clone();
        let send = tokio::spawn(async move {
            // Many small writes and some large ones, so chunks of all sizes are delayed.
            for piece in client_up.chunks(1_000).take(500) {
                write.write_all(piece).await.unwrap();
            }
            write.write_all(&client_up[500_000..]).await.unwrap();
            write.shutdown().await.unwrap();
        });
        let mut got_down = Vec::new();
        read.read_to_end(&mut got_down).await.unwrap();
        send.await.unwrap();
        let got_up = served.await.unwrap();
        assert!(
            got_up == up,
            "upstream bytes: {} of {}",
            got_up.len(),
            up.len()
        );
        assert!(
            got_down == down,
            "downstream bytes: {} of {}",
            got_down.len(),
            down.len()
        );
    }

    #[tokio::test]
    async fn a_partition_cuts_a_connection_holding_delayed_bytes() {
        let server = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let target = server.local_addr().unwrap();
        let served = tokio::spawn(async move {
            let (mut s, _) = server.accept().await.unwrap();
            let mut got = Vec::new();
            // Ends when the proxy drops its connection (an error is an end too).
            let _ = s.read_to_end(&mut got).await;
            got
        });
        // Far longer than the test's guard below: nothing gets through while it runs.
        let delay = Delay {
            latency: Duration::from_secs(600),
            jitter: Duration::ZERO,
        };
        let proxy = Proxy::start(target, delay).await.unwrap();
        let mut client = TcpStream::connect(("127.0.0.1", proxy.port()))
            .await
            .unwrap();
        client.write_all(b"held back").await.unwrap();
        // Lets the proxy read them into its queue (the assertions hold either way).
        tokio::time::sleep(Duration::from_millis(100)).await;
        proxy.partition(true).await.unwrap();
        let outcome = tokio::time::timeout(Duration::from_secs(30), async {
            let mut end = [0u8; 16];
            let from_proxy = client.read(&mut end).await.unwrap_or(0);
            (from_proxy, served.await.unwrap())
        })
        .await
        .expect("the partition did not cut the connection");
        assert_eq!(outcome.0, 0, "the client's connection ended");
        assert!(
            outcome.1.is_empty(),
            "queued bytes were dropped, not delivered"
        );
    }

    #[tokio::test]
    async fn nothing_arrives_before_the_latency() {
        let latency = Duration::from_millis(30);
        let server = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let target = server.local_addr().unwrap();
        let (sent_tx, sent_rx) = tokio::sync::oneshot::channel::<std::time::Instant>();
        let served = tokio::spawn(async move {
            let (mut s, _) = server.accept().await.unwrap();
            let mut buf = [0u8; 4];
            s.read_exact(&mut buf).await.unwrap();
            let arrived = std::time::Instant::now();
            s.write_all(&buf).await.unwrap();
            (arrived, sent_rx.await.unwrap())
        });
        let delay = Delay {
            latency,
            jitter: Duration::from_millis(5),
        };
        let proxy = Proxy::start(target, delay).await.unwrap();
        let mut client = TcpStream::connect(("127.0.0.1", proxy.port()))
            .await
            .unwrap();
        let sent = std::time::Instant::now();
        sent_tx.send(sent).unwrap();
        client.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        client.read_exact(&mut buf).await.unwrap();
        let round_trip = sent.elapsed();
        assert_eq!(&buf, b"ping");
        let (arrived, sent) = served.await.unwrap();
        // Lower bounds only: one way, then there and back.
        assert!(
            arrived - sent >= latency,
            "arrived after {:?}",
            arrived - sent
        );
        assert!(round_trip >= 2 * latency, "round trip of {round_trip:?}");
    }
}
