/**
 * The emulation core's tuning and debugging switches from TERRARIUM_* environment variables,
 * parsed once where app/ starts machines (`terrarium run`, the session worker; bench/ too)
 * and handed to Machine.create. The core itself never reads the environment.
 *
 *   TERRARIUM_JIT=0                   no JIT: the pure interpreter
 *   TERRARIUM_JIT_BACKEND=js|wasm     the JIT's code generator (js)
 *   TERRARIUM_JIT_THRESHOLD=n         executions of a block before it is compiled (12)
 *   TERRARIUM_JIT_REGION_BLOCKS=n     blocks per compiled region, at most (48)
 *   TERRARIUM_JIT_REGION_SOURCE=n     generated source per region in characters, at most (10000)
 *   TERRARIUM_JIT_DUMP=file           append every compiled region's source to file
 *   TERRARIUM_JIT_DEBUG=1             report regions that fail to compile
 *   TERRARIUM_JIT_BACKGROUND=1        compile wasm regions on the engine's background threads (off)
 *   TERRARIUM_CLOCK_DEBUG=1           log the paced clock's large corrections
 *   TERRARIUM_FIRMWARE_DEBUG=1        SeaBIOS's debug port into the log
 *   TERRARIUM_FIRMWARE_DIR=dir        look for SeaBIOS there first
 *   TERRARIUM_LINUX_ENTRY=32|64       force the 32- or 64-bit Linux boot entry
 *   TERRARIUM_TRACE_EIP=lo-hi         post-mortem interrupt trace, dumped at a fault in [lo, hi) (hex)
 *   TERRARIUM_APIC=0                  no local APIC and I/O APIC on the software CPU (a PIC-only PC; one CPU)
 *   TERRARIUM_SSE=0                   no SSE on the software CPU (CPUID stops at MMX)
 *   TERRARIUM_KVM_TRACE=1             log the KVM run loop
 *   TERRARIUM_KVM_IRQCHIP=auto|kernel|user   where KVM's PIC, PIT and APIC live
 *   TERRARIUM_KVM_DEVICE=path         the KVM device (tests)
 *
 * The switches keep their historical meaning (TERRARIUM_JIT, TERRARIUM_APIC and TERRARIUM_SSE
 * are on unless exactly 0, the debug flags are on only when exactly 1). An empty variable counts as unset. A value that
 * cannot mean anything (a threshold that is not a number, an unknown mode) is refused with
 * an AppError naming the variable, instead of being silently ignored.
 */
import type { EmulatorOptions, EipRange, JitBackendName, LinuxEntry } from '../../emulator-core/machine/options.js';
import { DEFAULT_JIT_OPTIONS, DEFAULT_KVM_OPTIONS } from '../../emulator-core/machine/options.js';
import type { IrqchipMode } from '../../emulator-core/kvm/backend.js';
import { AppError } from '../errors.js';

/** The environment to read: process.env, or a test's own. */
export type EnvSource = Readonly<Record<string, string | undefined>>;

function value(env: EnvSource, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

function refuse(name: string, text: string, want: string): never {
  throw new AppError('BAD_INPUT', `${name}=${text} is not valid: ${want}`, {
    field: name,
    hint: `Fix or unset the environment variable ${name}.`,
    context: { variable: name, value: text },
  });
}

function wholeNumber(env: EnvSource, name: string, min: number, fallback: number): number {
  const text = value(env, name);
  if (text === undefined) return fallback;
  const n = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min) return refuse(name, text, `give a whole number of at least ${min}; the default is ${fallback}`);
  return n;
}

function choice<T extends string>(env: EnvSource, name: string, allowed: readonly T[], fallback: T): T {
  const text = value(env, name);
  if (text === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(text)) return refuse(name, text, `choose ${allowed.join(', ')}`);
  return text as T;
}

function eipRange(env: EnvSource, name: string): EipRange | null {
  const text = value(env, name);
  if (text === undefined) return null;
  const m = /^([0-9a-f]{1,8})-([0-9a-f]{1,8})$/i.exec(text.trim());
  if (m === null) return refuse(name, text, 'give a range of 32-bit linear addresses in hex, lo-hi, such as c1000000-c2000000');
  return { lo: parseInt(m[1], 16), hi: parseInt(m[2], 16) };
}

/** Every core option from `env` (defaults where a variable is unset); throws AppError BAD_INPUT naming a bad variable. */
export function emulatorOptionsFromEnv(env: EnvSource): EmulatorOptions {
  return {
    jit: {
      enabled: env.TERRARIUM_JIT !== '0',
      backend: choice<JitBackendName>(env, 'TERRARIUM_JIT_BACKEND', ['js', 'wasm'], DEFAULT_JIT_OPTIONS.backend),
      hotThreshold: wholeNumber(env, 'TERRARIUM_JIT_THRESHOLD', 0, DEFAULT_JIT_OPTIONS.hotThreshold),
      regionBlocks: wholeNumber(env, 'TERRARIUM_JIT_REGION_BLOCKS', 1, DEFAULT_JIT_OPTIONS.regionBlocks),
      regionSource: wholeNumber(env, 'TERRARIUM_JIT_REGION_SOURCE', 1, DEFAULT_JIT_OPTIONS.regionSource),
      dumpFile: value(env, 'TERRARIUM_JIT_DUMP') ?? null,
      debug: env.TERRARIUM_JIT_DEBUG === '1',
      background: env.TERRARIUM_JIT_BACKGROUND === '1',
    },
    kvm: {
      device: value(env, 'TERRARIUM_KVM_DEVICE') ?? DEFAULT_KVM_OPTIONS.device,
      irqchip: choice<IrqchipMode>(env, 'TERRARIUM_KVM_IRQCHIP', ['auto', 'kernel', 'user'], DEFAULT_KVM_OPTIONS.irqchip),
      trace: env.TERRARIUM_KVM_TRACE === '1',
    },
    clockDebug: env.TERRARIUM_CLOCK_DEBUG === '1',
    firmwareDebug: env.TERRARIUM_FIRMWARE_DEBUG === '1',
    firmwareEnv: { TERRARIUM_FIRMWARE_DIR: value(env, 'TERRARIUM_FIRMWARE_DIR'), ProgramFiles: env.ProgramFiles },
    linuxEntry: choice<LinuxEntry>(env, 'TERRARIUM_LINUX_ENTRY', ['auto', '32', '64'], 'auto'),
    traceEip: eipRange(env, 'TERRARIUM_TRACE_EIP'),
    apic: env.TERRARIUM_APIC !== '0',
    sse: env.TERRARIUM_SSE !== '0',
  };
}
