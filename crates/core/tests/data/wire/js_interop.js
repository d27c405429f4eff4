// Cross-checks the Rust wire codec against the real m-ld-js 0.10.0 engine.
//
// Setup (needs node and npm registry access), as for ../clock/gen.js: the node packages are
// installed from the repository's pinned package.json by `cargo xtask npm-install`; run this
// script from the folder they are installed in (it resolves @m-ld/m-ld from its working folder).
//
// Two modes (`js_interop.js` standing for <repo>/crates/core/tests/data/wire/js_interop.js):
//   node js_interop.js gen > <repo>/crates/core/tests/data/wire/js_ops.json
//       Operations encoded by JS MeldOperation.fromOperation, each with the triples JS itself
//       decodes from them (MeldOperation.fromEncoded). tests/wire_captures.rs replays them.
//   node js_interop.js check < rust_ops.json
//       Decodes operations encoded by Rust (written by the ignored Rust test
//       `export_rust_operations_for_js`, which also writes the triples Rust meant) with
//       MeldOperation.fromEncoded and reports every difference. Exits 1 on any.
//
// Triples are written as {s, p, o} with o = {iri} | {value, datatype, language?, data?}; `data`
// is the base64 (or JSON text) of indirected data attached to a JS literal.
'use strict';
const path = require('path');
const main = require.resolve('@m-ld/m-ld', { paths: [process.cwd()] });
const ext = path.dirname(main);
const { MeldOperation } = require(path.join(ext, 'engine', 'MeldOperation'));
const { MeldEncoder } = require(path.join(ext, 'engine', 'MeldEncoding'));
const { RdfFactory } = require(path.join(ext, 'engine', 'quads'));
const { TreeClock } = require(path.join(ext, 'engine', 'clocks'));
const { jsonDatatype, byteArrayDatatype } = require(path.join(ext, 'datatype'));
const msgpack = require(require.resolve('@ably/msgpack-js', { paths: [process.cwd()] }));

const DOMAIN = 'test.m-ld.org';
const BASE = `http://${DOMAIN}/`;
const XS = 'http://www.w3.org/2001/XMLSchema#';
const RDF = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#';

const rdf = new RdfFactory(BASE);
const indirectedData = datatype =>
  datatype === RDF + 'JSON' ? jsonDatatype :
    datatype === XS + 'base64Binary' ? byteArrayDatatype : undefined;

async function encoder() {
  const e = new MeldEncoder(DOMAIN, rdf, indirectedData);
  await e.initialise();
  return e;
}

function termJson(t) {
  if (t.termType === 'NamedNode') return { iri: t.value };
  if (t.termType === 'Literal') {
    const o = { value: t.value, datatype: t.datatype.value };
    if (t.language) o.language = t.language;
    if (t.typed != null && 'data' in t.typed) {
      const d = t.typed.data;
      o.data = Buffer.isBuffer(d) || d instanceof Uint8Array ?
        Buffer.from(d).toString('base64') : JSON.stringify(d);
    }
    return o;
  }
  return { other: t.termType, value: t.value };
}

function tripleJson(t) {
  return { s: t.subject.value, p: t.predicate.value, o: termJson(t.object) };
}

function opJson(op) {
  return {
    from: op.from,
    time: op.time.toJSON(),
    deletes: op.deletes.map(([t, tids]) => [tripleJson(t), tids]),
    inserts: op.inserts.map(([t, tids]) => [tripleJson(t), tids]),
    principalId: op.principalId,
    agreed: op.agreed == null ? null : [op.agreed.tick, op.agreed.proof]
  };
}

const iri = s => rdf.namedNode(s.includes(':') ? s : BASE + s);
const lit = (v, dt) => rdf.literal(v, rdf.namedNode(XS + dt));
const t = (s, p, o) => rdf.quad(iri(s), iri(p), o);

function triples() {
  const bytes = Buffer.from([1, 2, 3, 255]);
  const json = { a: [1, 'x'], b: null };
  return [
    t('fred', '#name', rdf.literal('Fred')),
    t('fred', '#height', lit('1.8E0', 'double')),
    t('fred', '#two', lit('2.0E0', 'double')),
    t('fred', '#tiny', lit('1.0E-7', 'double')),
    t('fred', '#small', lit('1.5E-7', 'double')),
    t('fred', '#huge', lit('1.0E21', 'double')),
    t('fred', '#long', lit('3.000000000000000444E-1', 'double')),
    t('fred', '#age', lit('40', 'integer')),
    t('fred', '#neg', lit('-5', 'integer')),
    t('fred', '#big', lit('5000000000', 'integer')),
    t('fred', '#padded', lit('007', 'integer')),
    t('fred', '#married', lit('true', 'boolean')),
    t('fred', '#one', lit('1', 'boolean')),
    t('fred', '#when', lit('2024-01-01T00:00:00Z', 'dateTime')),
    t('fred', '#custom', rdf.literal('x', rdf.namedNode(BASE + '#Foo'))),
    t('fred', '#other', rdf.literal('y', rdf.namedNode('http://ex.org/dt'))),
    t('fred', '#bytes', rdf.literal(byteArrayDatatype.getDataId(bytes), byteArrayDatatype, bytes)),
    t('fred', '#json', rdf.literal(jsonDatatype.getDataId(json), jsonDatatype, json)),
    t('fred', '#friend', iri('wilma')),
    t('fred', RDF + 'type', iri('#Person')),
    t('fred', RDF + 'type', iri('http://schema.org/Person')),
    t('fred', 'http://schema.org/name', rdf.literal('Frederick')),
    t('fred', 'http://json-rql.org/#item', rdf.literal('item')),
    t('fred', 'http://json-rql.org/#index', lit('0', 'integer')),
    t('http://ex.org/x?q=1', '#p', iri('urn:x:y')),
    t('.well-known/genid/abc', '#q', iri(BASE)),
    t('a/b', 'http://m-ld.org/RdfLseq/?=3cloneA__________', iri('.well-known/genid/abc')),
  ];
}

async function gen() {
  const e = await encoder();
  const all = triples();
  const t1 = TreeClock.GENESIS.ticked();
  const { left, right } = t1.forked();
  const a = left.ticked().ticked();
  const b = right.ticked();
  const fused = a.ticked().ticked();
  const specs = [
    { name: 'plain inserts', from: a.ticks, time: a, deletes: [], inserts: all.map(tr => [tr, [a.hash]]) },
    { name: 'reified deletes', from: b.ticks, time: b,
      deletes: all.map((tr, i) => [tr, i % 2 ? [a.hash, t1.hash] : [t1.hash]]),
      inserts: all.slice(0, 3).map(tr => [tr, [b.hash]]) },
    { name: 'fused', from: fused.ticks - 2, time: fused,
      deletes: all.slice(3, 6).map(tr => [tr, [t1.hash]]),
      inserts: all.map((tr, i) => [tr, i % 3 ? [fused.hash] : [fused.ticked(fused.ticks - 1).hash, fused.hash]]) },
    { name: 'principal and agreement', from: a.ticks, time: a, deletes: [],
      inserts: all.slice(0, 1).map(tr => [tr, [a.hash]]),
      principalId: BASE + 'alice', agreed: { tick: 3, proof: true } },
    { name: 'empty', from: b.ticks, time: b, deletes: [], inserts: [] },
  ];
  const out = [];
  for (const spec of specs) {
    const op = MeldOperation.fromOperation(e, {
      updates: [], principalId: null, agreed: null, ...spec });
    const bytes = msgpack.encode(op.encoded);
    const back = MeldOperation.fromEncoded(e, msgpack.decode(bytes));
    out.push({ name: spec.name, hex: bytes.toString('hex'), js: opJson(back) });
  }
  console.log(JSON.stringify({
    note: 'Generated by js_interop.js gen with m-ld-js 0.10.0; do not edit.',
    operations: out
  }, null, 1));
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

async function check() {
  const e = await encoder();
  const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
  let bad = 0;
  for (const { hex, rust } of input.operations) {
    let op;
    try {
      op = opJson(MeldOperation.fromEncoded(e, msgpack.decode(Buffer.from(hex, 'hex'))));
    } catch (err) {
      bad++;
      console.log('JS cannot decode', hex.slice(0, 80), err.message);
      continue;
    }
    for (const key of ['from', 'time', 'principalId', 'agreed'])
      if (!same(op[key], rust[key])) {
        bad++;
        console.log(key, 'differs:', JSON.stringify(op[key]), 'vs Rust', JSON.stringify(rust[key]));
      }
    for (const part of ['deletes', 'inserts']) {
      const norm = list => list.map(([tr, tids]) => {
        // Indirected data: compare the data, which Rust holds as the literal's value.
        const o = tr.o.data != null ? { value: tr.o.data, datatype: tr.o.datatype } : tr.o;
        return JSON.stringify([tr.s, tr.p, o, [...tids].sort()]);
      }).sort();
      const js = norm(op[part]), rs = norm(rust[part]);
      const missing = rs.filter(x => !js.includes(x)), extra = js.filter(x => !rs.includes(x));
      for (const m of missing) { bad++; console.log(part, 'JS lacks', m); }
      for (const x of extra) { bad++; console.log(part, 'JS has extra', x); }
    }
  }
  console.log(`${input.operations.length} operations checked, ${bad} differences`);
  process.exit(bad ? 1 : 0);
}

(process.argv[2] === 'check' ? check : gen)().catch(err => {
  console.error(err);
  process.exit(2);
});
