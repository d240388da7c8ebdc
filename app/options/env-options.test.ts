import { describe, expect, it } from 'vitest';
import { resolveEmulatorOptions } from '../../emulator-core/machine/options.js';
import { AppError } from '../errors.js';
import { emulatorOptionsFromEnv } from './env-options.js';

function refusal(env: Record<string, string>): AppError {
  try {
    emulatorOptionsFromEnv(env);
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('accepted');
}

describe('emulatorOptionsFromEnv', () => {
  it('gives the core defaults when nothing is set (empty counts as unset)', () => {
    const defaults = resolveEmulatorOptions();
    expect(emulatorOptionsFromEnv({})).toEqual({ ...defaults, firmwareEnv: { TERRARIUM_FIRMWARE_DIR: undefined, ProgramFiles: undefined } });
    expect(emulatorOptionsFromEnv({ TERRARIUM_JIT_THRESHOLD: '', TERRARIUM_JIT_DUMP: '', TERRARIUM_LINUX_ENTRY: '' }).jit).toEqual(defaults.jit);
    expect(defaults.jit).toMatchObject({ enabled: true, backend: 'js', hotThreshold: 12, regionBlocks: 48, regionSource: 10_000, dumpFile: null, debug: false });
    expect(defaults).toMatchObject({ kvm: { device: '/dev/kvm', irqchip: 'auto', trace: false }, linuxEntry: 'auto', traceEip: null, clockDebug: false });
  });

  it('reads every variable with its historical meaning', () => {
    const o = emulatorOptionsFromEnv({
      TERRARIUM_JIT: '0',
      TERRARIUM_JIT_BACKEND: 'wasm',
      TERRARIUM_JIT_THRESHOLD: '3',
      TERRARIUM_JIT_REGION_BLOCKS: '8',
      TERRARIUM_JIT_REGION_SOURCE: '5000',
      TERRARIUM_JIT_DUMP: '/tmp/regions.js',
      TERRARIUM_JIT_DEBUG: '1',
      TERRARIUM_JIT_BACKGROUND: '1',
      TERRARIUM_CLOCK_DEBUG: '1',
      TERRARIUM_FIRMWARE_DEBUG: '1',
      TERRARIUM_FIRMWARE_DIR: '/opt/fw',
      TERRARIUM_LINUX_ENTRY: '64',
      TERRARIUM_TRACE_EIP: 'c1000000-C2000000',
      TERRARIUM_KVM_TRACE: '1',
      TERRARIUM_KVM_IRQCHIP: 'user',
      TERRARIUM_KVM_DEVICE: '/dev/null',
    });
    expect(o.jit).toEqual({ enabled: false, backend: 'wasm', hotThreshold: 3, regionBlocks: 8, regionSource: 5000, dumpFile: '/tmp/regions.js', debug: true, background: true });
    expect(o.kvm).toEqual({ device: '/dev/null', irqchip: 'user', trace: true });
    expect(o).toMatchObject({ clockDebug: true, firmwareDebug: true, linuxEntry: '64', traceEip: { lo: 0xc1000000, hi: 0xc2000000 } });
    expect(o.firmwareEnv.TERRARIUM_FIRMWARE_DIR).toBe('/opt/fw');
    // Flags are on only for exactly "1" (the JIT off only for exactly "0"), as before.
    const flags = emulatorOptionsFromEnv({ TERRARIUM_JIT: '1', TERRARIUM_JIT_DEBUG: 'yes', TERRARIUM_KVM_TRACE: 'true' });
    expect([flags.jit.enabled, flags.jit.debug, flags.kvm.trace]).toEqual([true, false, false]);
  });

  it('refuses a bad number with a BAD_INPUT error naming the variable', () => {
    for (const [name, text] of [
      ['TERRARIUM_JIT_THRESHOLD', 'twelve'],
      ['TERRARIUM_JIT_THRESHOLD', '-1'],
      ['TERRARIUM_JIT_REGION_BLOCKS', '4.5'],
      ['TERRARIUM_JIT_REGION_SOURCE', '0'],
    ]) {
      const e = refusal({ [name]: text });
      expect(e.code).toBe('BAD_INPUT');
      expect(e.field).toBe(name);
      expect(e.message).toContain(`${name}=${text}`);
    }
  });

  it('refuses unknown modes and malformed trace ranges', () => {
    expect(refusal({ TERRARIUM_LINUX_ENTRY: '48' }).field).toBe('TERRARIUM_LINUX_ENTRY');
    expect(refusal({ TERRARIUM_JIT_BACKEND: 'asm' }).message).toMatch(/TERRARIUM_JIT_BACKEND=asm .*js, wasm/);
    expect(refusal({ TERRARIUM_KVM_IRQCHIP: 'split' }).message).toMatch(/TERRARIUM_KVM_IRQCHIP=split .*auto, kernel, user/);
    expect(refusal({ TERRARIUM_TRACE_EIP: 'c1000000' }).field).toBe('TERRARIUM_TRACE_EIP');
  });
});
