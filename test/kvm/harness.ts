/**
 * Runs the small guests through the Machine under each backend: the software CPU, KVM with
 * the in-kernel irqchip and KVM with our own PIC (user-space irqchip). Adds two test devices
 * to the board: a port device (a 4-byte register file and a FIFO) and an MMIO device (a
 * 64-byte register file and a read counter).
 */
import type { AccessSize, PortIoHandler } from '../../emulator-core/bus/io-bus.js';
import { probeKvm } from '../../emulator-core/kvm/probe.js';
import { Machine } from '../../emulator-core/machine/machine.js';
import type { MachineExit } from '../../emulator-core/machine/types.js';
import type { MmioHandler } from '../../emulator-core/memory/guest-memory.js';
import { TEST_MMIO, TEST_PORT } from './guests.js';

export type Backend = 'interpreter' | 'kvm-kernel-irqchip' | 'kvm-user-irqchip';
export const BACKENDS: Backend[] = ['interpreter', 'kvm-kernel-irqchip', 'kvm-user-irqchip'];

const probe = probeKvm();
/** Why KVM tests cannot run here, or null. */
export const kvmMissing: string | null = probe.usable ? null : probe.reason;
export const kvmFlavour = probe.flavour;

export class TestPorts implements PortIoHandler {
  readonly regs = new Uint8Array(4);
  readonly fifo: number[] = [];

  ioRead(port: number, size: AccessSize): number {
    const off = port - TEST_PORT;
    let v = 0;
    if (off < 4) {
      for (let i = 0; i < size; i++) v |= this.regs[(off + i) & 3] << (i * 8);
    } else if (off === 4) {
      for (let i = 0; i < size; i++) v |= (this.fifo.shift() ?? 0) << (i * 8);
    } else if (off === 8) {
      v = this.fifo.length;
    }
    return v >>> 0;
  }

  ioWrite(port: number, size: AccessSize, value: number): void {
    const off = port - TEST_PORT;
    if (off < 4) for (let i = 0; i < size; i++) this.regs[(off + i) & 3] = value >>> (i * 8);
    else if (off === 4) for (let i = 0; i < size; i++) this.fifo.push((value >>> (i * 8)) & 0xff);
  }
}

export class TestMmio implements MmioHandler {
  readonly regs = new Uint8Array(64);
  reads = 0;

  mmioRead(addr: number, size: AccessSize): number {
    const off = addr - TEST_MMIO;
    if (off === 0x40) return ++this.reads;
    let v = 0;
    for (let i = 0; i < size; i++) v |= (off + i < 64 ? this.regs[off + i] : 0) << (i * 8);
    return v >>> 0;
  }

  mmioWrite(addr: number, size: AccessSize, value: number): void {
    const off = addr - TEST_MMIO;
    for (let i = 0; i < size; i++) if (off + i < 64) this.regs[off + i] = value >>> (i * 8);
  }
}

export interface GuestRun {
  machine: Machine;
  serial: () => string;
  done: Promise<MachineExit>;
}

/** Create a machine for `rom` on `backend` with `cpus` processors and the test devices, and start it. */
export async function startGuest(rom: string, backend: Backend, cpus = 1): Promise<GuestRun> {
  const irqchip = backend === 'kvm-user-irqchip' ? 'user' : backend === 'kvm-kernel-irqchip' ? 'kernel' : 'auto';
  let text = '';
  const decoder = new TextDecoder();
  const machine = await Machine.create(
    { memoryMiB: 16, accel: backend === 'interpreter' ? 'interpreter' : 'kvm', bios: rom, onTripleFault: 'crash', cpus },
    { serialOutput: (b) => (text += decoder.decode(b, { stream: true })) },
    { kvm: { irqchip } },
  );
  machine.board.io.register(TEST_PORT, 9, new TestPorts(), 'test-ports');
  machine.board.memory.registerMmio(TEST_MMIO, 4096, new TestMmio(), 'test-mmio');
  return { machine, serial: () => text, done: machine.run() };
}

/** Run to the end (or `timeoutMs`, then power off). */
export async function runGuest(rom: string, backend: Backend, timeoutMs = 30_000): Promise<{ serial: string; exit: MachineExit; ms: number }> {
  const t0 = performance.now();
  const g = await startGuest(rom, backend);
  const timer = setTimeout(() => g.machine.powerOff(), timeoutMs);
  try {
    const exit = await g.done;
    return { serial: g.serial(), exit, ms: performance.now() - t0 };
  } finally {
    clearTimeout(timer);
  }
}

/** Resolve when `pred` holds, polling every 10 ms; reject after `ms`. */
export async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
