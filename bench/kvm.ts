/**
 * KVM section of `npm run bench` (also runnable alone: node dist/bench/kvm.js).
 *   Port-I/O round trips per second: a ROM that writes port 0x80 in a loop, so every
 *   iteration is a KVM exit that goes through koffi, the vCPU worker, the mailbox and the
 *   machine thread's bus and back; the same loop on the software CPU beside it.
 *   Linux boot to the marker under KVM, on hosts with VMX/SVM only.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SIZEOF_REGS, SIZEOF_SREGS } from '../emulator-core/kvm/abi.js';
import { KvmSystem, KvmVcpu, runOffsets } from '../emulator-core/kvm/kvm.js';
import { libc } from '../emulator-core/kvm/native.js';
import { chooseAccel, probeKvm, type KvmProbe } from '../emulator-core/kvm/probe.js';
import { GuestMemory } from '../emulator-core/memory/guest-memory.js';
import { Machine } from '../emulator-core/machine/machine.js';
import { emulatorOptionsFromEnv } from '../app/options/env-options.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(ROOT, 'test/fixtures/out');
/** The machines' options from TERRARIUM_* (TERRARIUM_KVM_DEVICE, TERRARIUM_KVM_IRQCHIP, ...), as the CLI would use them. */
const OPTIONS = emulatorOptionsFromEnv(process.env);
const MARKER = /TERRARIUM-MARKER[^\n]*\n/;

/**
 * A 64 KiB ROM: at F000:0000, ECX = count; OUT 0x80 in a loop; then power off through the
 * PIIX4 PM block (PMBA 0x600, S5). Hand-assembled so the bench needs no assembler.
 */
export function portLoopRom(count: number): Uint8Array {
  const code = [
    0xfa, // cli
    0x66, 0xb9, count & 0xff, (count >>> 8) & 0xff, (count >>> 16) & 0xff, (count >>> 24) & 0xff, // mov ecx, count
    0xba, 0x80, 0x00, // mov dx, 0x80
    0xee, // loop: out dx, al
    0x66, 0x49, // dec ecx
    0x75, 0xfb, // jnz loop
    0x66, 0xb8, 0x40, 0x0b, 0x00, 0x80, 0xba, 0xf8, 0x0c, 0x66, 0xef, // PCI 00:01.3 reg 0x40 (PMBA)
    0x66, 0xb8, 0x01, 0x06, 0x00, 0x00, 0xba, 0xfc, 0x0c, 0x66, 0xef, // = 0x600
    0x66, 0xb8, 0x80, 0x0b, 0x00, 0x80, 0xba, 0xf8, 0x0c, 0x66, 0xef, // reg 0x80 (PMREGMISC)
    0xb0, 0x01, 0xba, 0xfc, 0x0c, 0xee, // = 1
    0xb8, 0x00, 0x20, 0xba, 0x04, 0x06, 0xef, // PM1_CNT = SLP_EN, S5 (type 0)
    0xf4, // hlt
  ];
  const rom = new Uint8Array(0x10000);
  rom.set(code, 0);
  rom.set([0xea, 0x00, 0x00, 0x00, 0xf0], 0xfff0); // jmp far F000:0000
  return rom;
}

/** Wall time of a whole run (create, boot, loop, power-off) in ms. */
async function timeLoop(dir: string, accel: 'kvm' | 'interpreter', count: number): Promise<number> {
  const file = join(dir, `loop-${count}.rom`);
  writeFileSync(file, portLoopRom(count));
  const t0 = performance.now();
  const m = await Machine.create({ memoryMiB: 16, accel, bios: file, onTripleFault: 'crash' }, {}, OPTIONS);
  const exit = await m.run();
  const ms = performance.now() - t0;
  if (exit.kind !== 'poweroff') throw new Error(`the port loop on ${accel} ended with ${exit.kind}: ${exit.reason}`);
  return ms;
}

/**
 * Port writes per second: the difference between a short and a long loop cancels machine
 * creation and boot; each is the best of three runs (the host is noisy). The long loop grows
 * until it takes at least `minMs`.
 */
export async function loopRate(dir: string, accel: 'kvm' | 'interpreter', minMs: number): Promise<{ rate: number; count: number; ms: number }> {
  const best = async (count: number): Promise<number> => Math.min(...[await timeLoop(dir, accel, count), await timeLoop(dir, accel, count), await timeLoop(dir, accel, count)]);
  const short = await best(1);
  let count = 10_000;
  for (;;) {
    const ms = (await best(count)) - short;
    if (ms >= minMs || count >= 100_000_000) return { rate: count / (ms / 1000), count, ms };
    count = Math.min(100_000_000, count * (ms < minMs / 20 ? 10 : Math.ceil((minMs * 1.2) / Math.max(ms, 1))));
  }
}

/**
 * The floor under the machine's figure: KVM_RUN through koffi in a loop on this thread, one
 * kvm_run header read per exit, no worker, no mailbox, no device.
 */
function bareExitRate(probe: KvmProbe, ms: number): number {
  const sys = KvmSystem.open(probe.device);
  const vm = sys.createVm();
  const mem = new GuestMemory(1 << 20, { shared: true });
  let vcpu: KvmVcpu | null = null;
  try {
    vm.setMemorySlot({ slot: 0, flags: 0, guestPhys: 0, size: 1 << 20, hostAddr: libc().addressOf(mem.u8) });
    mem.u8.set([0xe6, 0x80, 0xeb, 0xfc], 0x1000); // out 0x80, al; jmp $-2
    vcpu = KvmVcpu.create(vm.fd, 0, sys.vcpuMmapSize());
    const sregs = vcpu.get('KVM_GET_SREGS', new Uint8Array(SIZEOF_SREGS), 'sregs');
    new DataView(sregs.buffer).setBigUint64(0, 0n, true); // CS base 0
    new DataView(sregs.buffer).setUint16(12, 0, true); // CS selector 0
    vcpu.set('KVM_SET_SREGS', sregs, 'sregs');
    const regs = new Uint8Array(SIZEOF_REGS);
    new DataView(regs.buffer).setUint32(128, 0x1000, true); // RIP
    new DataView(regs.buffer).setUint32(136, 2, true); // RFLAGS
    vcpu.set('KVM_SET_REGS', regs, 'regs');
    const hdr = new Uint8Array(64);
    const R = runOffsets();
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < ms) {
      if (vcpu.run() < 0) break;
      vcpu.readRun(hdr, 0, 64);
      if (hdr[R.exitReason] !== 2) break;
      n++;
    }
    return n / ((performance.now() - t0) / 1000);
  } finally {
    vcpu?.close();
    vm.close();
    sys.close();
  }
}

function fmtRate(r: number, unit: string): string {
  return r >= 1e6 ? `${(r / 1e6).toFixed(2)} M ${unit}/s` : `${Math.round(r).toLocaleString('en-US')} ${unit}/s`;
}

async function linuxBootOnKvm(): Promise<string> {
  const kernel = join(FIXTURES, 'vmlinuz-i386');
  const initrd = join(FIXTURES, 'initrd-i386.gz');
  if (!existsSync(kernel) || !existsSync(initrd)) return 'SKIPPED: fixtures missing; run `npm run fixtures` first';
  const t0 = performance.now();
  let out = '';
  let markerMs = -1;
  const m = await Machine.create(
    { memoryMiB: 256, accel: 'kvm', kernel, initrd, cmdline: 'console=ttyS0 quiet panic=-1', onTripleFault: 'crash' },
    {
      serialOutput: (b) => {
        out += Buffer.from(b).toString('latin1');
        if (markerMs < 0 && MARKER.test(out)) {
          markerMs = performance.now() - t0;
          m.powerOff();
        }
      },
    },
    OPTIONS,
  );
  const timer = setTimeout(() => m.powerOff(), 120_000);
  const exit = await m.run();
  clearTimeout(timer);
  if (markerMs < 0) return `did not reach the marker (${exit.kind}: ${exit.reason})`;
  return `${(markerMs / 1000).toFixed(2)} s to the marker`;
}

export async function bench(): Promise<void> {
  const probe = probeKvm({ device: OPTIONS.kvm.device });
  console.log(`KVM (${probe.usable ? probe.reason : `unavailable: ${probe.reason}`})`);
  const auto = chooseAccel('auto', { device: OPTIONS.kvm.device });
  console.log(`  --accel auto picks ${auto.why}`);
  if (!probe.usable) {
    console.log('  SKIPPED: no usable /dev/kvm');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'terrarium-bench-kvm-'));
  try {
    const kvm = await loopRate(dir, 'kvm', 1000);
    const interp = await loopRate(dir, 'interpreter', 1000);
    console.log(`  port-I/O loop (OUT 0x80; on KVM each one is an exit to user space through koffi and back):`);
    console.log(`    KVM          ${fmtRate(kvm.rate, 'exits')} (${kvm.count.toLocaleString('en-US')} in ${kvm.ms.toFixed(0)} ms)`);
    console.log(`    interpreter  ${fmtRate(interp.rate, 'port writes')} (${interp.count.toLocaleString('en-US')} in ${interp.ms.toFixed(0)} ms)`);
    console.log(`    ratio KVM / interpreter: ${(kvm.rate / interp.rate).toFixed(3)}x`);
    const bare = bareExitRate(probe, 1000);
    console.log(`    bare KVM_RUN through koffi on one thread (no worker, no devices): ${fmtRate(bare, 'exits')}; the machine keeps ${((kvm.rate / bare) * 100).toFixed(0)}% of it`);
    if (probe.hardware) console.log(`  Linux boot under KVM (Debian 12 i386, 256 MiB): ${await linuxBootOnKvm()}`);
    else console.log(`  Linux boot under KVM: SKIPPED: this host's KVM is ${probe.flavour.toUpperCase()} (no VMX/SVM); ordinary guest code is emulated in the kernel and a stock kernel does not boot`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await bench();
