import { readFileSync, statSync } from 'node:fs';
import { buildAcpiTables } from '../boot/acpi-tables.js';
import { IOAPIC_BASE, IOAPIC_ID, LAPIC_BASE } from '../devices/apic/index.js';
import { hasLinux64Entry, linux32EntryState, linux64EntryState } from '../boot/entry.js';
import { loadLinux } from '../boot/linux.js';
import { CPU_STATE_BYTES } from '../cpu/state-layout.js';
import { chooseAccel, type KvmProbe } from '../kvm/probe.js';
import { BadInputError, EmulatorError, HostError } from '../errors.js';
import { PacedClock, RealtimeClock, type Clock } from './clock.js';
import { VirtualClock } from './virtual-clock.js';
import type { MachineControl } from './control.js';
import { KvmVcpus } from './kvm-vcpus.js';
import { resolveEmulatorOptions, type EmulatorOptions, type EmulatorOptionsInput } from './options.js';
import { ACPI_PM_BASE, ACPI_SCI_IRQ, ACPI_TABLES_ADDR, DeferredPins, PcBoard } from './pc.js';
import { openCdrom, openIdeMedia, type IdeMedia } from './ide-drives.js';
import { PciPc, preparePciPc, type PciPcPlan } from './pci-board.js';
import { buildPciChipset, type PciChipset } from './pci-chipset.js';
import { DIRECT_BOOT_PIRQ_IRQS, setUpPciForDirectBoot } from './pci-setup.js';
import { NetAdapter } from './net-adapter.js';
import { SoftwareVcpus } from './software-vcpus.js';
import type { EntryEdit, RunHost, Vcpus } from './vcpus.js';
import type { MachineConfig, MachineExit, MachineListener, NetStatus, PortForward, RunState, ScreenUpdate } from './types.js';

export const MIN_MEMORY_MIB = 4;
export const MAX_MEMORY_MIB = 3584;
/** Processors a machine may have: each software CPU's state block (TLB included) takes 8 MiB of the one 4 GiB memory. */
export const MAX_CPUS = 16;

function readInput(path: string, what: string): Uint8Array {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new BadInputError(`${what} ${path} is not a file`);
    size = st.size;
  } catch (e) {
    if (e instanceof EmulatorError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new BadInputError(`${what} ${path} does not exist`);
    if (code === 'EACCES') throw new BadInputError(`${what} ${path} is not readable (permission denied)`);
    throw new BadInputError(`${what} ${path} cannot be opened: ${(e as Error).message}`);
  }
  if (size === 0) throw new BadInputError(`${what} ${path} is empty`);
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new BadInputError(`${what} ${path} cannot be read: ${(e as Error).message}`);
  }
}

/** Check a MachineConfig before allocating anything; throws BadInputError with one line. */
export function validateConfig(config: MachineConfig): void {
  const mem = config.memoryMiB;
  if (!Number.isInteger(mem) || mem < MIN_MEMORY_MIB || mem > MAX_MEMORY_MIB) {
    throw new BadInputError(`memory must be a whole number of MiB from ${MIN_MEMORY_MIB} to ${MAX_MEMORY_MIB}; got ${mem}`);
  }
  const cpus = config.cpus ?? 1;
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > MAX_CPUS) throw new BadInputError(`cpus must be a whole number from 1 to ${MAX_CPUS}; got ${cpus}`);
  if (config.initrd !== undefined && config.kernel === undefined) throw new BadInputError('--initrd needs --kernel');
  if (config.cmdline !== undefined && config.kernel === undefined) throw new BadInputError('--append needs --kernel');
  if (config.kernel === undefined && config.bios === undefined && config.cdrom === undefined && (config.disks ?? []).length === 0) {
    throw new BadInputError('nothing to boot: give a kernel, a BIOS, a CD-ROM or a disk');
  }
}


/** Which backend runs the processors (decided once, by Machine.create). */
type Backend = { kind: 'software' } | { kind: 'kvm'; probe: KvmProbe };

/**
 * A PC assembled from a MachineConfig. Its processors are one `Vcpus` (the software CPU's or
 * KVM's); run() hands the machine to their run loop until the guest stops.
 */
export class Machine implements MachineControl, RunHost {
  readonly board: PcBoard;
  /** The guest's processors, on whichever backend runs them. */
  readonly vcpus: Vcpus;
  readonly clock: Clock;
  /** The CPU's INTR/NMI pins as the PIC drives them (the backend attaches them to a processor). */
  readonly pins = new DeferredPins();
  private state: RunState = 'stopped';
  private a20Enabled = true;
  resetRequested: string | null = null;
  powerOffRequested: string | null = null;
  stopRequested: string | null = null;
  paused = false;
  private wake: (() => void) | null = null;
  private kernelImage: Uint8Array | null = null;
  private initrdImage: Uint8Array | null = null;
  /** The firmware, fw_cfg and display when firmware boots the machine (null for direct Linux boot). */
  pci: PciPc | null = null;
  /** The chipset (PCI bus, host and ISA bridges, IDE and its drives, PM), with or without firmware. */
  chipset!: PciChipset;
  /** The NIC and its NAT; null when the machine has no network adapter. */
  net: NetAdapter | null = null;

  private constructor(
    readonly config: MachineConfig,
    readonly listener: MachineListener,
    /** Tuning and debugging switches (parsed from TERRARIUM_* in app/, or given by tests). */
    readonly options: EmulatorOptions,
    firmware: PciPcPlan | null,
    backend: Backend,
  ) {
    const onKvm = backend.kind === 'kvm';
    const cpuCount = config.cpus ?? 1;
    const vclock = config.clock === 'virtual' && !onKvm ? new VirtualClock(1) : null;
    // 'instructions': at most 1 ns of guest time per instruction, so a slow host slows the guest's clock.
    const paced = vclock === null && !onKvm ? new PacedClock(undefined, options.clockDebug, config.clock === 'instructions' ? 1 : undefined) : null;
    // Under KVM the guest runs at host speed and reads the host's TSC: devices follow the host clock.
    this.clock = vclock ?? paced ?? new RealtimeClock();
    this.board = new PcBoard({
      ramBytes: config.memoryMiB * 1048576,
      romBytes: firmware?.romBytes ?? 256 * 1024,
      clock: this.clock,
      pins: this.pins,
      control: this,
      serialOutput: (bytes) => this.listener.serialOutput?.(bytes),
      // KVM maps the same memory into its vCPU threads; the software CPUs keep their state blocks in it.
      sharedMemory: onKvm,
      stateBytes: onKvm ? 0 : cpuCount * CPU_STATE_BYTES,
    });
    if (backend.kind === 'kvm') {
      this.vcpus = new KvmVcpus({ count: cpuCount, board: this.board, probe: backend.probe, irqchip: options.kvm.irqchip });
    } else {
      const software = new SoftwareVcpus({ count: cpuCount, board: this.board, clock: this.clock, pins: this.pins, options });
      // Guest time follows the instructions the software CPUs retire.
      if (vclock !== null) vclock.counter = software;
      if (paced !== null) paced.counter = software;
      this.vcpus = software;
    }
    const timers = this.board.timers;
    this.board.io.beforeAccess = () => {
      const now = this.clock.now();
      if (timers.nextDeadline() <= now) timers.runExpired(now);
    };
  }

  /**
   * Validate the config, load firmware/kernel/disks, wire devices. Throws typed errors on bad
   * input. `options` tunes and debugs the core (defaults for whatever it leaves out); the
   * core never reads the environment itself.
   */
  static async create(config: MachineConfig, listener: MachineListener = {}, options: EmulatorOptionsInput = {}): Promise<Machine> {
    validateConfig(config);
    const opts = resolveEmulatorOptions(options);
    const accel = chooseAccel(config.accel, { device: opts.kvm.device });
    if (accel.accel === 'kvm' && accel.probe?.usable !== true) throw new HostError(`--accel kvm: ${accel.probe?.reason ?? 'KVM is not available'}`);
    const kernel = config.kernel !== undefined ? readInput(config.kernel, 'kernel') : null;
    const initrd = config.initrd !== undefined ? readInput(config.initrd, 'initrd') : null;
    // The NAT first: a forward whose host port is taken fails before anything else is opened.
    const net = await NetAdapter.open(config.net, {
      onStatus: (s) => listener.networkChanged?.(s),
      log: (line) => listener.log?.(`net: ${line}`),
    });
    let firmware: PciPcPlan | null = null;
    let directMedia: IdeMedia | null = null;
    try {
      // Without a kernel, firmware boots a PCI PC from its drives; a kernel boots with the
      // same drives attached (the kernel finds them through ata_piix).
      if (kernel === null) firmware = await preparePciPc(config, true, opts.firmwareEnv);
      else directMedia = await openIdeMedia(config);
    } catch (e) {
      net?.close();
      throw e;
    }
    let m: Machine;
    try {
      m = new Machine(config, listener, opts, firmware, accel.accel === 'kvm' && accel.probe !== null ? { kind: 'kvm', probe: accel.probe } : { kind: 'software' });
    } catch (e) {
      net?.close();
      throw e;
    }
    if (firmware !== null) m.attachPciPc(firmware);
    else m.chipset = buildPciChipset(m.board, m, null, { media: directMedia ?? { disks: [], cdrom: null }, wake: () => m.wakeUp(), log: (line) => listener.log?.(line) });
    if (net !== null) {
      net.attach(m.board, m.chipset, () => m.wakeUp());
      m.net = net;
    }
    m.kernelImage = kernel;
    m.initrdImage = initrd;
    m.vcpus.reset(m.loadBoot());
    listener.accelChosen?.(accel.accel, accel.why);
    return m;
  }

  private attachPciPc(plan: PciPcPlan): void {
    const debug = this.options.firmwareDebug;
    this.pci = new PciPc({
      board: this.board,
      control: this,
      clock: this.clock,
      disks: plan.disks,
      cdrom: plan.cdrom,
      wake: () => this.wakeUp(),
      log: (line) => this.listener.log?.(line),
      bios: plan.bios,
      vgaBios: plan.vgaBios,
      bootOrder: this.config.boot ?? (this.config.cdrom !== undefined ? 'cdrom' : 'disk'),
      serialConsole: this.config.firmwareSerialConsole ?? false,
      firmwareDebug: debug ? (line) => this.listener.log?.(`firmware: ${line}`) : null,
      cpus: this.vcpus.count,
    });
    this.chipset = this.pci.chipset;
  }

  /** Load what boots the machine; returns where the BSP starts (null: the firmware's reset vector). */
  private loadBoot(): EntryEdit | null {
    if (this.kernelImage === null) return null;
    // Without firmware, the machine sets up its chipset and describes it itself.
    setUpPciForDirectBoot(this.chipset, this.board.io, ACPI_PM_BASE);
    const cpus = this.vcpus.madtCpus;
    const apic = cpus === null ? undefined : { cpus, ioapicId: IOAPIC_ID, ioapicAddress: IOAPIC_BASE, lapicAddress: LAPIC_BASE, levelIrqs: [ACPI_SCI_IRQ, ...new Set(DIRECT_BOOT_PIRQ_IRQS)] };
    const acpi = buildAcpiTables({
      base: ACPI_TABLES_ADDR,
      pmBase: ACPI_PM_BASE,
      sciIrq: ACPI_SCI_IRQ,
      pciRoot: true,
      // The PCI hole from the end of RAM (16 MiB aligned) up to the I/O APIC, as QEMU's tables say.
      pciWindows: { memStart: Math.ceil(this.board.memory.ramBytes / 0x1000000) * 0x1000000, memEnd: 0xfebfffff },
      apic,
    });
    this.board.memory.loadInto(ACPI_TABLES_ADDR, acpi.bytes);
    const plan = loadLinux(this.board.memory, this.kernelImage, {
      kernelName: this.config.kernel ?? 'kernel',
      initrd: this.initrdImage ?? undefined,
      initrdName: this.config.initrd,
      cmdline: this.config.cmdline ?? '',
    });
    // A 64-bit kernel is entered in long mode where the backend prefers it (KVM) or when asked
    // (linuxEntry '64', TERRARIUM_LINUX_ENTRY=64); '32' keeps the 32-bit entry everywhere.
    const wanted = this.options.linuxEntry === 'auto' ? this.vcpus.preferredLinuxEntry : this.options.linuxEntry;
    const memory = this.board.memory;
    if (wanted === '64' && hasLinux64Entry(this.kernelImage)) return (s) => linux64EntryState(s, plan, memory);
    return (s) => linux32EntryState(s, plan);
  }

  // MachineControl ------------------------------------------------------------

  requestReset(reason: string): void {
    this.resetRequested = reason;
    this.vcpus.kick();
  }

  requestPowerOff(reason: string): void {
    this.powerOffRequested = reason;
    this.vcpus.kick();
  }

  setA20(enabled: boolean): void {
    if (enabled === this.a20Enabled) return;
    this.a20Enabled = enabled;
    this.vcpus.setA20(enabled);
  }

  get a20(): boolean {
    return this.a20Enabled;
  }

  // Lifecycle -----------------------------------------------------------------

  private setState(s: RunState): void {
    if (s === this.state) return;
    this.state = s;
    this.listener.stateChanged?.(s);
  }

  get runState(): RunState {
    return this.state;
  }

  /** Run until the guest powers off, halts for good, crashes, or stop() is called. */
  async run(): Promise<MachineExit> {
    this.setState('running');
    const screen = this.listener.screenUpdate;
    if (screen !== undefined) this.pci?.startDisplay((u) => screen.call(this.listener, u));
    try {
      const exit = await this.vcpus.run(this);
      this.board.com1.flush();
      this.setState(exit.kind === 'crash' ? 'error' : 'stopped');
      return exit;
    } catch (e) {
      this.board.com1.flush();
      this.setState('error');
      throw e;
    } finally {
      // Drives are flushed and closed, and host sockets released, once the machine stops for good.
      this.net?.close();
      this.vcpus.close();
      if (this.pci !== null) await this.pci.close();
      else await this.chipset.ide.close();
    }
  }

  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
    });
  }

  private wakeUp(): void {
    this.wake?.();
  }

  /** Resolve when resume() (or a stop) wakes the machine. */
  waitForWake(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = () => {
        this.wake = null;
        resolve();
      };
    });
  }

  hardReset(): void {
    this.board.reset();
    this.setA20(true);
    this.vcpus.reset(this.loadBoot());
  }

  pause(): void {
    if (this.state !== 'running') return;
    this.paused = true;
    this.vcpus.kick();
    this.setState('paused');
    this.wakeUp();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.setState('running');
    this.wakeUp();
  }

  /** Hardware reset (the guest reboots). */
  reset(): void {
    this.requestReset('reset requested');
    this.wakeUp();
  }

  /** Pull the plug: run() resolves with { kind: 'stopped' }. */
  powerOff(): void {
    this.stopRequested = 'powered off by the user';
    this.vcpus.kick();
    this.paused = false;
    this.wakeUp();
  }

  /** Press the ACPI power button so the guest can shut down cleanly. */
  acpiShutdown(): void {
    this.board.acpi.pressPowerButton();
    this.wakeUp();
  }

  /** Bytes typed into COM1. */
  sendSerial(bytes: Uint8Array): void {
    this.board.com1.receive(bytes);
    this.wakeUp();
  }

  /** A key by its KeyboardEvent.code (e.g. "KeyA", "Enter", "ControlLeft"). */
  sendKey(code: string, down: boolean): void {
    this.board.i8042.keyEvent(code, down);
    this.wakeUp();
  }

  /** Relative mouse motion and button state (bit 0 left, 1 right, 2 middle). */
  sendPointer(dx: number, dy: number, buttons: number): void {
    this.board.i8042.pointerEvent(dx, dy, buttons);
    this.wakeUp();
  }

  /** Insert (path) or eject (null) the CD-ROM medium; a failure goes to the log. */
  changeCdrom(path: string | null): void {
    this.setCdrom(path).catch((e: unknown) => this.listener.log?.(`CD-ROM ${path ?? 'eject'}: ${e instanceof Error ? e.message : String(e)}`));
  }

  /** Insert (path) or eject (null) the CD-ROM medium; rejects with BadInputError when it cannot. */
  async setCdrom(path: string | null): Promise<void> {
    if (this.chipset.ide.cdrom === null) throw new BadInputError('this machine has no CD-ROM drive');
    const medium = path === null ? null : await openCdrom(path);
    const refused = this.chipset.ide.changeMedium(medium);
    if (refused !== null) {
      await medium?.close();
      throw new BadInputError(refused);
    }
    this.wakeUp();
  }

  /**
   * Replace the port forwards while the guest runs. Rejects with BadInputError naming the
   * rule (a host port in use, a malformed rule); the previous forwards then stay active.
   */
  async setForwards(rules: PortForward[]): Promise<void> {
    if (this.net === null) throw new BadInputError('this machine has no NAT network adapter, so it has no port forwards');
    await this.net.setForwards(rules);
  }

  /** The network adapter's address and forwards, or null without one. */
  netStatus(): NetStatus | null {
    return this.net?.status() ?? null;
  }

  /** The whole current screen, or null when there is no display. */
  screenshot(): ScreenUpdate | null {
    return this.pci?.screenshot() ?? null;
  }
}
