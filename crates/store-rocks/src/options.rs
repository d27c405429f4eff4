//! The tuning and durability knobs of a [`RocksStore`](crate::RocksStore).
//!
//! Owns [`RocksOptions`] and their translation into RocksDB's own option objects. It must not
//! open or touch any directory (that is `dir` and `store`).

use rocksdb::{
    BlockBasedOptions, Cache, DBCompressionType, DBRecoveryMode, LogLevel, Options, WriteOptions,
};

const MIB: usize = 1 << 20;

/// How a [`RocksStore`](crate::RocksStore) opens its directory: durability and memory bounds.
///
/// The defaults keep one clone of about 100,000 triples under roughly 50 MiB of resident memory
/// (see the crate README for the budget) and survive a crash of the process, but not of the
/// machine: set [`sync`](RocksOptions::sync) for power-loss safety.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RocksOptions {
    /// Whether each write is synced to the device (`fdatasync` of the write-ahead log) before it
    /// returns. Off (the default), a returned write is in the operating system's cache: it
    /// survives the process being killed (`kill -9`, a panic, an abort) but may be lost if the
    /// machine loses power or the kernel crashes. On, it survives that too, at the cost of one
    /// device flush per transaction (typically 0.1–10 ms, depending on the device).
    pub sync: bool,
    /// The block cache (data, index and filter blocks read from table files), in bytes.
    pub block_cache_bytes: usize,
    /// The size of one in-memory write buffer (memtable) before it is flushed to a table file, in
    /// bytes (at least 64 KiB).
    pub write_buffer_bytes: usize,
    /// The most write buffers held at once (the active one plus those being flushed; at least 2).
    pub max_write_buffers: i32,
    /// The most table files kept open at once; `-1` keeps all open.
    pub max_open_files: i32,
    /// The most background flush and compaction jobs running at once (at least 1).
    pub background_jobs: i32,
}

impl Default for RocksOptions {
    fn default() -> Self {
        RocksOptions {
            sync: false,
            block_cache_bytes: 8 * MIB,
            write_buffer_bytes: 4 * MIB,
            max_write_buffers: 2,
            max_open_files: 64,
            background_jobs: 2,
        }
    }
}

impl RocksOptions {
    /// The default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// These options with [`sync`](RocksOptions::sync) set.
    pub fn with_sync(mut self, sync: bool) -> Self {
        self.sync = sync;
        self
    }

    /// These options with [`block_cache_bytes`](RocksOptions::block_cache_bytes) set.
    pub fn with_block_cache_bytes(mut self, bytes: usize) -> Self {
        self.block_cache_bytes = bytes;
        self
    }

    /// These options with [`write_buffer_bytes`](RocksOptions::write_buffer_bytes) set.
    pub fn with_write_buffer_bytes(mut self, bytes: usize) -> Self {
        self.write_buffer_bytes = bytes;
        self
    }

    /// RocksDB's database options for these settings; `create` allows creating a new database.
    pub(crate) fn db_options(&self, create: bool) -> Options {
        let mut opts = Options::default();
        opts.create_if_missing(create);
        opts.set_error_if_exists(false);
        opts.set_paranoid_checks(true);
        // After a crash, recover every complete write in the log and drop only a torn tail
        // (which cannot hold an acknowledged write: that was fully written before returning).
        opts.set_wal_recovery_mode(DBRecoveryMode::PointInTime);
        opts.set_write_buffer_size(self.write_buffer_bytes.max(64 * 1024));
        opts.set_max_write_buffer_number(self.max_write_buffers.max(2));
        opts.set_max_open_files(self.max_open_files);
        opts.set_max_background_jobs(self.background_jobs.max(1));
        // The only codec built in (see Cargo.toml): cheap, and keys with shared IRIs squeeze well.
        opts.set_compression_type(DBCompressionType::Lz4);
        // RocksDB's own info log: keep it small, with warnings and errors only (at the info
        // level it logs every flush and compaction, and outgrows the data of a small clone).
        opts.set_log_level(LogLevel::Warn);
        opts.set_keep_log_file_num(2);
        opts.set_max_log_file_size(MIB);
        opts.set_stats_dump_period_sec(0);
        opts.set_stats_persist_period_sec(0);

        let mut table = BlockBasedOptions::default();
        let cache = Cache::new_lru_cache(self.block_cache_bytes);
        table.set_block_cache(&cache);
        // Index and filter blocks live in (and are bounded by) the block cache, rather than
        // growing with the data; level-0 ones are pinned as they are read on every lookup.
        table.set_cache_index_and_filter_blocks(true);
        table.set_pin_l0_filter_and_index_blocks_in_cache(true);
        table.set_bloom_filter(10.0, false);
        table.set_optimize_filters_for_memory(true);
        opts.set_block_based_table_factory(&table);
        opts
    }

    /// RocksDB's options for one write.
    pub(crate) fn write_options(&self) -> WriteOptions {
        let mut w = WriteOptions::default();
        w.set_sync(self.sync);
        w.disable_wal(false);
        w
    }
}
