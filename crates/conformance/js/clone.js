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
const isRead = request => ['@describe', '@select', '@construct'].some(k => k in request);
const lines = readline.createInterface({ input: process.stdin });
let meld = null;
let stopping = false;

async function start({ config, dataDir, mqtt }) {
  try {
    meld = await clone(new ClassicLevel(path.resolve(dataDir)), MqttRemotes, {
      ...config,
      mqtt: { host: mqtt.host, port: mqtt.port }
    });
  } catch (err) {
    emit({ '@type': 'unstarted', err: `${err}` });
    process.exit(0);
  }
  // Report the start once the clone is online, as mld-clone does (it returns once its presence
  // is on the broker): a clone started right after may otherwise find no one present.
  await meld.status.becomes({ online: true });
  emit({ '@type': 'started' });
  meld.follow(update => emit({ '@type': 'updated', body: update }));
  meld.status.subscribe({
    next: status => emit({ '@type': 'status', body: status }),
    complete: () => { if (!stopping) emit({ '@type': 'closed' }); }
  });
}

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
    case 'transact':
      started.then(() => transact(command.requestId, command.request));
      break;
    case 'stop':
      started.then(() => stop(command.requestId));
      break;
    default:
      emit({ '@type': 'error', requestId: command.requestId, err: `No handler for ${command['@type']}` });
  }
});
lines.on('close', () => meld ? meld.close().finally(() => process.exit(0)) : process.exit(0));
