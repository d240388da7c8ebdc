/**
 * `terrarium run`: boot a machine straight from files, headless, with COM1 on the terminal:
 * a kernel directly (with any disks and CD attached, as QEMU's -kernel with -hda), or through
 * the BIOS from a CD and/or disks (--keys, --exit-after and --screenshot script such runs). Exit codes: 0 the guest powered off or halted for good,
 * or --exit-after was reached; 1 the guest crashed; 2 bad input (or a host refusal such as
 * memory); 124 --timeout expired.
 */
import { createWriteStream, writeFileSync, type WriteStream } from 'node:fs';
import { PNG } from 'pngjs';
import { KEY_SCANCODES } from '../../../emulator-core/devices/i8042.js';
import { BadInputError, EmulatorError } from '../../../emulator-core/errors.js';
import { checkForwards, describeForward, exposesToNetwork, parseForwardSpec } from '../../../emulator-core/net/forward-rules.js';
import { Machine } from '../../../emulator-core/machine/machine.js';
import type { EmulatorOptions } from '../../../emulator-core/machine/options.js';
import type { Accel, BootDevice, MachineConfig, MachineExit, NetConfig, ScreenUpdate } from '../../../emulator-core/machine/types.js';
import { emulatorOptionsFromEnv } from '../../options/env-options.js';
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

function parseCpus(text: string | undefined): number {
  if (text === undefined) return 1;
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`--cpus ${text}: give a whole number of processors (e.g. 2)`);
  return Number(text.trim());
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

function parseSeconds(option: string, text: string | undefined): number | null {
  if (text === undefined) return null;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`--${option} ${text}: give a positive number of seconds`);
  return n;
}

function strings(values: OptionValues, key: string): string[] {
  const v = values[key];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
}

const KEY_NAMES = new Set(KEY_SCANCODES.map(([code]) => code));

/** One scripted key press: the keys of a chord (e.g. ControlLeft+AltLeft+Delete) at a guest time. */
export interface KeyPress {
  keys: string[];
  atSeconds: number;
}

/** "Enter@30,KeyA@31.5,ControlLeft+KeyC@40" → presses in time order. */
export function parseKeys(text: string): KeyPress[] {
  const presses: KeyPress[] = [];
  for (const item of text.split(',')) {
    const m = /^\s*([A-Za-z0-9+]+)@(\d+(?:\.\d+)?)\s*$/.exec(item);
    if (!m) throw new UsageError(`--keys "${item}": write KEY@SECONDS, e.g. Enter@30 (keys by KeyboardEvent.code, chords with +)`);
    const keys = m[1]!.split('+');
    for (const k of keys) {
      if (!KEY_NAMES.has(k)) throw new UsageError(`--keys: unknown key "${k}"; use KeyboardEvent.code names such as Enter, KeyA, Digit1, ArrowDown, F2`);
    }
    presses.push({ keys, atSeconds: Number(m[2]) });
  }
  return presses.sort((a, b) => a.atSeconds - b.atSeconds);
}

/** Press the scripted keys at guest-run seconds; each chord is held for 100 ms of guest time. */
function scheduleKeys(machine: Machine, presses: KeyPress[]): void {
  const timers = machine.board.timers;
  const events: { at: number; keys: string[]; down: boolean }[] = [];
  for (const p of presses) {
    events.push({ at: p.atSeconds * 1e9, keys: p.keys, down: true });
    events.push({ at: p.atSeconds * 1e9 + 100e6, keys: [...p.keys].reverse(), down: false });
  }
  events.sort((a, b) => a.at - b.at);
  let next = 0;
  const timer = timers.create('cli-keys', (now) => {
    while (next < events.length && events[next]!.at <= now) {
      const e = events[next++]!;
      for (const k of e.keys) machine.sendKey(k, e.down);
    }
    if (next < events.length) timer.arm(events[next]!.at);
  });
  if (events.length > 0) timer.arm(events[0]!.at);
}

/** Stop the machine once guest time reaches `seconds`. */
function scheduleExit(machine: Machine, seconds: number, onExpire: () => void): void {
  const timer = machine.board.timers.create('cli-exit-after', () => {
    onExpire();
    machine.powerOff();
  });
  timer.arm(seconds * 1e9);
}

/** Encode a whole-screen update as PNG. */
export function screenToPng(screen: ScreenUpdate): Buffer {
  const png = new PNG({ width: screen.w, height: screen.h });
  png.data = Buffer.from(screen.rgba.buffer, screen.rgba.byteOffset, screen.w * screen.h * 4);
  return PNG.sync.write(png);
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

/** --net and --forward: NAT by default, as QEMU, VirtualBox and UTM give new VMs. */
function parseNet(mode: string | undefined, forwards: string[]): NetConfig {
  if (mode !== undefined && mode !== 'nat' && mode !== 'none') throw new UsageError(`--net ${mode}: choose nat or none`);
  if (mode === 'none' && forwards.length > 0) throw new UsageError('--forward needs --net nat');
  const rules = forwards.map(parseForwardSpec);
  checkForwards(rules);
  return { mode: mode ?? 'nat', forwards: rules };
}

export const command: CliCommand = {
  name: 'run',
  summary: 'Boot a machine directly from a kernel, firmware, CD or disk image (headless, COM1 on the terminal)',
  usage:
    'run (--kernel FILE [--initrd FILE] [--append STRING] | [--boot cdrom|disk] [--bios FILE] [--vga-bios FILE]) [--cdrom ISO] [--disk FILE]... [--memory MiB] [--cpus N] [--accel auto|interpreter|kvm] [--serial stdio|FILE|none] [--keys KEY@SECONDS,...] [--exit-after SECONDS] [--screenshot FILE.png] [--net nat|none] [--forward tcp|udp:[HOSTADDR:]HOSTPORT:GUESTPORT]... [--timeout SECONDS]',
  options: {
    kernel: { type: 'string' },
    initrd: { type: 'string' },
    append: { type: 'string' },
    memory: { type: 'string' },
    cpus: { type: 'string' },
    accel: { type: 'string' },
    serial: { type: 'string' },
    timeout: { type: 'string' },
    clock: { type: 'string' },
    cdrom: { type: 'string' },
    disk: { type: 'string', multiple: true },
    boot: { type: 'string' },
    bios: { type: 'string' },
    'vga-bios': { type: 'string' },
    keys: { type: 'string' },
    'exit-after': { type: 'string' },
    screenshot: { type: 'string' },
    net: { type: 'string' },
    forward: { type: 'string', multiple: true },
  },
  help: {
    kernel: 'Linux bzImage to boot directly (no firmware); --disk and --cdrom drives are still attached, e.g. --append "root=/dev/sda1"',
    initrd: 'initial ramdisk for --kernel',
    append: 'kernel command line',
    memory: 'guest RAM in MiB (default 128)',
    cpus: 'processors (default 1, at most 16); more than one run on the software CPU, round-robin',
    accel: 'auto (default), interpreter or kvm',
    serial: 'where COM1 goes: stdio (default), a file, or none',
    timeout: 'stop after this many seconds with exit code 124',
    clock: 'realtime (default), virtual (guest time follows executed instructions, idle time skipped) or instructions (realtime, but at most 1 ns of guest time per instruction: a slow host slows the guest clock)',
    cdrom: 'ISO image for the CD-ROM drive, the secondary master (booted through the BIOS unless --kernel)',
    disk: 'disk image (raw or qcow2) on the primary master, then slave; repeat for more disks',
    boot: 'cdrom or disk: what the BIOS boots first (default: cdrom when there is one)',
    bios: 'BIOS image (default: SeaBIOS from the app or the system)',
    'vga-bios': 'VGA BIOS image (default: SeaBIOS vgabios-stdvga.bin)',
    keys: 'press keys at guest-run seconds, e.g. "Enter@30,ArrowDown@40" (KeyboardEvent.code names)',
    'exit-after': 'stop after this many seconds of guest time, exit code 0',
    screenshot: 'write the screen at exit to this PNG file',
    net: 'nat (default: an e1000 NIC behind NAT, guest 10.0.2.15, host reachable as 10.0.2.2) or none',
    forward: 'forward a host port into the guest, e.g. tcp:2222:22 (host 127.0.0.1 unless HOSTADDR is given); repeatable',
  },
  async run({ values, positionals }, ctx) {
    let config: MachineConfig;
    let timeout: number | null;
    let serialSpec: string;
    let keys: KeyPress[] = [];
    let exitAfter: number | null;
    let screenshot: string | undefined;
    let options: EmulatorOptions;
    try {
      // The core's tuning and debugging switches (TERRARIUM_JIT=0, ...): a bad value is an
      // AppError naming the variable, reported like any other bad input.
      options = emulatorOptionsFromEnv(ctx.env);
      if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
      const clock = str(values, 'clock') ?? 'realtime';
      if (clock !== 'realtime' && clock !== 'virtual' && clock !== 'instructions') throw new UsageError(`--clock ${clock}: choose realtime, virtual or instructions`);
      const boot = str(values, 'boot');
      if (boot !== undefined && boot !== 'cdrom' && boot !== 'disk') throw new UsageError(`--boot ${boot}: choose cdrom or disk`);
      const kernel = str(values, 'kernel');
      const cdrom = str(values, 'cdrom');
      const disks = strings(values, 'disk');
      if (boot === 'cdrom' && cdrom === undefined) throw new UsageError('--boot cdrom needs --cdrom ISO');
      if (boot === 'disk' && disks.length === 0) throw new UsageError('--boot disk needs --disk FILE');
      if (kernel !== undefined) {
        // Drives are attached either way; only the firmware's own options make no sense.
        for (const o of ['boot', 'bios', 'vga-bios']) {
          if (values[o] !== undefined) throw new UsageError(`--${o} is for booting through the BIOS and cannot be combined with --kernel`);
        }
      }
      screenshot = str(values, 'screenshot');
      if (screenshot !== undefined && kernel !== undefined) throw new UsageError('--screenshot needs a display; direct --kernel boot has none');
      config = {
        memoryMiB: parseMemory(str(values, 'memory')),
        cpus: parseCpus(str(values, 'cpus')),
        accel: parseAccel(str(values, 'accel')),
        kernel,
        initrd: str(values, 'initrd'),
        cmdline: str(values, 'append'),
        cdrom,
        disks: disks.map((path) => ({ path })),
        boot: boot as BootDevice | undefined,
        bios: str(values, 'bios'),
        vgaBios: str(values, 'vga-bios'),
        // Headless: firmware and bootloader text reaches the terminal too.
        firmwareSerialConsole: true,
        clock,
        onTripleFault: 'crash',
        net: parseNet(str(values, 'net'), strings(values, 'forward')),
      };
      for (const rule of config.net?.forwards ?? []) {
        if (exposesToNetwork(rule)) ctx.stderr(`terrarium run: warning: ${describeForward(rule)} listens on every host address; other machines on your network can reach the guest\n`);
      }
      const keyText = str(values, 'keys');
      if (keyText !== undefined) keys = parseKeys(keyText);
      exitAfter = parseSeconds('exit-after', str(values, 'exit-after'));
      timeout = parseTimeout(str(values, 'timeout'));
      serialSpec = str(values, 'serial') ?? 'stdio';
    } catch (e) {
      if (e instanceof UsageError || e instanceof BadInputError) return fail(ctx, e.message, 2);
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
      machine = await Machine.create(
        config,
        {
          serialOutput: (bytes) => serial.write(bytes),
          accelChosen: (_accel, why) => {
            if (config.accel === 'auto') ctx.stderr(`terrarium run: accelerator ${why}\n`);
          },
        },
        options,
      );
    } catch (e) {
      if (e instanceof EmulatorError) return fail(ctx, e.message, e.code === 'INTERNAL' ? 1 : 2);
      throw e;
    }

    let timedOut = false;
    let quit = false;
    let exitedAfter = false;
    scheduleKeys(machine, keys);
    if (exitAfter !== null) scheduleExit(machine, exitAfter, () => (exitedAfter = true));
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
      // A host refusal while running (e.g. KVM cannot create the vCPU) is exit 2, like one at start.
      if (e instanceof EmulatorError) return fail(ctx, e.message, e.code === 'HOST' ? 2 : 1);
      throw e;
    } finally {
      if (timer !== null) clearTimeout(timer);
      detach();
      await serial.close();
    }
    if (screenshot !== undefined) {
      const screen = machine.screenshot();
      if (screen === null) return fail(ctx, `--screenshot ${screenshot}: the machine has no display`, 1);
      try {
        writeFileSync(screenshot, screenToPng(screen));
      } catch (e) {
        return fail(ctx, `--screenshot ${screenshot}: ${(e as Error).message}`, 2);
      }
    }
    if (timedOut) return fail(ctx, `timed out after ${timeout} s`, EXIT_TIMEOUT);
    if (exitedAfter) return 0;
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
