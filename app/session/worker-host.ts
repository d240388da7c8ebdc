/**
 * The worker side of a session: creates one machine, relays its events to the parent and
 * applies the parent's commands. The machine factory is a parameter so the same relay runs
 * the real Machine (worker.ts) and test doubles.
 */
import type { MachineConfig, MachineListener, PortForward, ScreenUpdate } from '../../emulator-core/machine/types.js';
import { EmulatorError } from '../../emulator-core/errors.js';
import { describeForward } from '../../emulator-core/net/forward-rules.js';
import { AppError, toErrorInfo } from '../errors.js';
import type { FromWorker, MachineLike, ToWorker } from './messages.js';

export type MachineFactory = (config: MachineConfig, listener: MachineListener) => Promise<MachineLike>;

/** The slice of worker_threads' parentPort this needs. */
export interface ParentPort {
  on(event: 'message', listener: (message: ToWorker) => void): unknown;
  postMessage(message: FromWorker, transfer?: readonly ArrayBuffer[]): void;
}

export function runSessionWorker(port: ParentPort, create: MachineFactory): void {
  let machine: MachineLike | null = null;
  // Settles once create() has: a forwards change sent while the VM starts waits for it.
  let machineReady!: (m: MachineLike | null) => void;
  const ready = new Promise<MachineLike | null>((resolve) => (machineReady = resolve));
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
    networkChanged: (status) => post({ type: 'net', status }),
  };

  const start = async (config: MachineConfig) => {
    try {
      machine = await create(config, listener);
      machineReady(machine);
      post({ type: 'state', state: 'running' });
      // The forwards listening from the start, before the guest asks for its lease.
      const net = machine.netStatus?.() ?? null;
      if (net !== null) post({ type: 'net', status: net });
      const exit = await machine.run();
      post({ type: 'exit', exit });
    } catch (error) {
      machineReady(null);
      post({ type: 'failed', error: toErrorInfo(error) });
    }
  };

  const setForwards = async (requestId: number, forwards: PortForward[]) => {
    try {
      const m = await ready;
      if (m === null) throw new AppError('CONFLICT', 'The VM is not running.');
      if (m.setForwards === undefined) {
        throw new AppError('UNSUPPORTED', 'This build cannot change the port forwards of a running VM.', { hint: 'Stop the VM and save again: the forwards apply when it starts.' });
      }
      await m.setForwards(forwards);
      post({ type: 'forwardsSet', requestId, error: null });
    } catch (error) {
      const rule = faultyRule(error, forwards);
      post({ type: 'forwardsSet', requestId, error: toErrorInfo(error), ...(rule === undefined ? {} : { rule }) });
    }
  };

  port.on('message', (message) => {
    if (message.type === 'start') {
      void start(message.config);
      return;
    }
    if (message.type === 'setForwards') {
      void setForwards(message.requestId, message.forwards);
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

/**
 * Which rule a machine's error is about: from its context (`rule`, an index, or the
 * `hostPort` and `protocol` it could not listen on), else from the rule its message names
 * (the NAT's errors begin "port forward <describeForward(rule)>:").
 */
function faultyRule(error: unknown, forwards: PortForward[]): number | undefined {
  if (!(error instanceof EmulatorError)) return undefined;
  const { rule, hostPort, protocol } = error.context;
  if (typeof rule === 'number' && Number.isInteger(rule) && rule >= 0 && rule < forwards.length) return rule;
  const index =
    typeof hostPort === 'number'
      ? forwards.findIndex((f) => f.hostPort === hostPort && (typeof protocol !== 'string' || f.protocol === protocol))
      : forwards.findIndex((f) => error.message.startsWith(`port forward ${describeForward(f)}:`));
  return index < 0 ? undefined : index;
}

/** The machine may reuse its buffers; the copy is ours to transfer. */
function cloneUpdate(update: ScreenUpdate): ScreenUpdate {
  return { width: update.width, height: update.height, x: update.x, y: update.y, w: update.w, h: update.h, rgba: update.rgba.slice() };
}
