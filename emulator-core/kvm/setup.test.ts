/** Memory slots from the page map, the guest CPUID filter and the /dev/kvm probe (no KVM needed). */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AccessSize } from '../bus/io-bus.js';
import { GuestMemory, PAGE_ROM } from '../memory/guest-memory.js';
import { MEM_READONLY } from './abi.js';
import { guestCpuid } from './cpuid.js';
import type { CpuidEntry, MemorySlot } from './kvm.js';
import { SlotMap, slotRanges } from './memory-slots.js';
import { chooseAccel, kvmFlavour, probeKvm } from './probe.js';

const mmio = { mmioRead: (_a: number, _s: AccessSize) => 0, mmioWrite: () => {} };

describe('KVM memory slots follow the page map', () => {
  it('RAM around the VGA window, ROM at the top of 4 GiB and its alias, no slot for MMIO', () => {
    const mem = new GuestMemory(16 << 20, { romBytes: 0x20000 });
    const rom = mem.mapRom(0x100000000 - 0x20000, new Uint8Array(0x20000).fill(0x90), 'bios');
    mem.mapBacking(0xe0000, 0x20000, rom, PAGE_ROM);
    mem.registerMmio(0xfed00000, 0x1000, mmio, 'dev');
    const ranges = slotRanges(mem, true);
    expect(ranges).toEqual([
      { guestPhys: 0, size: 0xa0000, backing: 0, flags: 0 },
      { guestPhys: 0xc0000, size: 0x20000, backing: 0xc0000, flags: 0 },
      { guestPhys: 0xe0000, size: 0x20000, backing: rom, flags: MEM_READONLY },
      { guestPhys: 0x100000, size: (16 << 20) - 0x100000, backing: 0x100000, flags: 0 },
      { guestPhys: 0xfffe0000, size: 0x20000, backing: rom, flags: MEM_READONLY },
    ]);
    // Without read-only slots (PVM), ROM is ordinary memory holding the image.
    expect(slotRanges(mem, false).filter((r) => r.flags !== 0)).toEqual([]);
  });

  it('sync changes only the slots that moved (delete before add)', () => {
    const mem = new GuestMemory(2 << 20);
    const calls: MemorySlot[] = [];
    const slots = new SlotMap({ setMemorySlot: (s) => calls.push({ ...s }) }, mem, 0x7f0000000000, false, 32);
    slots.sync();
    expect(calls.map((c) => [c.guestPhys, c.size])).toEqual([
      [0, 0xa0000],
      [0xc0000, (2 << 20) - 0xc0000],
    ]);
    calls.length = 0;
    mem.registerMmio(0x1ff000, 0x1000, mmio, 'late device');
    slots.sync();
    expect(calls[0]).toMatchObject({ size: 0, guestPhys: 0xc0000 });
    expect(calls.slice(1).map((c) => [c.guestPhys, c.size, c.hostAddr])).toEqual([[0xc0000, 0x13f000, 0x7f00000c0000]]);
  });

  it('refuses guest memory that is not page aligned', () => {
    const mem = new GuestMemory(1 << 20);
    expect(() => new SlotMap({ setMemorySlot: () => {} }, mem, 0x7f0000000010, false, 32)).toThrow(/not page aligned/);
  });

  it('shared guest memory is page aligned (KVM maps it page by page)', async () => {
    const { libc } = await import('./native.js');
    const mem = new GuestMemory(4 << 20, { shared: true, romBytes: 4096 });
    expect(mem.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(libc().addressOf(mem.u8) % 4096).toBe(0);
  });
});

describe('guest CPUID', () => {
  const supported: CpuidEntry[] = [
    { function: 1, index: 0, flags: 0, eax: 0x806c1, ebx: 0x02100800, ecx: 0xf7fa3223 | (1 << 5) | (1 << 3), edx: 0x178bfbff | (1 << 28) },
    { function: 0x40000001, index: 0, flags: 0, eax: 0x01007afb, ebx: 0, ecx: 0, edx: 0 },
    { function: 0xa, index: 0, flags: 0, eax: 0x07300805, ebx: 0, ecx: 0, edx: 0x603 },
  ];

  it('one CPU, hypervisor bit, no VMX, MONITOR or PMU; no APIC without the in-kernel irqchip', () => {
    const user = guestCpuid(supported, { lapic: false });
    const l1 = user.find((e) => e.function === 1)!;
    expect((l1.ebx >>> 16) & 0xff).toBe(1);
    expect(l1.ecx & (1 << 5)).toBe(0);
    expect(l1.ecx & (1 << 3)).toBe(0);
    expect(l1.ecx >>> 31).toBe(1);
    expect(l1.edx & (1 << 9)).toBe(0);
    expect(l1.ecx & (1 << 21)).toBe(0);
    expect(l1.edx & (1 << 28)).toBe(0);
    expect(user.find((e) => e.function === 0xa)).toMatchObject({ eax: 0, edx: 0 });
    expect(user.find((e) => e.function === 0x40000001)!.eax & (1 << 6)).toBe(0); // PV EOI needs a LAPIC
    const kernel = guestCpuid(supported, { lapic: true });
    expect(kernel.find((e) => e.function === 1)!.edx & (1 << 9)).not.toBe(0);
  });
});

describe('choosing the accelerator', () => {
  const dir = mkdtempSync(join(tmpdir(), 'terrarium-kvm-probe-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const sys = (mods: string[]): string => {
    const d = join(dir, mods.join('-') || 'none');
    for (const m of mods) mkdirSync(join(d, m), { recursive: true });
    mkdirSync(d, { recursive: true });
    return d;
  };
  const cpuinfo = join(dir, 'cpuinfo');
  writeFileSync(cpuinfo, 'processor\t: 0\nflags\t\t: fpu vme de pse tsc msr\n');

  it('names the implementation from the loaded modules', () => {
    expect(kvmFlavour(sys(['kvm', 'kvm_pvm']), cpuinfo)).toBe('pvm');
    expect(kvmFlavour(sys(['kvm', 'kvm_intel']), cpuinfo)).toBe('vmx');
    expect(kvmFlavour(sys(['kvm', 'kvm_amd']), cpuinfo)).toBe('svm');
    expect(kvmFlavour(sys([]), cpuinfo)).toBe('unknown');
  });

  it('a missing /dev/kvm gives one line, and auto falls back to the interpreter', () => {
    const device = join(dir, 'no-kvm');
    const p = probeKvm({ device, sysModule: sys([]), cpuinfo });
    expect(p.usable).toBe(false);
    expect(p.reason).toMatch(/does not exist \(the kvm module is not loaded/);
    const auto = chooseAccel('auto', { device, sysModule: sys([]), cpuinfo });
    expect(auto.accel).toBe('interpreter');
    expect(auto.why).toMatch(/^interpreter: .*does not exist/);
    expect(chooseAccel('kvm', { device }).probe?.usable).toBe(false);
  });

  it('a file that is not a device is refused', () => {
    const device = join(dir, 'plain-file');
    writeFileSync(device, '');
    expect(probeKvm({ device, sysModule: sys([]), cpuinfo }).reason).toMatch(/is not a device/);
  });

  it('auto avoids PVM and says why; --accel kvm is honoured there', () => {
    // /dev/null stands in for a usable character device.
    const pvm = { device: '/dev/null', sysModule: sys(['kvm_pvm']), cpuinfo };
    const auto = chooseAccel('auto', pvm);
    expect(auto.accel).toBe('interpreter');
    expect(auto.why).toMatch(/^interpreter: \/dev\/null is PVM \(kernel module kvm_pvm, no VMX\/SVM\)/);
    expect(auto.why.split('\n')).toHaveLength(1);
    const forced = chooseAccel('kvm', pvm);
    expect(forced.accel).toBe('kvm');
    expect(forced.why).toMatch(/^kvm: requested, although/);
    const vmx = chooseAccel('auto', { device: '/dev/null', sysModule: sys(['kvm_intel']), cpuinfo });
    expect(vmx.accel).toBe('kvm');
    expect(vmx.why).toMatch(/Intel VT-x/);
    expect(chooseAccel('interpreter').why).toBe('interpreter: requested');
  });
});
