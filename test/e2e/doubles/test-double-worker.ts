/** TEST DOUBLE worker: the session relay around TestDoubleMachine instead of the real Machine. */
import { parentPort } from 'node:worker_threads';
import type { ToWorker } from '../../../app/session/messages.js';
import { runSessionWorker } from '../../../app/session/worker-host.js';
import { TestDoubleMachine } from './test-double-machine.js';

if (parentPort === null) throw new Error('test-double-worker must run in a worker thread');
const port = parentPort;
runSessionWorker(
  {
    on: (event, listener) => port.on(event, (message: ToWorker) => listener(message)),
    postMessage: (message, transfer) => port.postMessage(message, transfer ?? []),
  },
  (config, listener) => TestDoubleMachine.create(config, listener),
);
