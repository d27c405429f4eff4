//! Joining by snapshot from collaborators that are slow or die: a live collaborator that pauses
//! longer than the network timeout between items is waited for, and a joiner whose collaborator
//! is cut off mid-snapshot asks another one and ends with the same data, with nothing of the
//! failed attempt left behind.
//!
//! The collaborators are real clones whose remotes are wrapped to pause between the snapshot
//! items they serve, and whose broker connection runs through a proxy the test can cut (the
//! broker then publishes their will, as for a killed process).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use m_ld::core::CoreError;
use m_ld::core::clock::TreeClock;
use m_ld::core::operation::OperationMessage;
use m_ld::core::remotes::{LocalClone, RemoteRevup, RemoteSnapshot, Remotes};
use m_ld::core::store::MemoryStore;
use m_ld::{MeldClone, MeldConfig};
use m_ld_mqtt::MqttRemotes;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::common::*;

/// A TCP proxy to the broker on a loopback port; [`Proxy::cut`] drops every connection and
/// refuses new ones.
struct Proxy {
    port: u16,
    cut: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(broker_port: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (cut, cut_rx) = watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if *cut_rx.borrow() {
                    continue;
                }
                let mut cut_rx = cut_rx.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", broker_port)).await
                    else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut_rx.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        Proxy { port, cut, task }
    }

    fn cut(&self) {
        self.cut.send_replace(true);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Remotes that serve snapshots slowly: a pause before each item, and a signal when serving
/// starts and when an item has gone out.
struct Throttled {
    inner: MqttRemotes,
    pause: Duration,
    serving: Arc<AtomicBool>,
    served_items: Arc<AtomicUsize>,
}

struct ThrottledLocal {
    inner: Arc<dyn LocalClone>,
    pause: Duration,
    serving: Arc<AtomicBool>,
    served_items: Arc<AtomicUsize>,
}

#[async_trait]
impl Remotes for Throttled {
    async fn attach(&self, local: Arc<dyn LocalClone>) -> Result<(), CoreError> {
        let local = ThrottledLocal {
            inner: local,
            pause: self.pause,
            serving: Arc::clone(&self.serving),
            served_items: Arc::clone(&self.served_items),
        };
        self.inner.attach(Arc::new(local)).await
    }
    fn publish(&self, msg: &OperationMessage) -> Result<(), CoreError> {
        self.inner.publish(msg)
    }
    async fn set_present(&self, present: bool) -> Result<(), CoreError> {
        self.inner.set_present(present).await
    }
    async fn snapshot(&self, new_clock: bool) -> Result<RemoteSnapshot, CoreError> {
        self.inner.snapshot(new_clock).await
    }
    async fn revup_from(&self, time: &TreeClock) -> Result<Option<RemoteRevup>, CoreError> {
        self.inner.revup_from(time).await
    }
    async fn detach(&self) {
        self.inner.detach().await
    }
}

#[async_trait]
impl LocalClone for ThrottledLocal {
    fn id(&self) -> &str {
        self.inner.id()
    }
    fn operation(&self, msg: OperationMessage) {
        self.inner.operation(msg)
    }
    fn presence(&self, others_present: Option<bool>) {
        self.inner.presence(others_present)
    }
    fn refuse(&self, error: CoreError) {
        self.inner.refuse(error)
    }
    async fn snapshot(&self, new_clock: bool) -> Result<RemoteSnapshot, CoreError> {
        let mut snapshot = self.inner.snapshot(new_clock).await?;
        self.serving.store(true, Ordering::SeqCst);
        let (pause, served) = (self.pause, Arc::clone(&self.served_items));
        snapshot.data = Box::pin(snapshot.data.then(move |datum| {
            let served = Arc::clone(&served);
            async move {
                tokio::time::sleep(pause).await;
                served.fetch_add(1, Ordering::SeqCst);
                datum
            }
        }));
        Ok(snapshot)
    }
    async fn revup_from(&self, time: &TreeClock) -> Result<Option<RemoteRevup>, CoreError> {
        self.inner.revup_from(time).await
    }
}

/// A collaborator, through its own proxy, serving snapshots with `pause` before each item.
struct Collaborator {
    clone: MeldClone,
    proxy: Proxy,
    serving: Arc<AtomicBool>,
    served_items: Arc<AtomicUsize>,
}

async fn collaborator(broker_port: u16, id: &str, genesis: bool, pause: Duration) -> Collaborator {
    let proxy = Proxy::start(broker_port).await;
    let serving = Arc::new(AtomicBool::new(false));
    let served_items = Arc::new(AtomicUsize::new(0));
    let remotes = Throttled {
        inner: MqttRemotes::new(mqtt_config(proxy.port, id)).unwrap(),
        pause,
        serving: Arc::clone(&serving),
        served_items: Arc::clone(&served_items),
    };
    let clone = MeldClone::open_with_remotes(
        MemoryStore::new(),
        Arc::new(remotes),
        MeldConfig::new(id, DOMAIN, genesis),
    )
    .await
    .unwrap();
    Collaborator {
        clone,
        proxy,
        serving,
        served_items,
    }
}

/// Subjects of two triples each (the engine serves snapshots in batches of 1,000 triples).
async fn write_subjects(clone: &MeldClone, count: usize) {
    let subjects: Vec<Value> = (0..count)
        .map(|n| json!({"@id": format!("s{n}"), "n": n, "label": format!("subject {n}")}))
        .collect();
    clone.write(&Value::Array(subjects)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clone_joins_from_a_collaborator_that_pauses_longer_than_the_network_timeout() {
    let broker = broker();
    let timeout = Duration::from_millis(300);
    let a = collaborator(broker.port(), "a", true, timeout * 2).await;
    write_subjects(&a.clone, 2000).await;
    let config = mqtt_config(broker.port(), "b").with_network_timeout(timeout);
    let b = open_with(config, false, MemoryStore::new()).await.unwrap();
    assert!(
        a.served_items.load(Ordering::SeqCst) >= 3,
        "a served several items"
    );
    converged(&[&a.clone, &b]).await;
    b.close().await.unwrap();
    a.clone.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joiner_whose_collaborator_is_cut_off_mid_snapshot_asks_another() {
    let broker = broker();
    let pause = Duration::from_millis(300);
    let a = collaborator(broker.port(), "a", true, pause).await;
    write_subjects(&a.clone, 2000).await;
    let c = collaborator(broker.port(), "c", false, pause).await;
    converged(&[&a.clone, &c.clone]).await;
    // a served c's join: count only what is served to b.
    a.served_items.store(0, Ordering::SeqCst);
    a.serving.store(false, Ordering::SeqCst);
    // Whichever collaborator b asks first is cut off once it has sent one item.
    let (a, c) = (Arc::new(a), Arc::new(c));
    let killer = {
        let (a, c) = (Arc::clone(&a), Arc::clone(&c));
        tokio::spawn(async move {
            loop {
                for collaborator in [&a, &c] {
                    if collaborator.served_items.load(Ordering::SeqCst) >= 1 {
                        collaborator.proxy.cut();
                        return collaborator.clone.config().id.clone();
                    }
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let config = mqtt_config(broker.port(), "b").with_network_timeout(Duration::from_secs(2));
    let b = open_with(config, false, MemoryStore::new()).await.unwrap();
    let cut = killer.await.unwrap();
    let (victim, survivor) = if cut == "a" { (&a, &c) } else { (&c, &a) };
    assert!(victim.serving.load(Ordering::SeqCst));
    assert!(
        survivor.serving.load(Ordering::SeqCst),
        "b asked the other collaborator"
    );
    converged(&[&survivor.clone, &b]).await;
    assert_eq!(dump(&b), dump(&survivor.clone));
    b.close().await.unwrap();
}
