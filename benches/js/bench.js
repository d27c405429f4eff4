// The replication workloads of benches/replication/workloads.rs, for m-ld-js 0.10, so that
// `cargo xtask bench-compare` measures both engines side by side on the same broker. Keep the
// two definitions in step: same subjects, same batches, same start and stop points.
//
// Usage: NODE_PATH=<node_modules with @m-ld/m-ld 0.10.0, memory-level, mqtt 4, async-mqtt>
//        node bench.js --port N [--runs N] [--quick] [WORKLOAD...]
//
// Workloads: latency (A write -> B follow update, 1,000 sequential writes, p50/p99), converge
// (A writes 10,000 subjects flat out, until B has them all), snapshot (a new clone joins by
// snapshot of 20,000 triples), revup (B reopens after missing 1,000 operations). Prints one line
// {"engine":"js","metric":...,"ms":...} per figure per run on stdout; logs go to stderr.
'use strict';
// MLD_BENCH_NODELAY=1 sets TCP_NODELAY on every socket (mqtt.js leaves Nagle's algorithm on).
if (process.env.MLD_BENCH_NODELAY === '1') {
  const net = require('net');
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (...args) {
    this.setNoDelay(true);
    return connect.apply(this, args);
  };
}
const { performance } = require('perf_hooks');
const { randomBytes } = require('crypto');
const { MemoryLevel } = require('memory-level');
const { clone } = require('@m-ld/m-ld');
const { MqttRemotes } = require('@m-ld/m-ld/ext/mqtt');
const mqtt = require('mqtt');

const WORKLOADS = ['latency', 'converge', 'snapshot', 'revup'];
const FULL = { latency: 1000, converge: 10000, snapshot: 10000, revup: 1000 };
const QUICK = { latency: 100, converge: 1000, snapshot: 1000, revup: 100 };
const PATIENCE_MS = 600000; // m-ld-js needs tens of seconds for some workloads
const POLL_MS = 1;
const LOAD_BATCH = 1000;

function subject(n) {
  return { '@id': `s${n}`, name: `Name ${n}`, n };
}

class Bench {
  constructor(port) {
    this.port = port;
    this.domain = `j${randomBytes(8).toString('hex')}.bench.m-ld.org`;
  }

  // Opens a clone. A genesis clone is also awaited (untimed) until the broker holds its
  // presence: m-ld-js reports a clone ready before then, and a clone joining meanwhile would find
  // the domain empty. Joining clones are not, as the timed part of a workload opens them.
  async open(id, genesis, backend = new MemoryLevel()) {
    const present = genesis ? this.presence(id) : Promise.resolve();
    const meld = await clone(backend, MqttRemotes, {
      '@id': id,
      '@domain': this.domain,
      genesis,
      mqtt: { host: '127.0.0.1', port: this.port },
      logLevel: process.env.MLD_JS_LOG || 'warn'
    });
    await withPatience(present, `${id} never became present`);
    return meld;
  }

  presence(id) {
    const topic = `__presence/${this.domain}/${id}`;
    return new Promise((resolve, reject) => {
      const client = mqtt.connect({ host: '127.0.0.1', port: this.port });
      client.on('error', reject);
      client.on('message', (_topic, payload) => {
        if (payload.length && payload.toString() !== '-') {
          client.end(true);
          resolve();
        }
      });
      client.subscribe(topic, { qos: 1 });
    });
  }

  async latency(writes) {
    const a = await this.open('a', true);
    const b = await this.open('b', false);
    await b.status.becomes({ outdated: false });
    let waiting = null;
    b.follow(update => {
      if (waiting && update['@insert'].some(s => s['@id'] === waiting.id)) {
        const { resolve } = waiting;
        waiting = null;
        resolve();
      }
    });
    const samples = [];
    for (let n = 0; n < writes; n++) {
      const request = subject(n);
      const seen = new Promise(resolve => waiting = { id: request['@id'], resolve });
      const start = performance.now();
      await a.write(request);
      await withPatience(seen, `B did not see write ${n}`);
      samples.push(performance.now() - start);
    }
    await a.close();
    await b.close();
    samples.sort((x, y) => x - y);
    return [['latency_p50', percentile(samples, 50)], ['latency_p99', percentile(samples, 99)]];
  }

  async converge(subjects) {
    const a = await this.open('a', true);
    const b = await this.open('b', false);
    await b.status.becomes({ outdated: false });
    const expected = 2 * subjects;
    let seen = 0;
    let done;
    const converged = new Promise(resolve => done = resolve);
    b.follow(update => {
      seen += tripleCount(update['@insert']);
      if (seen >= expected) done(performance.now());
    });
    const requests = [];
    for (let n = 0; n < subjects; n++) requests.push(subject(n));
    const start = performance.now();
    for (const request of requests) await a.write(request);
    const end = await withPatience(converged, 'B did not converge in time');
    await a.close();
    await b.close();
    return [['converge', end - start]];
  }

  async snapshot(subjects) {
    const a = await this.open('a', true);
    for (let next = 0; next < subjects; next += LOAD_BATCH) {
      const batch = [];
      for (let n = next; n < Math.min(next + LOAD_BATCH, subjects); n++) batch.push(subject(n));
      await a.write(batch);
    }
    const start = performance.now();
    const b = await this.open('b', false);
    await upToDate(b, `s${subjects - 1}`);
    const elapsed = performance.now() - start;
    await a.close();
    await b.close();
    return [['snapshot', elapsed]];
  }

  async revup(ops) {
    const a = await this.open('a', true);
    const backend = new MemoryLevel();
    let b = await this.open('b', false, backend);
    await a.write({ '@id': 'start', name: 'Start' });
    await upToDate(b, 'start');
    await b.close();
    for (let n = 0; n < ops; n++) await a.write(subject(n));
    const start = performance.now();
    await backend.open(); // closing the clone closed its backend
    b = await this.open('b', false, backend);
    await upToDate(b, `s${ops - 1}`);
    const elapsed = performance.now() - start;
    await a.close();
    await b.close();
    return [['revup', elapsed]];
  }
}

function tripleCount(subjects) {
  let count = 0;
  for (const s of subjects)
    for (const [key, value] of Object.entries(s))
      if (key !== '@id') count += Array.isArray(value) ? value.length : 1;
  return count;
}

// Nearest rank, as the Rust side computes it.
function percentile(sorted, p) {
  if (!sorted.length) return 0;
  const rank = Math.max(1, Math.ceil(p * sorted.length / 100));
  return sorted[Math.min(rank, sorted.length) - 1];
}

function withPatience(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) =>
    timer = setTimeout(() => reject(new Error(what)), PATIENCE_MS));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function upToDate(meld, id) {
  const deadline = performance.now() + PATIENCE_MS;
  await withPatience(meld.status.becomes({ outdated: false }), `${id}: still outdated`);
  while ((await meld.get(id)) == null) {
    if (performance.now() > deadline) throw new Error(`never held ${id}`);
    await new Promise(resolve => setTimeout(resolve, POLL_MS));
  }
}

async function main(args) {
  let port = null, runs = 1, sizes = FULL;
  const selected = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--port') port = Number(args[++i]);
    else if (arg === '--runs') runs = Number(args[++i]);
    else if (arg === '--quick') sizes = QUICK;
    else if (WORKLOADS.includes(arg)) selected.push(arg);
    else throw new Error(`unknown argument ${arg}`);
  }
  if (!port) throw new Error('usage: node bench.js --port N [--runs N] [--quick] [WORKLOAD...]');
  for (let run = 0; run < runs; run++) {
    for (const workload of selected.length ? selected : WORKLOADS) {
      const figures = await new Bench(port)[workload](sizes[workload]);
      for (const [metric, ms] of figures)
        process.stdout.write(JSON.stringify({ engine: 'js', metric, ms }) + '\n');
    }
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  err => { console.error(err); process.exit(1); });
