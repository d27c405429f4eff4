// A m-ld-js 0.10 clone as an OS process, speaking the clone process protocol of
// m_ld_conformance::protocol (JSON lines: commands on stdin, events on stdout), so that the
// orchestrator can run mixed colonies of Rust and JavaScript clones.
//
// Usage: node clone.js <node_modules dir holding @m-ld/m-ld 0.10.0, mqtt, async-mqtt, classic-level>
'use strict';
const path = require('path');
const readline = require('readline');
module.paths.unshift(process.argv[2]);
const { clone } = require('@m-ld/m-ld');
const { MqttRemotes } = require('@m-ld/m-ld/ext/mqtt');
const { ClassicLevel } = require('classic-level');

const emit = event => process.stdout.write(JSON.stringify(event) + '\n');
// m-ld-js logs info and debug through the console's stdout methods: stdout carries the clone
// protocol, so with MLD_JS_LOG set they go to the log (stderr) instead.
if (process.env.MLD_JS_LOG)
  for (const method of ['log', 'info', 'debug', 'trace'])
    console[method] = (...args) => console.error(...args);
// With RUST_LOG mentioning mld_clone=debug (as for mld-clone), events also go to the clone's log.
const debug = /mld_clone=(debug|trace)/.test(process.env.RUST_LOG || '');
const log = (...args) => { if (debug) console.error(new Date().toISOString(), 'clone.js', ...args); };
const isRead = request => ['@describe', '@select', '@construct'].some(k => k in request);
const lines = readline.createInterface({ input: process.stdin });
let meld = null;
let stopping = false;

async function start({ config, dataDir, mqtt }) {
  try {
    meld = await clone(new ClassicLevel(path.resolve(dataDir)), MqttRemotes, {
      ...config,
      // m-ld-js's own log level (its default is 'info'), for diagnosing a failed spec.
      ...(process.env.MLD_JS_LOG ? { logLevel: process.env.MLD_JS_LOG } : {}),
      mqtt: { host: mqtt.host, port: mqtt.port }
    });
  } catch (err) {
    emit({ '@type': 'unstarted', err: `${err}` });
    process.exit(0);
  }
  // A genesis clone reports its start once its presence is on the broker, as mld-clone does: a
  // clone started right after may otherwise find no one present (m-ld-js goes online before it
  // publishes its presence record, so watch the record itself). Any other clone reports it as
  // soon as it is open, as m-ld-js's own compliance clone does: specs that restart a clone
  // listen for its exchanges with peers only once the start is reported.
  // Updates and statuses that come meanwhile (a rev-up may already be under way) are held
  // back, to follow the 'started' event.
  log('clone() resolved');
  const held = [];
  let report = event => held.push(event);
  meld.follow(update => {
    log('updated', JSON.stringify(update));
    report({ '@type': 'updated', body: update });
  });
  meld.status.subscribe({
    next: status => report({ '@type': 'status', body: status }),
    complete: () => { if (!stopping) report({ '@type': 'closed' }); }
  });
  if (config.genesis) {
    await meld.status.becomes({ online: true });
    await presenceRecorded(config['@domain'], config['@id'], mqtt);
  }
  log(`started (${held.length} events held)`);
  emit({ '@type': 'started' });
  held.forEach(emit);
  report = emit;
}

// Resolves once the broker holds the retained presence record of clone `id` (m-ld-js
// MqttPresence: `__presence/<domain>/<id>` = {"<id>": "<domain>/control"}), or after 10 s.
async function presenceRecorded(domain, id, mqtt) {
  const AsyncMqtt = require('async-mqtt');
  const watcher = await AsyncMqtt.connectAsync({ host: mqtt.host, port: mqtt.port, clientId: `${id}-watch` });
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        console.error(`presence of ${id} not seen on the broker within 10 s`);
        resolve();
      }, 10000);
      watcher.on('message', (_topic, payload) => {
        let record = null;
        try {
          record = JSON.parse(payload.toString());
        } catch (e) {
          return; // a ghost or a leave
        }
        if (record != null && typeof record == 'object' && id in record) {
          clearTimeout(timer);
          resolve();
        }
      });
      watcher.subscribe(`__presence/${domain}/${id}`, { qos: 1 }).catch(reject);
    });
  } finally {
    await watcher.end();
  }
}

/** Transact requests not yet answered. */
const inFlight = new Set();

async function transact(requestId, request) {
  try {
    if (isRead(request)) {
      for (const subject of await meld.read(request))
        emit({ '@type': 'next', requestId, body: subject });
    } else {
      await meld.write(request);
    }
    emit({ '@type': 'complete', requestId });
  } catch (err) {
    emit({ '@type': 'error', requestId, err: `${err}`, status: err.status });
  }
}

async function stop(requestId) {
  stopping = true;
  try {
    await Promise.allSettled([...inFlight]);
    await meld.close();
    emit({ '@type': 'stopped', requestId });
  } catch (err) {
    emit({ '@type': 'error', requestId, err: `${err}` });
  }
  emit({ '@type': 'closed' });
  process.exit(0);
}

let started = null;
lines.on('line', line => {
  let command;
  try {
    command = JSON.parse(line);
  } catch (err) {
    return console.error('ignored command line', line);
  }
  switch (command['@type']) {
    case 'start':
      started = start(command);
      break;
    case 'transact': {
      // Kept until answered: a graceful stop answers what was asked before it.
      const pending = started.then(() => transact(command.requestId, command.request));
      inFlight.add(pending);
      pending.finally(() => inFlight.delete(pending));
      break;
    }
    case 'stop':
      started.then(() => stop(command.requestId));
      break;
    default:
      emit({ '@type': 'error', requestId: command.requestId, err: `No handler for ${command['@type']}` });
  }
});
lines.on('close', () => meld ? meld.close().finally(() => process.exit(0)) : process.exit(0));
