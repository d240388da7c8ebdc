/**
 * Can this host run guests on KVM, and should `--accel auto` use it? Without VMX/SVM, a
 * /dev/kvm may still exist through PVM (module kvm_pvm), which emulates ordinary guest code
 * instruction by instruction in the kernel: slower than our own interpreter, so auto
 * avoids it. Every failure becomes one line saying why.
 */
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { DEV_KVM } from './kvm.js';

export type KvmFlavour = 'vmx' | 'svm' | 'pvm' | 'unknown';

export interface KvmProbe {
  /** /dev/kvm exists and opens read-write. */
  usable: boolean;
  /** Guest code runs natively (hardware virtualization); false on PVM. */
  hardware: boolean;
  flavour: KvmFlavour;
  /** One line: why KVM cannot be used, or what it is. */
  reason: string;
  device: string;
}

export interface ProbeOptions {
  /** The KVM device, /dev/kvm when omitted (the machine's `kvm.device` option, TERRARIUM_KVM_DEVICE, for tests). */
  device?: string;
  sysModule?: string;
  cpuinfo?: string;
}

function cpuFlags(cpuinfo: string): Set<string> {
  try {
    const text = readFileSync(cpuinfo, 'utf8');
    const line = /^flags\s*:(.*)$/m.exec(text);
    return new Set((line?.[1] ?? '').trim().split(/\s+/));
  } catch {
    return new Set();
  }
}

/** Which KVM implementation backs /dev/kvm, from the loaded modules and the CPU flags. */
export function kvmFlavour(sysModule = '/sys/module', cpuinfo = '/proc/cpuinfo'): KvmFlavour {
  if (existsSync(`${sysModule}/kvm_pvm`)) return 'pvm';
  if (existsSync(`${sysModule}/kvm_intel`)) return 'vmx';
  if (existsSync(`${sysModule}/kvm_amd`)) return 'svm';
  const flags = cpuFlags(cpuinfo);
  if (flags.has('vmx')) return 'vmx';
  if (flags.has('svm')) return 'svm';
  return 'unknown';
}

/** Look at /dev/kvm without loading any native code. */
export function probeKvm(options: ProbeOptions = {}): KvmProbe {
  const device = options.device ?? DEV_KVM;
  const flavour = kvmFlavour(options.sysModule, options.cpuinfo);
  const fail = (reason: string): KvmProbe => ({ usable: false, hardware: false, flavour, reason, device });
  if (process.platform !== 'linux') return fail(`KVM needs a Linux host (this is ${process.platform})`);
  let isDevice: boolean;
  try {
    isDevice = statSync(device).isCharacterDevice();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      return fail(`${device} does not exist (the kvm module is not loaded, or the host has no hardware virtualization)`);
    }
    return fail(`${device} cannot be examined: ${(e as Error).message}`);
  }
  try {
    closeSync(openSync(device, 'r+'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      return fail(`${device} is not accessible: permission denied (add the user to the kvm group, or run with access to ${device})`);
    }
    if (code === 'ENXIO' || code === 'ENODEV') return fail(`${device} has no driver behind it (load kvm_intel or kvm_amd)`);
    return fail(`${device} cannot be opened: ${(e as Error).message}`);
  }
  if (!isDevice) return fail(`${device} is not a device (not a KVM host)`);
  switch (flavour) {
    case 'pvm':
      return {
        usable: true,
        hardware: false,
        flavour,
        device,
        reason: `${device} is PVM (kernel module kvm_pvm, no VMX/SVM): it emulates ordinary guest code in the kernel, slower than the interpreter`,
      };
    case 'unknown':
      return { usable: true, hardware: false, flavour, device, reason: `${device} exists but the CPU shows no VMX/SVM, so guest code would not run natively` };
    default:
      return { usable: true, hardware: true, flavour, device, reason: `${device} with hardware virtualization (${flavour === 'vmx' ? 'Intel VT-x' : 'AMD-V'})` };
  }
}

export interface AccelChoice {
  accel: 'kvm' | 'interpreter';
  /** One line for the user, starting with the accelerator's name. */
  why: string;
  probe: KvmProbe | null;
}

/**
 * Resolve `auto | kvm | interpreter`. `kvm` is honoured whenever /dev/kvm opens (even on
 * PVM); a KVM that cannot open comes back with `probe.usable` false for the caller to refuse.
 */
export function chooseAccel(requested: 'auto' | 'kvm' | 'interpreter', options: ProbeOptions = {}): AccelChoice {
  if (requested === 'interpreter') return { accel: 'interpreter', why: 'interpreter: requested', probe: null };
  const probe = probeKvm(options);
  if (requested === 'kvm') {
    if (!probe.usable) return { accel: 'kvm', why: `kvm: ${probe.reason}`, probe };
    return { accel: 'kvm', why: probe.hardware ? `kvm: ${probe.reason}` : `kvm: requested, although ${probe.reason}`, probe };
  }
  if (probe.usable && probe.hardware) return { accel: 'kvm', why: `kvm: ${probe.reason}`, probe };
  return { accel: 'interpreter', why: `interpreter: ${probe.reason}${probe.usable ? '; --accel kvm forces it' : ''}`, probe };
}
