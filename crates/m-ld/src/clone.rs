//! [`MeldClone`]: a clone of a m-ld domain, the API an app talks to.
//!
//! Owns the clone's lifecycle (open, write, read, follow, close) and the mapping of json-rql to core
//! patches. The engine state ([`SuSet`]) sits behind one mutex: a write translates json-rql against
//! the current state and commits one operation inside a single critical section, with no `.await`
//! in between, so writes are serialised and atomic. Reads take a store snapshot and never block
//! writers. Updates fan out to `follow` subscribers through a bounded broadcast channel.

use std::sync::{Arc, Mutex, MutexGuard};

use m_ld_core::store::{MemoryStore, Store};
use m_ld_core::suset::{self, SuSet};
use m_ld_jrql::Context;
use oxrdf::Triple;
use serde_json::Value;
use tokio::sync::{broadcast, watch};

use crate::genid::GenId;
use crate::rdf::{self, RdfFormat};
use crate::state::{MeldReadState, StateGraph, request_context};
use crate::{MeldConfig, MeldError, MeldStatus, MeldUpdate};

/// A clone of a m-ld domain. Cheap to clone (a handle); all handles share one clone.
///
/// ```
/// # tokio_test_block_on(async {
/// use m_ld::{MeldClone, MeldConfig};
/// use serde_json::json;
///
/// let clone = MeldClone::new(MeldConfig::new("alice", "test.example.org", true)).await?;
/// clone.write(&json!({"@id": "fred", "name": "Fred"})).await?;
/// let fred = clone.read(&json!({"@describe": "fred"})).await?;
/// assert_eq!(fred, vec![json!({"@id": "fred", "name": "Fred"})]);
/// # Ok::<_, m_ld::MeldError>(()) });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f) }
/// ```
pub struct MeldClone<S: Store = MemoryStore> {
    inner: Arc<Inner<S>>,
}

impl<S: Store> Clone for MeldClone<S> {
    fn clone(&self) -> Self {
        MeldClone {
            inner: Arc::clone(&self.inner),
        }
    }
}

struct Inner<S: Store> {
    config: MeldConfig,
    context: Arc<Context>,
    /// `None` once the clone has closed.
    engine: Mutex<Option<Engine<S>>>,
}

/// The mutable heart of a clone: its SU-Set and the channels its changes go out on.
struct Engine<S: Store> {
    suset: SuSet<S>,
    genid: GenId,
    updates: broadcast::Sender<Arc<suset::Update>>,
    status: watch::Sender<MeldStatus>,
}

impl MeldClone<MemoryStore> {
    /// Starts a clone held in memory. With no remotes, it must be the genesis clone of its domain.
    pub async fn new(config: MeldConfig) -> Result<Self, MeldError> {
        Self::open(MemoryStore::new(), config).await
    }
}

impl<S: Store + Clone> MeldClone<S> {
    /// Starts a clone on the given store. A store with data resumes that clone (its domain must
    /// match); an empty store starts a new clone, which must be `genesis` (joining an existing domain
    /// needs remotes).
    pub async fn open(store: S, config: MeldConfig) -> Result<Self, MeldError> {
        config.validate()?;
        let context = Arc::new(Context::for_domain(
            &config.domain,
            config.context.as_ref(),
        )?);
        let suset = match SuSet::open(store.clone())? {
            Some(suset) if suset.domain() != config.domain => {
                return Err(MeldError::Config(format!(
                    "the store holds domain {:?}, not {:?}",
                    suset.domain(),
                    config.domain
                )));
            }
            Some(suset) => suset,
            None if config.genesis => SuSet::genesis(store, &config.domain)?,
            None => {
                return Err(MeldError::NoVisibleClones);
            }
        };
        let ticks = suset.clock().ticks();
        let (updates, _) = broadcast::channel(config.follow_buffer);
        // Without remotes a clone is its domain's only clone: online, up to date, and a silo.
        let (status, _) = watch::channel(MeldStatus {
            online: true,
            outdated: false,
            silo: true,
            ticks,
        });
        Ok(MeldClone {
            inner: Arc::new(Inner {
                config,
                context,
                engine: Mutex::new(Some(Engine {
                    suset,
                    genid: GenId::new(),
                    updates,
                    status,
                })),
            }),
        })
    }
}

impl<S: Store> MeldClone<S> {
    /// The clone's configuration.
    pub fn config(&self) -> &MeldConfig {
        &self.inner.config
    }

    /// The clone's JSON-LD context (domain defaults merged with the configured `@context`).
    pub fn context(&self) -> &Context {
        &self.inner.context
    }

    fn engine(&self) -> Result<MutexGuard<'_, Option<Engine<S>>>, MeldError> {
        // A poisoned lock means a panic mid-transaction; the store batch was not written, but the
        // in-memory engine may be inconsistent, so the clone refuses further calls.
        self.inner.engine.lock().map_err(|_| MeldError::Closed)
    }

    fn with_engine<R>(
        &self,
        f: impl FnOnce(&mut Engine<S>) -> Result<R, MeldError>,
    ) -> Result<R, MeldError> {
        let mut guard = self.engine()?;
        let engine = guard.as_mut().ok_or(MeldError::Closed)?;
        f(engine)
    }

    /// Applies a json-rql write: a subject or array of subjects to insert, `{"@graph": ...}`, or an
    /// update with `@delete`, `@insert`, `@update` and `@where`.
    ///
    /// The write commits in full or not at all. It commits synchronously within the first poll of
    /// the returned future: a future dropped before it is polled commits nothing; once polled, the
    /// write has committed (or failed) and dropping the future changes nothing.
    pub async fn write(&self, request: &Value) -> Result<(), MeldError> {
        self.write_now(request).map(|_| ())
    }

    /// The synchronous core of [`MeldClone::write`]; returns the clock ticks of the commit, or
    /// `None` if the write changed nothing.
    fn write_now(&self, request: &Value) -> Result<Option<u64>, MeldError> {
        let context = request_context(&self.inner.context, request)?;
        self.with_engine(|engine| engine.write(&context, request))
    }

    /// Runs a write procedure: `procedure` gets exclusive access to the clone's current state and
    /// may read and write (each write is its own transaction) with nothing interleaved, remote
    /// operations included.
    pub fn write_procedure<R>(
        &self,
        procedure: impl FnOnce(&mut MeldWriteState<'_, S>) -> Result<R, MeldError>,
    ) -> Result<R, MeldError> {
        let context = Arc::clone(&self.inner.context);
        self.with_engine(|engine| {
            procedure(&mut MeldWriteState {
                engine,
                context: &context,
            })
        })
    }

    /// Deletes and inserts triples directly (the quad-level write API). Subjects must be IRIs.
    pub async fn update_triples(
        &self,
        deletes: Vec<Triple>,
        inserts: Vec<Triple>,
    ) -> Result<(), MeldError> {
        self.with_engine(|engine| engine.commit(suset::Patch { deletes, inserts }))
            .map(|_| ())
    }

    /// Inserts every triple of an RDF document (N-Triples/N-Quads in the default graph, or Turtle
    /// with relative IRIs against the domain `@base`). Blank nodes become skolem IRIs.
    pub async fn import(&self, format: RdfFormat, text: &str) -> Result<(), MeldError> {
        let context = Arc::clone(&self.inner.context);
        self.with_engine(|engine| {
            let genid = &mut engine.genid;
            let inserts = rdf::parse(format, text, &context, &mut || genid.next_id())?;
            engine.commit(suset::Patch {
                deletes: Vec::new(),
                inserts,
            })
        })
        .map(|_| ())
    }

    /// A consistent, immutable view of the clone's data now. Holding it never blocks writers.
    pub fn read_state(&self) -> Result<MeldReadState<S>, MeldError> {
        let context = Arc::clone(&self.inner.context);
        self.with_engine(|engine| Ok(engine.read_state(context)))
    }

    /// Answers a json-rql read (`@describe`, `@select`, `@construct`) on the current state.
    pub async fn read(&self, request: &Value) -> Result<Vec<Value>, MeldError> {
        self.read_state()?.read(request)
    }

    /// Describes one subject by `@id`, or `None` if it has no properties.
    pub async fn get(&self, id: &str) -> Result<Option<Value>, MeldError> {
        self.read_state()?.get(id)
    }

    /// Whether a json-rql pattern (`{"@where": ...}`) has a solution in the current state.
    pub async fn ask(&self, request: &Value) -> Result<bool, MeldError> {
        self.read_state()?.ask(request)
    }

    /// Deletes a subject: all its properties and every reference to it.
    pub async fn delete(&self, id: &str) -> Result<(), MeldError> {
        let request = delete_request(id);
        self.write(&request).await
    }

    /// Subscribes to every later update of the clone's data, in order. The subscription buffers up
    /// to `followBuffer` updates; writers never wait for it. A subscriber that falls further behind
    /// receives one [`MeldError::Lagged`] and its stream ends: updates are never dropped silently.
    pub fn follow(&self) -> Result<Follow, MeldError> {
        let context = Arc::clone(&self.inner.context);
        self.with_engine(|engine| {
            Ok(Follow {
                updates: Some(engine.updates.subscribe()),
                context,
            })
        })
    }

    /// The clone's status now.
    pub fn status(&self) -> Result<MeldStatus, MeldError> {
        self.with_engine(|engine| {
            Ok(MeldStatus {
                ticks: engine.suset.clock().ticks(),
                ..*engine.status.borrow()
            })
        })
    }

    /// A watch of the clone's liveness (`online`, `outdated`, `silo`); it ends when the clone closes.
    pub fn status_changes(&self) -> Result<watch::Receiver<MeldStatus>, MeldError> {
        self.with_engine(|engine| Ok(engine.status.subscribe()))
    }

    /// Closes the clone. Later calls fail with [`MeldError::Closed`] (5032); `follow` streams and
    /// status watches end. Closing twice is harmless.
    pub async fn close(&self) -> Result<(), MeldError> {
        let engine = self.engine()?.take();
        if let Some(engine) = engine {
            engine.status.send_modify(|s| s.online = false);
        }
        Ok(())
    }
}

/// The m-ld-js `delete(id)` request: the subject's properties and every reference to it.
fn delete_request(id: &str) -> Value {
    serde_json::json!({
        "@delete": [
            {"@id": id, "?p": "?o"},
            {"@id": "?s", "?q": {"@id": id}}
        ],
        "@where": {"@union": [
            {"@id": id, "?p": "?o"},
            {"@id": "?s", "?q": {"@id": id}}
        ]}
    })
}

impl<S: Store> Engine<S> {
    fn read_state(&self, context: Arc<Context>) -> MeldReadState<S> {
        MeldReadState {
            state: self.suset.state(),
            context,
            ticks: self.suset.clock().ticks(),
        }
    }

    fn write(&mut self, context: &Context, request: &Value) -> Result<Option<u64>, MeldError> {
        let state = self.suset.state();
        let genid = &mut self.genid;
        let patch =
            m_ld_jrql::write(&StateGraph(&state), context, request, &mut || genid.next_id())?;
        drop(state);
        self.commit(suset::Patch {
            deletes: patch.deletes,
            inserts: patch.inserts,
        })
    }

    /// Commits a patch as one operation and tells subscribers.
    fn commit(&mut self, patch: suset::Patch) -> Result<Option<u64>, MeldError> {
        let Some(commit) = self.suset.transact(patch)? else {
            return Ok(None);
        };
        let ticks = commit.update.ticks;
        // No subscribers is not an error.
        let _ = self.updates.send(Arc::new(commit.update));
        Ok(Some(ticks))
    }
}

/// Exclusive access to a clone's state inside [`MeldClone::write_procedure`].
pub struct MeldWriteState<'a, S: Store> {
    engine: &'a mut Engine<S>,
    context: &'a Arc<Context>,
}

impl<S: Store> MeldWriteState<'_, S> {
    /// The current state, including this procedure's writes so far.
    pub fn state(&self) -> MeldReadState<S> {
        self.engine.read_state(Arc::clone(self.context))
    }

    /// Answers a json-rql read on the current state.
    pub fn read(&self, request: &Value) -> Result<Vec<Value>, MeldError> {
        self.state().read(request)
    }

    /// Applies a json-rql write as one transaction; returns the new clock ticks, or `None` if it
    /// changed nothing.
    pub fn write(&mut self, request: &Value) -> Result<Option<u64>, MeldError> {
        let context = request_context(self.context, request)?;
        self.engine.write(&context, request)
    }
}

/// A subscription to a clone's updates, from [`MeldClone::follow`].
pub struct Follow {
    updates: Option<broadcast::Receiver<Arc<suset::Update>>>,
    context: Arc<Context>,
}

impl Follow {
    /// The next update; `None` once the clone has closed, or after a [`MeldError::Lagged`] error.
    pub async fn next(&mut self) -> Option<Result<MeldUpdate, MeldError>> {
        let updates = self.updates.as_mut()?;
        match updates.recv().await {
            Ok(update) => Some(Ok(render_update(&update, &self.context))),
            Err(broadcast::error::RecvError::Closed) => {
                self.updates = None;
                None
            }
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                self.updates = None;
                Some(Err(MeldError::Lagged(missed)))
            }
        }
    }

    /// The next update if one is already waiting, without waiting.
    pub fn try_next(&mut self) -> Option<Result<MeldUpdate, MeldError>> {
        let updates = self.updates.as_mut()?;
        match updates.try_recv() {
            Ok(update) => Some(Ok(render_update(&update, &self.context))),
            Err(broadcast::error::TryRecvError::Empty) => None,
            Err(broadcast::error::TryRecvError::Closed) => {
                self.updates = None;
                None
            }
            Err(broadcast::error::TryRecvError::Lagged(missed)) => {
                self.updates = None;
                Some(Err(MeldError::Lagged(missed)))
            }
        }
    }

    /// This subscription as a `futures` stream.
    pub fn into_stream(self) -> impl futures::Stream<Item = Result<MeldUpdate, MeldError>> {
        futures::stream::unfold(self, |mut follow| async move {
            follow.next().await.map(|item| (item, follow))
        })
    }
}

fn render_update(update: &suset::Update, context: &Context) -> MeldUpdate {
    MeldUpdate {
        ticks: update.ticks,
        delete: m_ld_jrql::render_subjects(&update.deletes, context),
        insert: m_ld_jrql::render_subjects(&update.inserts, context),
        update: Vec::new(),
        deleted_triples: update.deletes.clone().into(),
        inserted_triples: update.inserts.clone().into(),
    }
}
