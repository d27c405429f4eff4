// A m-ld-js 0.10 clone on an MQTT broker, driven by the Rust interop tests
// (crates/mqtt/tests/it/interop.rs) over stdin and stdout.
//
// Usage: NODE_PATH=<node_modules with @m-ld/m-ld 0.10.0, memory-level, mqtt 4, async-mqtt>
//        node peer.js <port> <domain> <id> <genesis: true|false>
//
// Each stdin line is a command {"cmd": ..., "arg": ...}; each answer is one stdout line
// "@@" + JSON, {"ok": result} or {"error": message}, in command order. Commands:
//   open            start the clone (again, on the same in-memory backend) and wait until it
//                   is up to date; answers its status
//   write <req>     a json-rql write
//   get [ids]       the subjects with these ids, {id: subject | null}
//   status          the clone's status
//   close           close the clone, keeping its data for a later open
'use strict';
const readline = require('readline');
const { MemoryLevel } = require('memory-level');
const { clone } = require('@m-ld/m-ld');
const { MqttRemotes } = require('@m-ld/m-ld/ext/mqtt');

const [port, domain, id, genesis] = process.argv.slice(2);
const backend = new MemoryLevel();
let meld = null;
let opened = false;

const commands = {
  async open() {
    if (opened) await backend.open();
    opened = true;
    meld = await clone(backend, MqttRemotes, {
      '@id': id,
      '@domain': domain,
      genesis: genesis === 'true',
      mqtt: { host: '127.0.0.1', port: Number(port) },
      logLevel: process.env.MLD_JS_LOG || 'warn',
      networkTimeout: 5000
    });
    await meld.status.becomes({ outdated: false });
    return meld.status.value;
  },
  async write(request) {
    await meld.write(request);
    return null;
  },
  async get(ids) {
    const subjects = {};
    for (const subjectId of ids)
      subjects[subjectId] = (await meld.get(subjectId)) ?? null;
    return subjects;
  },
  async status() {
    return meld.status.value;
  },
  async close() {
    await meld.close();
    meld = null;
    return null;
  }
};

function answer(json) {
  process.stdout.write('@@' + JSON.stringify(json) + '\n');
}

// Commands run one at a time, in order.
let queue = Promise.resolve();
readline.createInterface({ input: process.stdin }).on('line', line => {
  queue = queue.then(async () => {
    try {
      const { cmd, arg } = JSON.parse(line);
      if (!(cmd in commands)) throw new Error(`unknown command ${cmd}`);
      answer({ ok: (await commands[cmd](arg)) ?? null });
    } catch (e) {
      answer({ error: String((e && e.stack) || e) });
    }
  });
}).on('close', () => queue.then(() => process.exit(0)));
