/** Worker entry of a running VM: the real Machine behind the session relay. */
import { parentPort } from 'node:worker_threads';
import { Machine } from '../../emulator-core/machine/machine.js';
import { emulatorOptionsFromEnv } from '../options/env-options.js';
import type { ToWorker } from './messages.js';
import { runSessionWorker, type ParentPort } from './worker-host.js';

if (parentPort === null) throw new Error('app/session/worker.js must run in a worker thread');
const port = parentPort;
const adapter: ParentPort = {
  on: (event, listener) => port.on(event, (message: ToWorker) => listener(message)),
  postMessage: (message, transfer) => port.postMessage(message, transfer ?? []),
};
// The core's tuning and debugging switches come from this process's TERRARIUM_* variables,
// parsed when the machine is created (a bad value fails the start with the variable's name).
runSessionWorker(adapter, (config, listener) => Machine.create(config, listener, emulatorOptionsFromEnv(process.env)));
