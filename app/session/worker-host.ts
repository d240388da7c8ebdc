/**
 * The worker side of a session: creates one machine, relays its events to the parent and
 * applies the parent's commands. The machine factory is a parameter so the same relay runs
 * the real Machine (worker.ts) and test doubles.
 */
import type { MachineConfig, MachineListener, ScreenUpdate } from '../../emulator-core/machine/types.js';
import { toErrorInfo } from '../errors.js';
import type { FromWorker, MachineLike, ToWorker } from './messages.js';

export type MachineFactory = (config: MachineConfig, listener: MachineListener) => Promise<MachineLike>;

/** The slice of worker_threads' parentPort this needs. */
export interface ParentPort {
  on(event: 'message', listener: (message: ToWorker) => void): unknown;
  postMessage(message: FromWorker, transfer?: readonly ArrayBuffer[]): void;
}

export function runSessionWorker(port: ParentPort, create: MachineFactory): void {
  let machine: MachineLike | null = null;
  const post = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

  const listener: MachineListener = {
    serialOutput: (bytes) => {
      const copy = bytes.slice();
      post({ type: 'serial', bytes: copy }, [copy.buffer]);
    },
    accelChosen: (accel, why) => post({ type: 'accel', accel, why }),
    stateChanged: (state) => post({ type: 'state', state }),
    screenUpdate: (update) => {
      const copy = cloneUpdate(update);
      post({ type: 'screen', update: copy }, [copy.rgba.buffer as ArrayBuffer]);
    },
    log: (line) => post({ type: 'log', line }),
  };

  const start = async (config: MachineConfig) => {
    try {
      machine = await create(config, listener);
      post({ type: 'state', state: 'running' });
      const exit = await machine.run();
      post({ type: 'exit', exit });
    } catch (error) {
      post({ type: 'failed', error: toErrorInfo(error) });
    }
  };

  port.on('message', (message) => {
    if (message.type === 'start') {
      void start(message.config);
      return;
    }
    if (message.type === 'screenshot') {
      const update = machine?.screenshot() ?? null;
      const copy = update === null ? null : cloneUpdate(update);
      post({ type: 'screenshot', requestId: message.requestId, update: copy }, copy === null ? [] : [copy.rgba.buffer as ArrayBuffer]);
      return;
    }
    if (machine === null) return; // commands before the machine exists have nothing to act on
    switch (message.type) {
      case 'pause':
        machine.pause();
        post({ type: 'state', state: 'paused' });
        break;
      case 'resume':
        machine.resume();
        post({ type: 'state', state: 'running' });
        break;
      case 'reset':
        machine.reset();
        break;
      case 'powerOff':
        machine.powerOff();
        break;
      case 'acpiShutdown':
        machine.acpiShutdown();
        break;
      case 'key':
        machine.sendKey(message.code, message.down);
        break;
      case 'pointer':
        machine.sendPointer(message.dx, message.dy, message.buttons);
        break;
      case 'serial':
        machine.sendSerial(message.bytes);
        break;
      case 'cdrom':
        machine.changeCdrom(message.path);
        break;
    }
  });
}

/** The machine may reuse its buffers; the copy is ours to transfer. */
function cloneUpdate(update: ScreenUpdate): ScreenUpdate {
  return { width: update.width, height: update.height, x: update.x, y: update.y, w: update.w, h: update.h, rgba: update.rgba.slice() };
}
