/**
 * Tuning and debugging switches of the emulation core, as one typed object. The core never
 * reads the environment: app/ parses the TERRARIUM_* variables once (app/options/env-options.ts)
 * where it starts machines and passes the result to Machine.create, which hands each part to
 * its owner (the JIT, the paced clock, the KVM probe, backend and run loop, the EIP trace).
 * Tests pass what they need directly. The defaults are the behaviour with no variable set.
 */
import type { FirmwareEnv } from '../boot/firmware.js';
import type { IrqchipMode } from '../kvm/backend.js';

/** Which code generator compiles hot regions: JavaScript source, or WebAssembly (jit/wasm-backend). */
export type JitBackendName = 'js' | 'wasm';

export interface JitOptions {
  /** Compile hot code at all; false runs the pure interpreter (TERRARIUM_JIT=0). */
  enabled: boolean;
  /** The code generator (TERRARIUM_JIT_BACKEND). */
  backend: JitBackendName;
  /** Executions of a block before it is compiled (TERRARIUM_JIT_THRESHOLD). */
  hotThreshold: number;
  /** Blocks per region, at most (TERRARIUM_JIT_REGION_BLOCKS). */
  regionBlocks: number;
  /** Generated source per region in characters, at most (TERRARIUM_JIT_REGION_SOURCE). */
  regionSource: number;
  /** Append every compiled region's source to this file (TERRARIUM_JIT_DUMP). */
  dumpFile: string | null;
  /** Report regions the code generator could not compile, with their source (TERRARIUM_JIT_DEBUG=1). */
  debug: boolean;
  /**
   * Let the engine compile regions on its background threads while the interpreter runs
   * on (backends that can: wasm); a region is installed when the host's event loop next
   * turns. Off by default: on this 2-core host the amd64 kernel boot with 2 CPUs took 180 s
   * with it and 105 s without (regions wait for busy worker threads and the next event-loop
   * turn, interpreted meanwhile); with 1 CPU it gained 4%.
   */
  background: boolean;
}

export interface KvmOptions {
  /** The KVM device to probe and open (TERRARIUM_KVM_DEVICE). */
  device: string;
  /** Where the PIC, PIT and local APIC live (TERRARIUM_KVM_IRQCHIP); 'auto' uses the kernel's when KVM has them. */
  irqchip: IrqchipMode;
  /** Log the run loop's steps and the final vCPU state to stderr (TERRARIUM_KVM_TRACE=1). */
  trace: boolean;
}

/**
 * Which boot protocol entry direct Linux boot takes (TERRARIUM_LINUX_ENTRY): 'auto' is the
 * 64-bit entry on KVM and the 32-bit one on the software CPU; '32' and '64' force one.
 */
export type LinuxEntry = 'auto' | '32' | '64';

/** A range of linear addresses [lo, hi) (TERRARIUM_TRACE_EIP=lo-hi, hex). */
export interface EipRange {
  lo: number;
  hi: number;
}

export interface EmulatorOptions {
  jit: JitOptions;
  kvm: KvmOptions;
  /** Log the paced clock's large corrections to stderr (TERRARIUM_CLOCK_DEBUG=1). */
  clockDebug: boolean;
  /** Open SeaBIOS's debug port and log its output (TERRARIUM_FIRMWARE_DEBUG=1). */
  firmwareDebug: boolean;
  /** What the firmware search reads besides its fixed places (TERRARIUM_FIRMWARE_DIR, and ProgramFiles on Windows). */
  firmwareEnv: FirmwareEnv;
  linuxEntry: LinuxEntry;
  /** Post-mortem trace of interrupts and IRETs, dumped at a supervisor fault in this range (cpu/debug-trace.ts). */
  traceEip: EipRange | null;
  /**
   * Give the software CPU a local APIC and the machine an I/O APIC, with a MADT on direct
   * boots, as every PC since the Pentium has (TERRARIUM_APIC=0 turns it off: a PIC-only PC).
   * Machines with several CPUs always have them.
   */
  apic: boolean;
  /** SSE through SSE4.2 in the software CPU and CPUID (TERRARIUM_SSE=0 turns it off: a Pentium Pro level CPU). */
  sse: boolean;
}

/** Options as callers give them: any part may be left out, and takes its default. */
export interface EmulatorOptionsInput extends Partial<Omit<EmulatorOptions, 'jit' | 'kvm'>> {
  jit?: Partial<JitOptions>;
  kvm?: Partial<KvmOptions>;
}

export const DEFAULT_JIT_OPTIONS: Readonly<JitOptions> = Object.freeze({
  enabled: true,
  backend: 'js',
  hotThreshold: 12,
  regionBlocks: 48,
  // V8 does not optimize functions beyond ~60 KB of bytecode, and an unoptimized region
  // runs several times slower than two small ones.
  regionSource: 10_000,
  dumpFile: null,
  debug: false,
  background: false,
});

export const DEFAULT_KVM_OPTIONS: Readonly<KvmOptions> = Object.freeze({
  device: '/dev/kvm', // kvm/kvm.ts's DEV_KVM; a literal, so this module imports types only
  irqchip: 'auto',
  trace: false,
});

/** `defaults` with the fields `given` sets (an explicit undefined keeps the default). */
function fill<T extends object>(defaults: Readonly<T>, given: Partial<T> | undefined): T {
  const out: T = { ...(defaults as T) };
  if (given !== undefined) {
    for (const key of Object.keys(given) as (keyof T)[]) if (given[key] !== undefined) out[key] = given[key] as T[keyof T];
  }
  return out;
}

/** Every part filled in, from the defaults where `input` says nothing. */
export function resolveEmulatorOptions(input: EmulatorOptionsInput = {}): EmulatorOptions {
  return {
    jit: fill(DEFAULT_JIT_OPTIONS, input.jit),
    kvm: fill(DEFAULT_KVM_OPTIONS, input.kvm),
    clockDebug: input.clockDebug ?? false,
    firmwareDebug: input.firmwareDebug ?? false,
    firmwareEnv: input.firmwareEnv ?? {},
    linuxEntry: input.linuxEntry ?? 'auto',
    traceEip: input.traceEip ?? null,
    apic: input.apic ?? true,
    sse: input.sse ?? true,
  };
}
