/**
 * The koffi structure layouts and ioctl numbers against the C headers: a small C program
 * prints sizeof/offsetof and the ioctl macros. Skips (loudly) without gcc or linux/kvm.h.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IOCTL, layouts, off, SIZEOF_RUN } from './abi.js';
import { koffi } from './native.js';

function compileProbe(): Map<string, number> | string {
  if (!existsSync('/usr/include/linux/kvm.h')) return 'linux/kvm.h is not installed (linux-libc-dev)';
  const dir = mkdtempSync(join(tmpdir(), 'terrarium-kvm-abi-'));
  try {
    const structs: [string, string[]][] = [
      ['kvm_regs', ['rax', 'rbx', 'rsp', 'r8', 'r15', 'rip', 'rflags']],
      ['kvm_segment', ['base', 'limit', 'selector', 'type', 'present', 'dpl', 'db', 's', 'l', 'g', 'avl', 'unusable']],
      ['kvm_sregs', ['cs', 'ds', 'es', 'fs', 'gs', 'ss', 'tr', 'ldt', 'gdt', 'idt', 'cr0', 'cr2', 'cr3', 'cr4', 'cr8', 'efer', 'apic_base', 'interrupt_bitmap']],
      ['kvm_fpu', ['fpr', 'fcw', 'fsw', 'ftwx', 'last_opcode', 'last_ip', 'last_dp', 'xmm', 'mxcsr']],
      ['kvm_run', ['request_interrupt_window', 'immediate_exit', 'exit_reason', 'ready_for_interrupt_injection', 'if_flag', 'flags', 'cr8', 'apic_base', 'kvm_valid_regs', 'kvm_dirty_regs', 's']],
      ['kvm_cpuid_entry2', ['function', 'index', 'flags', 'eax', 'ebx', 'ecx', 'edx']],
      ['kvm_msr_entry', ['index', 'data']],
      ['kvm_userspace_memory_region', ['slot', 'flags', 'guest_phys_addr', 'memory_size', 'userspace_addr']],
      ['kvm_irq_level', ['irq', 'level']],
      ['kvm_irq_routing', ['nr', 'flags']],
      ['kvm_irq_routing_entry', ['gsi', 'type', 'flags', 'pad', 'u']],
      ['kvm_pit_config', ['flags']],
      ['kvm_vcpu_events', ['exception', 'interrupt', 'nmi', 'sipi_vector', 'flags', 'smi', 'triple_fault', 'exception_has_payload', 'exception_payload']],
      ['kvm_debugregs', ['db', 'dr6', 'dr7', 'flags']],
    ];
    const lines: string[] = [];
    for (const [s, fields] of structs) {
      lines.push(`printf("sizeof.${s} %zu\\n", sizeof(struct ${s}));`);
      for (const f of fields) lines.push(`printf("${s}.${f} %zu\\n", offsetof(struct ${s}, ${f}));`);
    }
    for (const [u, f] of [
      ['io', 'direction'], ['io', 'size'], ['io', 'port'], ['io', 'count'], ['io', 'data_offset'],
      ['mmio', 'phys_addr'], ['mmio', 'data'], ['mmio', 'len'], ['mmio', 'is_write'],
      ['fail_entry', 'hardware_entry_failure_reason'], ['internal', 'suberror'], ['internal', 'ndata'], ['internal', 'data'],
      ['system_event', 'type'], ['system_event', 'ndata'], ['system_event', 'data'],
    ]) {
      lines.push(`printf("run.${u}.${f} %zu\\n", offsetof(struct kvm_run, ${u}.${f}));`);
    }
    for (const name of Object.keys(IOCTL)) lines.push(`printf("${name} %lu\\n", (unsigned long)(${name}));`);
    const src = join(dir, 'p.c');
    writeFileSync(src, `#include <linux/kvm.h>\n#include <stdio.h>\n#include <stddef.h>\nint main(void){\n${lines.join('\n')}\nreturn 0;}\n`);
    const exe = join(dir, 'p');
    try {
      execFileSync('gcc', ['-o', exe, src], { stdio: 'pipe' });
    } catch (e) {
      return `gcc cannot build the probe: ${(e as Error).message.split('\n')[0]}`;
    }
    const out = execFileSync(exe, { encoding: 'utf8' });
    const map = new Map<string, number>();
    for (const line of out.trim().split('\n')) {
      const [k, v] = line.split(' ');
      map.set(k, Number(v));
    }
    return map;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const probe = (() => {
  try {
    return compileProbe();
  } catch (e) {
    return `the C probe failed: ${(e as Error).message}`;
  }
})();
if (typeof probe === 'string') console.warn(`*** SKIPPING the KVM ABI check against C headers: ${probe} ***`);

describe.skipIf(typeof probe === 'string')('KVM ABI matches linux/kvm.h', () => {
  const c = probe as Map<string, number>;
  const L = layouts();
  const types: Record<string, ReturnType<typeof layouts>['regs']> = {
    kvm_regs: L.regs,
    kvm_segment: L.segment,
    kvm_sregs: L.sregs,
    kvm_fpu: L.fpu,
    kvm_run: L.run,
    kvm_cpuid_entry2: L.cpuidEntry,
    kvm_msr_entry: L.msrEntry,
    kvm_userspace_memory_region: L.memoryRegion,
    kvm_irq_level: L.irqLevel,
    kvm_irq_routing: L.irqRouting,
    kvm_irq_routing_entry: L.irqRoutingEntry,
    kvm_pit_config: L.pitConfig,
    kvm_vcpu_events: L.vcpuEvents,
    kvm_debugregs: L.debugregs,
  };

  it('structure sizes and member offsets', () => {
    for (const [key, value] of c) {
      const [a, b] = key.split('.');
      if (a === 'sizeof') expect(koffi().sizeof(types[b]), key).toBe(value);
      else if (a in types) expect(off(types[a], b), key).toBe(value);
    }
    expect(SIZEOF_RUN).toBe(c.get('sizeof.kvm_run'));
  });

  it('the exit union members of kvm_run', () => {
    const exit = off(L.run, 'exit');
    const unions: Record<string, ReturnType<typeof layouts>['regs']> = { io: L.runIo, mmio: L.runMmio, fail_entry: L.runFailEntry, internal: L.runInternal, system_event: L.runSystemEvent };
    for (const [key, value] of c) {
      if (!key.startsWith('run.')) continue;
      const [, u, f] = key.split('.');
      expect(exit + off(unions[u], f), key).toBe(value);
    }
  });

  it('ioctl numbers', () => {
    for (const [name, value] of Object.entries(IOCTL)) expect(value, name).toBe(c.get(name));
  });
});
