//! Emulated network latency for the per-clone proxies (as netem would add it): every byte, in each
//! direction, is held back by a one-way latency plus an optional jitter, without reordering or
//! dropping anything.
//!
//! The schedule: each chunk read from one side is released to the other side at
//! `max(previous release in that direction, arrival + latency + jitter sample)`, the jitter samples
//! being uniform in `[0, jitter]`. So a chunk is never released before `arrival + latency` nor,
//! unless an earlier chunk of its direction is still held, after `arrival + latency + jitter`; and
//! bytes leave in the order they came.
//!
//! [`delayed_copy`] forwards one direction: it reads chunks as they arrive into a queue, each with its
//! release instant, and writes each at its release instant. The queue holds at most [`QUEUE_BYTES`]
//! (counting the chunk being read); when it is full, the loop stops reading, so the sender feels
//! back-pressure through TCP as it would from a slow link.

use std::fmt;
use std::io;
use std::str::FromStr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{Semaphore, SemaphorePermit, mpsc};
use tokio::time::Instant;

/// The most bytes one direction holds back: read and waiting for their release instant. With
/// 1 MiB, a link of 5 ms latency still carries about 200 MB/s, far more than the suite needs.
pub const QUEUE_BYTES: usize = 1 << 20;

/// The most bytes read at once (one chunk of the queue).
pub const CHUNK_BYTES: usize = 16 << 10;

/// An emulated one-way delay: `latency` plus a jitter sample uniform in `[0, jitter]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delay {
    /// The least time every byte takes to cross.
    pub latency: Duration,
    /// The most extra time a chunk may take on top of `latency`.
    pub jitter: Duration,
}

impl Delay {
    /// No delay at all (the proxy then forwards with a plain copy).
    pub const NONE: Delay = Delay {
        latency: Duration::ZERO,
        jitter: Duration::ZERO,
    };

    /// Whether this delays nothing.
    pub fn is_none(&self) -> bool {
        self.latency.is_zero() && self.jitter.is_zero()
    }
}

/// As `--latency` reads it (`5ms`, `5ms,2ms`), when both are whole microseconds.
impl fmt::Display for Delay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_duration(f, self.latency)?;
        if !self.jitter.is_zero() {
            f.write_str(",")?;
            write_duration(f, self.jitter)?;
        }
        Ok(())
    }
}

fn write_duration(f: &mut fmt::Formatter<'_>, d: Duration) -> fmt::Result {
    let nanos = d.as_nanos();
    if !nanos.is_multiple_of(1_000) {
        write!(f, "{d:?}")
    } else if nanos.is_multiple_of(1_000_000_000) && !d.is_zero() {
        write!(f, "{}s", d.as_secs())
    } else if nanos.is_multiple_of(1_000_000) {
        write!(f, "{}ms", d.as_millis())
    } else {
        write!(f, "{}us", d.as_micros())
    }
}

/// Why a `--latency` value could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseDelayError(String);

impl fmt::Display for ParseDelayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseDelayError {}

impl FromStr for Delay {
    type Err = ParseDelayError;

    /// `<LATENCY>` or `<LATENCY>,<JITTER>`, each a whole number with a unit `s`, `ms` or `us`:
    /// `5ms`, `5ms,2ms`, `500us,1ms`.
    fn from_str(s: &str) -> Result<Delay, ParseDelayError> {
        let bad = |why: String| {
            ParseDelayError(format!(
                "bad latency {s:?}: {why} (expected <LATENCY>[,<JITTER>], each a whole number \
                 with a unit s, ms or us, e.g. 5ms or 5ms,2ms)"
            ))
        };
        let mut parts = s.split(',');
        let latency = parse_duration(parts.next().unwrap_or_default()).map_err(bad)?;
        let jitter = match parts.next() {
            Some(jitter) => parse_duration(jitter).map_err(|why| bad(format!("jitter: {why}")))?,
            None => Duration::ZERO,
        };
        if parts.next().is_some() {
            return Err(bad("more than two parts".into()));
        }
        Ok(Delay { latency, jitter })
    }
}

/// A whole number with a unit `s`, `ms` or `us`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = if let Some(number) = text.strip_suffix("ms") {
        (number, Duration::from_millis(1))
    } else if let Some(number) = text.strip_suffix("us") {
        (number, Duration::from_micros(1))
    } else if let Some(number) = text.strip_suffix('s') {
        (number, Duration::from_secs(1))
    } else {
        return Err(format!("{text:?} has no unit"));
    };
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{number:?} in {text:?} is not a whole number"));
    }
    number
        .parse::<u32>()
        .ok()
        .and_then(|n| unit.checked_mul(n))
        .ok_or_else(|| format!("{text:?} is too long"))
}

/// The release instants of one direction (see the module documentation).
#[derive(Debug, Clone)]
pub struct Schedule {
    delay: Delay,
    last: Option<Instant>,
    rng: StdRng,
}

impl Schedule {
    /// A schedule whose jitter samples follow from `seed`.
    pub fn new(delay: Delay, seed: u64) -> Schedule {
        Schedule {
            delay,
            last: None,
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// A schedule with a random seed.
    pub fn random(delay: Delay) -> Schedule {
        Schedule::new(delay, rand::random())
    }

    /// The next jitter sample, uniform in `[0, jitter]` (to the nanosecond).
    pub fn jitter_sample(&mut self) -> Duration {
        let most = u64::try_from(self.delay.jitter.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(self.rng.random_range(0..=most))
    }

    /// The release instant of a chunk that arrived at `arrival`, given its jitter sample:
    /// `max(previous release, arrival + latency + jitter_sample)`.
    pub fn release_with(&mut self, arrival: Instant, jitter_sample: Duration) -> Instant {
        let due = arrival + self.delay.latency + jitter_sample;
        let release = self.last.map_or(due, |last| last.max(due));
        self.last = Some(release);
        release
    }

    /// The release instant of a chunk that arrived at `arrival`, with the next jitter sample.
    pub fn release(&mut self, arrival: Instant) -> Instant {
        let sample = self.jitter_sample();
        self.release_with(arrival, sample)
    }
}

/// Forwards everything `reader` yields to `writer`, each chunk released on `schedule` (arrival is
/// when the chunk was read), then shuts `writer` down. Returns the bytes forwarded. At most
/// [`QUEUE_BYTES`] are held at once; dropping the future drops them.
pub async fn delayed_copy<R, W>(
    reader: &mut R,
    writer: &mut W,
    schedule: Schedule,
) -> io::Result<u64>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    // One permit per byte held back, taken for a whole chunk before reading it.
    let room = Semaphore::new(QUEUE_BYTES);
    let (queue, mut released) = mpsc::unbounded_channel::<(Instant, Bytes, SemaphorePermit<'_>)>();
    let read = async {
        // Owned by this future, so that its end ends the queue.
        let queue = queue;
        let mut schedule = schedule;
        let mut buf = BytesMut::new();
        loop {
            let mut permit = room
                .acquire_many(CHUNK_BYTES as u32)
                .await
                .map_err(|_| io::Error::other("delay queue closed"))?;
            buf.resize(CHUNK_BYTES, 0);
            let n = reader.read(&mut buf).await?;
            if n == 0 {
                // Ends the queue: the writer drains it, then shuts down.
                return Ok::<_, io::Error>(());
            }
            let release = schedule.release(Instant::now());
            buf.truncate(n);
            // The unused part of the chunk's room goes back at once.
            let held = permit
                .split(n)
                .ok_or_else(|| io::Error::other("delay queue accounting"))?;
            drop(permit);
            queue
                .send((release, buf.split().freeze(), held))
                .map_err(|_| {
                    io::Error::new(io::ErrorKind::BrokenPipe, "delayed writer has ended")
                })?;
        }
    };
    let write = async {
        let mut total = 0u64;
        while let Some((release, chunk, held)) = released.recv().await {
            tokio::time::sleep_until(release).await;
            writer.write_all(&chunk).await?;
            writer.flush().await?;
            total += chunk.len() as u64;
            drop(held);
        }
        writer.shutdown().await?;
        Ok::<_, io::Error>(total)
    };
    let ((), total) = tokio::try_join!(read, write)?;
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn parses_latency_and_jitter() {
        let d: Delay = "5ms".parse().unwrap();
        assert_eq!(
            d,
            Delay {
                latency: ms(5),
                jitter: Duration::ZERO
            }
        );
        let d: Delay = "5ms,2ms".parse().unwrap();
        assert_eq!(
            d,
            Delay {
                latency: ms(5),
                jitter: ms(2)
            }
        );
        let d: Delay = "500us, 1s".parse().unwrap();
        assert_eq!(
            d,
            Delay {
                latency: Duration::from_micros(500),
                jitter: Duration::from_secs(1)
            }
        );
        assert!("0ms".parse::<Delay>().unwrap().is_none());
        for text in ["0ms", "5ms", "5ms,2ms", "1500us,2s"] {
            assert_eq!(text.parse::<Delay>().unwrap().to_string(), text);
        }
        assert_eq!(Delay::NONE.to_string(), "0ms");
        assert!(!"0ms,1us".parse::<Delay>().unwrap().is_none());
    }

    #[test]
    fn rejects_bad_latencies_clearly() {
        for (bad, says) in [
            ("5", "has no unit"),
            ("ms", "not a whole number"),
            ("1.5ms", "not a whole number"),
            ("-1ms", "not a whole number"),
            ("5m", "has no unit"),
            ("5ms,", "jitter"),
            ("5ms,2ms,1ms", "more than two parts"),
            ("99999999999s", "too long"),
        ] {
            let err = bad.parse::<Delay>().unwrap_err().to_string();
            assert!(err.contains(says), "{bad:?}: {err}");
            assert!(err.contains("e.g. 5ms or 5ms,2ms"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn release_is_the_later_of_previous_release_and_due() {
        let t0 = Instant::now();
        let mut s = Schedule::new(
            Delay {
                latency: ms(5),
                jitter: ms(3),
            },
            1,
        );
        assert_eq!(s.release_with(t0, ms(3)), t0 + ms(8));
        // Due earlier than the previous release: held until then (no reordering).
        assert_eq!(s.release_with(t0 + ms(1), ms(0)), t0 + ms(8));
        // Due later: released when due.
        assert_eq!(s.release_with(t0 + ms(2), ms(2)), t0 + ms(9));
        assert_eq!(s.release_with(t0 + ms(10), ms(1)), t0 + ms(16));
    }

    #[test]
    fn jitter_samples_are_within_bounds_and_spread() {
        let jitter = ms(2);
        let mut s = Schedule::new(
            Delay {
                latency: ms(5),
                jitter,
            },
            7,
        );
        let samples: Vec<Duration> = (0..10_000).map(|_| s.jitter_sample()).collect();
        assert!(samples.iter().all(|j| *j <= jitter));
        // Uniform: each quarter of [0, jitter] holds about a quarter of the samples.
        for quarter in 0..4u32 {
            let (lo, hi) = (jitter * quarter / 4, jitter * (quarter + 1) / 4);
            let n = samples.iter().filter(|j| **j >= lo && **j < hi).count();
            assert!((2_000..3_000).contains(&n), "quarter {quarter}: {n}");
        }
        let mut none = Schedule::new(
            Delay {
                latency: ms(5),
                jitter: Duration::ZERO,
            },
            7,
        );
        assert!((0..100).all(|_| none.jitter_sample().is_zero()));
    }

    #[test]
    fn schedule_keeps_order_and_bounds() {
        let delay = Delay {
            latency: ms(5),
            jitter: ms(2),
        };
        let mut s = Schedule::new(delay, 3);
        let t0 = Instant::now();
        let mut previous = None;
        for i in 0..1_000u64 {
            // Arrivals 0.1 ms apart: closer than the jitter, so releases would cross if not held.
            let arrival = t0 + Duration::from_micros(100 * i);
            let release = s.release(arrival);
            assert!(release >= arrival + delay.latency);
            if let Some(previous) = previous {
                assert!(release >= previous);
                assert!(release <= previous.max(arrival + delay.latency + delay.jitter));
            } else {
                assert!(release <= arrival + delay.latency + delay.jitter);
            }
            previous = Some(release);
        }
    }

    /// The release loop on tokio's paused clock: each chunk, written alone, comes out at the
    /// instant a twin schedule (same seed) gives for its arrival.
    #[tokio::test(start_paused = true)]
    async fn release_loop_follows_the_schedule() {
        let delay = Delay {
            latency: ms(5),
            jitter: ms(3),
        };
        let (mut client, mut proxy_in) = tokio::io::duplex(1 << 20);
        let (mut proxy_out, mut server) = tokio::io::duplex(1 << 20);
        let forward = tokio::spawn(async move {
            delayed_copy(&mut proxy_in, &mut proxy_out, Schedule::new(delay, 42)).await
        });
        // Gaps shorter and longer than the delay, so that some chunks wait on earlier ones.
        let gaps = [0, 1, 1, 7, 0, 2, 10, 1, 3, 20];
        let send = tokio::spawn(async move {
            let mut arrivals = Vec::new();
            for (i, gap) in gaps.into_iter().enumerate() {
                tokio::time::sleep(ms(gap)).await;
                arrivals.push(Instant::now());
                client.write_all(&[i as u8; 100]).await.unwrap();
                // Lets the loop read this chunk alone.
                tokio::task::yield_now().await;
                tokio::task::yield_now().await;
            }
            drop(client);
            arrivals
        });
        // Each byte with the instant it came out (chunks released together may be read as one).
        let (mut bytes, mut times) = (Vec::new(), Vec::new());
        let mut buf = [0u8; 1000];
        loop {
            let n = server.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            bytes.extend_from_slice(&buf[..n]);
            times.extend(std::iter::repeat_n(Instant::now(), n));
        }
        let arrivals = send.await.unwrap();
        assert_eq!(forward.await.unwrap().unwrap(), 1000);
        assert_eq!(bytes.len(), 1000);
        let mut twin = Schedule::new(delay, 42);
        for (i, arrival) in arrivals.iter().enumerate() {
            let release = twin.release(*arrival);
            let block = 100 * i..100 * (i + 1);
            assert_eq!(
                &bytes[block.clone()],
                &[i as u8; 100][..],
                "chunk {i} in order"
            );
            for at in &times[block] {
                // Tokio's timer fires on the millisecond tick at or after the instant.
                assert!(
                    *at >= release && *at < release + ms(1),
                    "chunk {i}: out at {:?}, release at {:?}",
                    *at - arrivals[0],
                    release - arrivals[0]
                );
            }
        }
    }

    /// While the queue is full, nothing more is read: the sender's writes stall.
    #[tokio::test(start_paused = true)]
    async fn a_full_queue_stops_reading() {
        let delay = Delay {
            latency: Duration::from_secs(10),
            jitter: Duration::ZERO,
        };
        // Small pipes, so that what the loop has not read stays with the sender.
        let (mut client, mut proxy_in) = tokio::io::duplex(CHUNK_BYTES);
        let (mut proxy_out, mut server) = tokio::io::duplex(CHUNK_BYTES);
        let forward = tokio::spawn(async move {
            delayed_copy(&mut proxy_in, &mut proxy_out, Schedule::new(delay, 1)).await
        });
        let payload: Vec<u8> = (0..4 * QUEUE_BYTES).map(|i| (i % 251) as u8).collect();
        let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let sender_sent = std::sync::Arc::clone(&sent);
        let sender_payload = payload.clone();
        let send = tokio::spawn(async move {
            for piece in sender_payload.chunks(4096) {
                client.write_all(piece).await.unwrap();
                sender_sent.fetch_add(piece.len(), std::sync::atomic::Ordering::SeqCst);
            }
        });
        // Well before the first release.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let stalled_at = sent.load(std::sync::atomic::Ordering::SeqCst);
        // The queue (at most QUEUE_BYTES, the chunk being read included) and the inbound pipe.
        assert!(
            stalled_at <= QUEUE_BYTES + CHUNK_BYTES,
            "sent {stalled_at} with a full queue"
        );
        assert!(
            stalled_at > QUEUE_BYTES - CHUNK_BYTES,
            "sent only {stalled_at}"
        );
        let mut received = Vec::new();
        server.read_to_end(&mut received).await.unwrap();
        send.await.unwrap();
        assert_eq!(forward.await.unwrap().unwrap(), payload.len() as u64);
        assert!(received == payload, "bytes out of order or missing");
    }
}
