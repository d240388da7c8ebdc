/**
 * `terrarium run`: boot a machine straight from files, headless, with COM1 on the terminal.
 * Exit codes: 0 the guest powered off or halted for good, 1 the guest crashed, 2 bad input
 * (or a host refusal such as memory), 124 --timeout expired.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { EmulatorError } from '../../../emulator-core/errors.js';
import { Machine } from '../../../emulator-core/machine/machine.js';
import type { Accel, MachineConfig, MachineExit } from '../../../emulator-core/machine/types.js';
import type { CliCommand, CliContext, OptionValues } from '../command.js';

export const EXIT_TIMEOUT = 124;

class UsageError extends Error {}

function str(values: OptionValues, key: string): string | undefined {
  const v = values[key];
  return typeof v === 'string' ? v : undefined;
}

function parseMemory(text: string | undefined): number {
  if (text === undefined) return 128;
  const m = /^(\d+)\s*(M|MB|MiB|G|GB|GiB)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`--memory ${text}: give MiB as a whole number (e.g. 256) or a size like 1G`);
  const n = Number(m[1]);
  return /^g/i.test(m[2] ?? '') ? n * 1024 : n;
}

function parseAccel(text: string | undefined): Accel {
  const a = text ?? 'auto';
  if (a !== 'auto' && a !== 'kvm' && a !== 'interpreter') throw new UsageError(`--accel ${a}: choose auto, kvm or interpreter`);
  return a;
}

function parseTimeout(text: string | undefined): number | null {
  if (text === undefined) return null;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--timeout ${text}: give a positive number of seconds`);
  return n;
}

/** Where COM1 output goes. */
interface SerialSink {
  write(bytes: Uint8Array): void;
  close(): Promise<void>;
}

function openSerial(spec: string): SerialSink {
  if (spec === 'none') return { write: () => {}, close: async () => {} };
  if (spec === 'stdio') {
    return {
      write: (bytes) => {
        process.stdout.write(bytes);
      },
      close: async () => {},
    };
  }
  const stream: WriteStream = createWriteStream(spec, { flags: 'w' });
  let failure: Error | null = null;
  stream.on('error', (e) => (failure = e));
  return {
    write: (bytes) => {
      if (failure === null) stream.write(bytes);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        stream.end(() => (failure === null ? resolve() : reject(new EmulatorError('BAD_INPUT', `--serial ${spec}: ${(failure as Error).message}`))));
      }),
  };
}

function fail(ctx: CliContext, message: string, code: number): number {
  ctx.stderr(`terrarium run: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  return code;
}

/** Forward the terminal to COM1. Ctrl-A then X quits, as in QEMU's -nographic. */
function attachStdin(machine: Machine, onQuit: () => void): () => void {
  const stdin = process.stdin;
  const raw = stdin.isTTY === true;
  if (raw) stdin.setRawMode(true);
  let sawCtrlA = false;
  const onData = (chunk: Buffer): void => {
    if (raw) {
      for (const b of chunk) {
        if (sawCtrlA && (b === 0x78 || b === 0x58)) {
          onQuit();
          return;
        }
        sawCtrlA = b === 0x01;
      }
    }
    machine.sendSerial(new Uint8Array(chunk));
  };
  stdin.on('data', onData);
  stdin.resume();
  return () => {
    stdin.off('data', onData);
    if (raw) stdin.setRawMode(false);
    stdin.pause();
  };
}

export const command: CliCommand = {
  name: 'run',
  summary: 'Boot a machine directly from a kernel, firmware, CD or disk image (headless, COM1 on the terminal)',
  usage:
    'run --kernel FILE [--initrd FILE] [--append STRING] [--memory MiB] [--accel auto|interpreter|kvm] [--serial stdio|FILE|none] [--timeout SECONDS]',
  options: {
    kernel: { type: 'string' },
    initrd: { type: 'string' },
    append: { type: 'string' },
    memory: { type: 'string' },
    accel: { type: 'string' },
    serial: { type: 'string' },
    timeout: { type: 'string' },
    clock: { type: 'string' },
  },
  help: {
    kernel: 'Linux bzImage to boot directly',
    initrd: 'initial ramdisk for --kernel',
    append: 'kernel command line',
    memory: 'guest RAM in MiB (default 128)',
    accel: 'auto (default), interpreter or kvm',
    serial: 'where COM1 goes: stdio (default), a file, or none',
    timeout: 'stop after this many seconds with exit code 124',
    clock: 'realtime (default) or virtual (guest time follows executed instructions)',
  },
  async run({ values, positionals }, ctx) {
    let config: MachineConfig;
    let timeout: number | null;
    let serialSpec: string;
    try {
      if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
      const clock = str(values, 'clock') ?? 'realtime';
      if (clock !== 'realtime' && clock !== 'virtual') throw new UsageError(`--clock ${clock}: choose realtime or virtual`);
      config = {
        memoryMiB: parseMemory(str(values, 'memory')),
        accel: parseAccel(str(values, 'accel')),
        kernel: str(values, 'kernel'),
        initrd: str(values, 'initrd'),
        cmdline: str(values, 'append'),
        clock,
        onTripleFault: 'crash',
      };
      timeout = parseTimeout(str(values, 'timeout'));
      serialSpec = str(values, 'serial') ?? 'stdio';
    } catch (e) {
      if (e instanceof UsageError) return fail(ctx, e.message, 2);
      throw e;
    }

    let serial: SerialSink;
    try {
      serial = openSerial(serialSpec);
    } catch (e) {
      return fail(ctx, `--serial ${serialSpec}: ${(e as Error).message}`, 2);
    }

    let machine: Machine;
    try {
      machine = await Machine.create(config, {
        serialOutput: (bytes) => serial.write(bytes),
        accelChosen: (_accel, why) => {
          if (config.accel === 'auto') ctx.stderr(`terrarium run: accelerator ${why}\n`);
        },
      });
    } catch (e) {
      if (e instanceof EmulatorError) return fail(ctx, e.message, e.code === 'INTERNAL' ? 1 : 2);
      throw e;
    }

    let timedOut = false;
    let quit = false;
    const timer =
      timeout === null
        ? null
        : setTimeout(() => {
            timedOut = true;
            machine.powerOff();
          }, timeout * 1000);
    const detach = serialSpec === 'stdio' ? attachStdin(machine, () => ((quit = true), machine.powerOff())) : () => {};
    let exit: MachineExit;
    try {
      exit = await machine.run();
    } catch (e) {
      if (e instanceof EmulatorError) return fail(ctx, e.message, 1);
      throw e;
    } finally {
      if (timer !== null) clearTimeout(timer);
      detach();
      await serial.close();
    }
    if (timedOut) return fail(ctx, `timed out after ${timeout} s`, EXIT_TIMEOUT);
    if (quit) return 0;
    switch (exit.kind) {
      case 'poweroff':
      case 'halt':
        return 0;
      case 'crash':
        return fail(ctx, `guest crashed: ${exit.reason}`, 1);
      default:
        return 0;
    }
  },
};
