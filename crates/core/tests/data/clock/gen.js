// Generates crates/core/tests/data/clock/vectors.json from the real m-ld-js 0.10.0 engine.
//
// How to regenerate (needs node and npm registry access): the node packages are installed from
// the repository's pinned package.json by `cargo xtask npm-install`; then, from the folder they
// are installed in (the script resolves @m-ld/m-ld and @ably/msgpack-js from its working folder),
//   node <repo>/crates/core/tests/data/clock/gen.js > <repo>/crates/core/tests/data/clock/vectors.json
// The output is deterministic (fixed PRNG seed). crates/core/tests/clock_vectors.rs replays it.
//
// Vector kinds:
//   clocks:   every input TreeClock (and every fork), with its JSON, forHash JSON, forHash msgpack, hash, ticks, ...
//   pairs:    two clocks (indexes into `clocks`) and anyLt / anyNonIdLt / getTicks / update /
//             ticked(other) results
//   tickedTo: ticked(n) results, including rewinds
//   forked:   forked() results
//   gwc:      GlobalClock set / tid / getTicks / tids / anyLt and TreeClock.update(gwc)
//   msgpack:  JSON values and their @ably/msgpack-js encoding
// An operation result is {clock: json} or {gwc: json}, {error: message} when JS throws, or
// {noId: json} when JS returns a TreeClock without an ID leaf (Rust refuses to build those).
'use strict';
const path = require('path');
const main = require.resolve('@m-ld/m-ld', { paths: [process.cwd()] });
const { TreeClock, GlobalClock } = require(path.join(path.dirname(main), 'engine', 'clocks'));
const msgpack = require(require.resolve('@ably/msgpack-js', { paths: [process.cwd()] }));

// Deterministic PRNG (mulberry32).
let seed = 0x6d2d6c64;
function rnd() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = n => Math.floor(rnd() * n);
const pick = arr => arr[int(arr.length)];
const chance = p => rnd() < p;

const BIG = [127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, 1099511627776];
function randTicks() {
  if (chance(0.03)) return pick(BIG);
  if (chance(0.3)) return 0;
  return 1 + int(6);
}

// Count ID leaves in a TreeClock JSON.
function idCount(json) {
  if (typeof json == 'number') return 0;
  if (json.length <= 1) return 1;
  const kids = json.length == 2 ? json : json.slice(1);
  return idCount(kids[0]) + idCount(kids[1]);
}

// A random TreeClock JSON with exactly one ID leaf (if wantId).
function randTree(depth, wantId) {
  if (depth == 0 || chance(0.35)) {
    const t = randTicks();
    return wantId ? (t > 0 ? [t] : []) : t;
  }
  const idLeft = chance(0.5);
  const left = randTree(depth - 1, wantId && idLeft);
  const right = randTree(depth - 1, wantId && !idLeft);
  const t = randTicks();
  return t > 0 ? [t, left, right] : [left, right];
}

const clocks = [];
const clockIndex = new Map();
function addClock(c) {
  const json = c.toJSON();
  const key = JSON.stringify(json);
  if (clockIndex.has(key)) return clockIndex.get(key);
  if (idCount(json) != 1) throw new Error('clock without exactly one ID: ' + key);
  const forHash = c.toJSON('forHash');
  clocks.push({
    json,
    forHash,
    msgpack: Buffer.from(msgpack.encode(forHash)).toString('hex'),
    hash: c.hash,
    ticks: c.ticks,
    nonIdTicks: c.nonIdTicks,
    isZeroId: c.isZeroId,
    isId: c.isId,
    deepTicks: c.deepTicks,
  });
  clockIndex.set(key, clocks.length - 1);
  return clocks.length - 1;
}

function result(fn) {
  let r;
  try {
    r = fn();
  } catch (e) {
    return { error: e.message };
  }
  if (r instanceof TreeClock) {
    const json = r.toJSON();
    if (idCount(json) != 1) return { noId: json };
    return { clock: json };
  } else if (r instanceof GlobalClock) {
    return { gwc: r.toJSON() };
  } else {
    return r === undefined ? null : r;
  }
}

const pairs = [], tickedTo = [], forked = [], gwcs = [];

function addPair(a, b) {
  const ai = addClock(a), bi = addClock(b);
  pairs.push({
    a: ai,
    b: bi,
    anyLt: a.anyLt(b),
    anyNonIdLt: a.anyNonIdLt(b),
    getTicks: result(() => a.getTicks(b)),
    update: result(() => a.update(b)),
    tickedLike: result(() => a.ticked(b)),
  });
}

function addTickedTo(c) {
  const n = int(c.ticks + 4);
  tickedTo.push({ c: addClock(c), n, result: result(() => c.ticked(n)) });
}

function addForked(c) {
  const { left, right } = c.forked();
  forked.push({ c: addClock(c), left: left.toJSON(), right: right.toJSON() });
  addClock(left);
  addClock(right);
}

function addGwc(gwc, time, tid) {
  const ti = addClock(time);
  const v = {
    gwc: gwc.toJSON(),
    time: ti,
    set: result(() => tid === undefined ? gwc.set(time) : gwc.set(time, tid)),
    getTicks: result(() => gwc.getTicks(time)),
    tid: result(() => gwc.tid(time)),
    tids: [...gwc.tids()],
    anyLt: gwc.anyLt(time),
    timeAnyLt: time.anyLt(gwc),
    timeUpdate: result(() => time.update(gwc)),
  };
  if (tid !== undefined) v.setTid = tid;
  gwcs.push(v);
  return v.set.gwc ? GlobalClock.fromJSON(v.set.gwc) : gwc;
}

// 1. Simulated process groups: ticks, forks and message exchange, with a GWC per group.
for (let sim = 0; sim < 10; sim++) {
  let procs = [TreeClock.GENESIS];
  const history = [TreeClock.GENESIS];
  let gwc = GlobalClock.GENESIS;
  for (let step = 0; step < 35; step++) {
    const i = int(procs.length);
    const r = rnd();
    if (r < 0.35) { // local write: tick and publish
      procs[i] = procs[i].ticked();
      if (chance(0.7)) gwc = addGwc(gwc, procs[i]);
    } else if (r < 0.5 && procs.length < 7) { // a new clone forks from this one
      const { left, right } = procs[i].forked();
      procs[i] = left;
      procs.push(right);
    } else if (procs.length > 1) { // receive from another process, apply (two ticks)
      let j = int(procs.length - 1);
      if (j >= i) j++;
      addPair(procs[i], procs[j]);
      procs[i] = procs[i].update(procs[j]).ticked().ticked();
      if (chance(0.4)) gwc = addGwc(gwc, procs[i]); // e.g. a constraint or the next write
    } else {
      procs[i] = procs[i].ticked();
    }
    history.push(procs[i]);
  }
  for (let k = 0; k < 15; k++) addPair(pick(history), pick(history));
  for (let k = 0; k < 8; k++) addTickedTo(pick(history));
  for (let k = 0; k < 4; k++) addForked(pick(history));
  for (let k = 0; k < 6; k++) {
    const time = pick(history);
    const r = rnd();
    addGwc(gwc, time, r < 0.2 ? '!blocked!' : r < 0.4 ? pick(history).hash : undefined);
  }
  for (const p of procs) addClock(p);
}

// 2. Random clock trees, to reach odd corners (zero ticks, collapsing forks, big numbers).
const randoms = [];
for (let k = 0; k < 150; k++) randoms.push(TreeClock.fromJson(randTree(1 + int(4), true)));
for (const c of randoms) addClock(c);
for (let k = 0; k < 200; k++) addPair(pick(randoms), pick(randoms));
for (let k = 0; k < 60; k++) addTickedTo(pick(randoms));
for (let k = 0; k < 30; k++) addForked(pick(randoms));
// Random GWCs: set a random clock, then probe with other random clocks.
for (let k = 0; k < 30; k++) {
  let gwc = GlobalClock.GENESIS;
  const base = pick(randoms);
  gwc = GlobalClock.fromJSON([base.localTicks, gwc.toJSON()[1]]);
  gwc = addGwc(gwc, base);
  addGwc(gwc, pick(randoms), chance(0.2) ? '!blocked!' : undefined);
}

// 3. msgpack dialect: JSON values and the JS encoding.
function randString() {
  const lens = [0, 1, 5, 31, 32, 33, 255, 256, 300];
  const len = chance(0.85) ? int(12) : pick(lens);
  const alphabet = 'abcXYZ019 _-@#é漢😀';
  let s = '';
  while (s.length < len) s += pick([...alphabet]);
  return s;
}
function randNumber() {
  return pick([
    () => int(200), () => -int(200), () => int(70000), () => -int(70000),
    () => pick([2 ** 31, 2 ** 32, 2 ** 32 + 5, 2 ** 40, 2 ** 53 - 1, -(2 ** 31), -(2 ** 31) - 1,
      -(2 ** 40), 1e21, -1e21, 2 ** 64, 2 ** 63]),
    () => Math.round(rnd() * 1e6) / 1000 - 500, () => rnd(), () => -rnd() * 1e-10,
  ])();
}
function randValue(depth) {
  const r = rnd();
  if (depth > 0 && r < 0.2) {
    const a = [];
    for (let k = int(chance(0.1) ? 20 : 5); k > 0; k--) a.push(randValue(depth - 1));
    return a;
  } else if (depth > 0 && r < 0.4) {
    const o = {};
    for (let k = int(chance(0.1) ? 20 : 5); k > 0; k--) o[randString()] = randValue(depth - 1);
    return o;
  } else if (r < 0.6) {
    return randNumber();
  } else if (r < 0.8) {
    return randString();
  } else {
    return pick([null, true, false]);
  }
}
const msgpacks = [];
for (let k = 0; k < 100; k++) {
  // Round-trip through JSON text so the vector holds exactly what the Rust side parses.
  const value = JSON.parse(JSON.stringify(randValue(3)));
  msgpacks.push({ json: value, hex: Buffer.from(msgpack.encode(value)).toString('hex') });
}

process.stdout.write(JSON.stringify({
  generator: 'crates/core/tests/data/clock/gen.js with @m-ld/m-ld 0.10.0, @ably/msgpack-js 0.4.1',
  clocks, pairs, tickedTo, forked, gwc: gwcs, msgpack: msgpacks,
}) + '\n');
