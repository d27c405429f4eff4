// Runs the json-rql differential corpus (corpus.json next to this file) on m-ld-js 0.10 and prints
// one JSON line per case, for crates/m-ld/tests/jrql_vs_js.rs to compare with this engine.
//
// Usage: NODE_PATH=<node_modules with @m-ld/m-ld 0.10.0, memory-level, rxjs>
//        node run-js.js <corpus.json> [case name...]
//
// Each case runs on a fresh genesis clone (domain test.example.org, in-memory backend, a local-only
// remotes stub), configured further by the case's "config" (for example an "@context"). Its setup
// writes run first; then the clone is followed and the request is run: with "op": "ask", as an ask
// (the result is the boolean); otherwise as a read if it has @describe, @select, @construct or
// @distinct, else as a write. Output line per case:
//   {"name": ..., "result": [subjects] | boolean | null, "error": {"status", "message"} | null,
//    "update": <first update notification after the request> | null}
// A setup failure is reported as {"name", "setupError": message}. A request that neither resolves
// nor rejects within the patience (m-ld-js hangs on some patterns) is an error with status "hang".
'use strict';
const fs = require('fs');
const { MemoryLevel } = require('memory-level');
const { clone } = require('@m-ld/m-ld');
const { BehaviorSubject, NEVER } = require('rxjs');

const PATIENCE_MS = 5000;
const UPDATE_WAIT_MS = 300;

// Remotes that never connect: a genesis clone works alone (as a silo).
class LocalOnlyRemotes {
  constructor() {
    this.live = new BehaviorSubject(false);
    this.operations = NEVER;
  }
  setLocal() {}
}

// m-ld-js leaves unhandled rejections behind on some patterns; they must not end the run.
process.on('unhandledRejection', () => {});

const isRead = request =>
  request != null && typeof request == 'object' && !Array.isArray(request) &&
  ['@describe', '@select', '@construct', '@distinct'].some(key => key in request);

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

function withPatience(promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('no answer in time'), { status: 'hang' })),
      PATIENCE_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const errorOf = err => ({
  status: err != null && err.status != null ? err.status : null,
  message: `${err != null && err.message != null ? err.message : err}`
});

// The plain JSON of a value (GraphSubjects arrays lose their extra members).
const plain = value => JSON.parse(JSON.stringify(value));

async function runCase(testCase) {
  const out = { name: testCase.name, result: null, error: null, update: null };
  const meld = await clone(new MemoryLevel(), LocalOnlyRemotes, {
    '@id': 'test', '@domain': 'test.example.org', genesis: true, logLevel: 'error',
    ...(testCase.config || {})
  });
  let hung = false;
  try {
    for (const write of testCase.setup || []) {
      try {
        await withPatience(meld.write(write));
      } catch (err) {
        hung = err.status === 'hang';
        return { name: testCase.name, setupError: errorOf(err).message };
      }
    }
    const updates = [];
    meld.follow(update => updates.push(plain(update)));
    try {
      if (testCase.op === 'ask')
        out.result = await withPatience(meld.ask(testCase.request));
      else if (isRead(testCase.request))
        out.result = plain(await withPatience(meld.read(testCase.request)));
      else
        await withPatience(meld.write(testCase.request));
    } catch (err) {
      hung = err.status === 'hang';
      out.error = errorOf(err);
    }
    if (!hung) {
      await sleep(testCase.expectUpdate ? UPDATE_WAIT_MS : 20);
      if (updates.length > 0)
        out.update = updates[0];
    }
    return out;
  } finally {
    if (!hung)
      await meld.close().catch(() => {});
  }
}

async function main() {
  const [corpusPath, ...only] = process.argv.slice(2);
  const corpus = JSON.parse(fs.readFileSync(corpusPath, 'utf8'));
  for (const testCase of corpus) {
    if (only.length > 0 && !only.includes(testCase.name))
      continue;
    let out;
    try {
      out = await runCase(testCase);
    } catch (err) {
      out = { name: testCase.name, setupError: `clone failed: ${errorOf(err).message}` };
    }
    process.stdout.write(JSON.stringify(out) + '\n');
  }
  process.exit(0);
}

main();
