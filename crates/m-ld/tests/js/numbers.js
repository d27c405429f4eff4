// Prints the literal m-ld-js 0.10 stores for each number and numeric value object below, written
// through json-rql, as the JSON that crates/m-ld/tests/js_numbers.rs checks this engine against (numbers.json here).
//
// Usage: NODE_PATH=<node_modules of the repository's js/package.json, installed by
//        `cargo xtask npm-install`> node numbers.js > numbers.json
'use strict';
const { MemoryLevel } = require('memory-level');
const { clone } = require('@m-ld/m-ld');
const { BehaviorSubject, NEVER } = require('rxjs');

// Remotes that never connect: a genesis clone works alone.
class LocalOnlyRemotes {
  constructor() {
    this.live = new BehaviorSubject(false);
    this.operations = NEVER;
  }
  setLocal() {}
}

// JS expressions of the numbers (JSON cannot carry -0 or the infinities).
const NUMBERS = [
  '1234567890123456.5', '-1234567890123456.5', '1125899906842624.5', '1234567890123457.5',
  '0.1 + 0.2', '5e-324', '1e21', '1.5e300', '-0', '0.5', '1.8', '2', '1e-7', '1.5e-7',
  '123456789012345680000', '9007199254740993', 'Infinity', '-Infinity'
];
const XSD = 'http://www.w3.org/2001/XMLSchema#';
// Value objects with a datatype: numbers, and lexical forms given as strings.
const TYPED = [
  [1.5, 'decimal'], [1e21, 'decimal'], [1e-7, 'decimal'], [2, 'decimal'], [1.5, 'integer'],
  [2, 'double'], [1e-7, 'double'], [1234567890123456.5, 'double'],
  ['1.5', 'double'], ['1234567890123456.5', 'double'], ['Infinity', 'double'],
  ['-Infinity', 'double'], ['INF', 'double'], ['NaN', 'double'], ['1e3', 'double'],
  [' 2.50 ', 'double'], ['1.5abc', 'double'], ['1.5', 'decimal']
];

function bitsOf(v) {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v);
  return view.getBigUint64(0).toString(16).padStart(16, '0');
}

// The literal stored for a written value, or the error m-ld-js answers.
async function storedLiteral(meld, value) {
  try {
    await meld.write({ '@id': 'x', n: value });
  } catch (err) {
    return { error: `${err.message || err}` };
  }
  let literal = null;
  await meld.read(async state => {
    for await (const quad of state.match()) {
      if (quad.predicate.value.endsWith('#n'))
        literal = { value: quad.object.value, datatype: quad.object.datatype.value };
    }
  });
  await meld.write({ '@delete': { '@id': 'x', n: '?n' }, '@where': { '@id': 'x', n: '?n' } });
  return literal;
}

(async () => {
  const meld = await clone(new MemoryLevel(), LocalOnlyRemotes, {
    '@id': 'numbers', '@domain': 'test.example.org', genesis: true, logLevel: 'error'
  });
  const out = { numbers: [], typed: [] };
  for (const js of NUMBERS) {
    const v = eval(js);
    out.numbers.push({ js, bits: bitsOf(v), string: String(v), literal: await storedLiteral(meld, v) });
  }
  for (const [value, type] of TYPED) {
    const object = { '@value': value, '@type': `${XSD}${type}` };
    out.typed.push({ json: JSON.stringify(object), literal: await storedLiteral(meld, object) });
  }
  await meld.close();
  console.log(JSON.stringify(out, null, 1));
})().catch(err => { console.error(err); process.exit(1); });
