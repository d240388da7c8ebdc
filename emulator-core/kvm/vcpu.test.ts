/**
 * A real vCPU on /dev/kvm (skipped loudly where there is none): register state goes in and
 * comes back out through the worker, and refused ioctls are typed errors naming the call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IoBus } from '../bus/io-bus.js';
import { Cpu } from '../cpu/cpu.js';
import { getCpuState } from '../cpu/state-convert.js';
import type { CpuState } from '../cpu/state.js';
import { ManualClock } from '../machine/clock.js';
import { GuestMemory } from '../memory/guest-memory.js';
import { KvmBackend } from './backend.js';
import { CMD_GET_STATE, CMD_SET_STATE } from './channel.js';
import { KvmError } from './errors.js';
import { KvmSystem } from './kvm.js';
import { probeKvm } from './probe.js';
import { waitChange, type VcpuThread } from './vcpu-thread.js';
import { S_DOORBELL } from './channel.js';

const probe = probeKvm();
if (!probe.usable) console.warn(`*** SKIPPING vCPU tests: ${probe.reason} ***`);

async function command(t: VcpuThread, cmd: typeof CMD_GET_STATE | typeof CMD_SET_STATE, state?: CpuState): Promise<void> {
  t.command(cmd, state);
  const end = Date.now() + 5000;
  while (!t.commandDone) {
    if (Date.now() > end) throw new Error('the vCPU did not answer');
    await waitChange(t.i32, S_DOORBELL, Atomics.load(t.i32, S_DOORBELL), 20);
  }
}

describe.skipIf(!probe.usable)('a KVM vCPU', () => {
  let backend: KvmBackend;
  let thread: VcpuThread;
  const mem = new GuestMemory(2 << 20, { shared: true });
  const reset = getCpuState(new Cpu(new GuestMemory(1 << 20), new IoBus(), { clock: new ManualClock() }));

  beforeAll(async () => {
    backend = KvmBackend.create({ memory: mem, probe });
    thread = await backend.startVcpu(reset);
  });
  afterAll(async () => {
    await thread?.stop();
    backend?.close();
  });

  it('starts in the state it was given (the reset vector)', async () => {
    await command(thread, CMD_GET_STATE);
    const s = thread.takeState()!;
    expect(s.cs).toEqual(reset.cs);
    expect([s.rip, s.rflags]).toEqual([reset.rip, reset.rflags]);
    expect(s.gpr.slice(0, 8)).toEqual(reset.gpr.slice(0, 8));
    expect(s.idtr).toEqual(reset.idtr);
    expect(s.cr0).toBe(reset.cr0);
  });

  it('loads and saves a protected-mode state with FPU, SSE and MSRs', async () => {
    const want: CpuState = structuredClone(reset);
    const flat = (selector: number, type: number) => ({ selector, base: 0, limit: 0xffffffff, access: 0x80 | 0x10 | type | (1 << 14) | (1 << 15) });
    want.cs = flat(0x08, 0xb);
    for (const k of ['ds', 'es', 'ss', 'fs', 'gs'] as const) want[k] = flat(0x10, 0x3);
    want.gdtr = { base: 0x1000, limit: 23 };
    want.idtr = { base: 0x2000, limit: 0x7ff };
    want.cr0 = 0x11;
    want.rip = 0x12345;
    want.rflags = 0x202;
    want.gpr = [1, 2, 3, 4, 0x7000, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0];
    want.fpu.control = 0x27f;
    want.fpu.status = 7 << 11;
    want.fpu.tag = 0x3fff; // R7 valid
    want.fpu.regs[7] = '4000c000000000000000'; // 3.0
    want.sse = { mxcsr: 0x1fa0, xmm: want.sse.xmm.map((x, i) => (i === 2 ? '0123456789abcdeffedcba9876543210' : x)) };
    want.msrs['0x174'] = '0x0000000000000008';
    want.msrs['0x176'] = '0x00000000c0001000';
    await command(thread, CMD_SET_STATE, want);
    await command(thread, CMD_GET_STATE);
    const got = thread.takeState()!;
    for (const k of ['cs', 'ds', 'ss', 'gdtr', 'idtr', 'cr0', 'rip', 'rflags'] as const) expect(got[k], k).toEqual(want[k]);
    expect(got.gpr.slice(0, 8)).toEqual(want.gpr.slice(0, 8));
    expect(got.fpu.regs[7]).toBe(want.fpu.regs[7]);
    expect(got.fpu.tag).toBe(want.fpu.tag);
    expect(got.fpu.control).toBe(0x27f);
    expect(got.sse.xmm[2]).toBe(want.sse.xmm[2]);
    expect(got.sse.mxcsr).toBe(0x1fa0);
    expect(got.msrs['0x174']).toBe('0x0000000000000008');
    expect(got.msrs['0x176']).toBe('0x00000000c0001000');
  });

  it('a refused ioctl is a KvmError naming the call and the errno', () => {
    const sys = KvmSystem.open(probe.device);
    const vm = sys.createVm();
    try {
      let err: unknown;
      try {
        vm.setMemorySlot({ slot: 0, flags: 0, guestPhys: 0, size: 0x1000, hostAddr: 0x10 });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KvmError);
      expect((err as KvmError).code).toBe('HOST');
      expect((err as KvmError).message).toMatch(/KVM_SET_USER_MEMORY_REGION failed with EINVAL \(invalid argument\)/);
      expect((err as KvmError).context).toMatchObject({ call: 'KVM_SET_USER_MEMORY_REGION', errno: 22, errnoName: 'EINVAL' });
    } finally {
      vm.close();
      sys.close();
    }
  });
});
