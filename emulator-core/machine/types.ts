/**
 * The public face of a machine: what the CLI and app/ sessions configure and observe.
 * app/ runs a Machine inside a worker and relays these events; nothing here depends on how
 * the guest is executed.
 */
export type Accel = 'auto' | 'kvm' | 'interpreter';
export type BootDevice = 'cdrom' | 'disk';
export type DiskFormat = 'raw' | 'qcow2';

export interface DiskConfig {
  path: string;
  /** Detected from the image header when omitted. */
  format?: DiskFormat;
  readOnly?: boolean;
}

export interface MachineConfig {
  memoryMiB: number;
  accel: Accel;
  /**
   * Processors (default 1). The software CPU runs them round-robin with local APICs; KVM runs
   * a thread per vCPU (with its in-kernel irqchip).
   */
  cpus?: number;
  /** Direct Linux boot. */
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  /** Firmware (SeaBIOS or any ROM image of 64..256 KiB). */
  bios?: string;
  vgaBios?: string;
  cdrom?: string;
  disks?: DiskConfig[];
  boot?: BootDevice;
  /** Firmware and bootloader text on COM1 too (SeaBIOS sercon), for headless runs. */
  firmwareSerialConsole?: boolean;
  /**
   * 'realtime' follows the host clock (interactive use); 'virtual' advances guest time with
   * executed instructions and skips idle time (deterministic, fast headless runs);
   * 'instructions' follows the host clock too, but never counts more than 1 ns of guest time
   * per instruction: where the software CPU is slower than that, the guest's clock runs slow
   * (its timeouts stretch with its work) while idle time still passes in real time.
   */
  clock?: 'realtime' | 'virtual' | 'instructions';
  /** What a triple fault does: reset the PC (default, like hardware) or stop with a crash. */
  onTripleFault?: 'reset' | 'crash';
  /** The network adapter (an e1000); absent or mode 'none': the machine has no NIC. */
  net?: NetConfig;
}

/** A host port forwarded into the guest (QEMU's hostfwd, VirtualBox's NAT port forwarding). */
export interface PortForward {
  protocol: 'tcp' | 'udp';
  /** Host address to listen on (default 127.0.0.1; 0.0.0.0 exposes the VM to the network). */
  hostAddress?: string;
  hostPort: number;
  /** Guest address (default: the address the NAT's DHCP server leases, 10.0.2.15). */
  guestAddress?: string;
  guestPort: number;
}

export interface NetConfig {
  mode: 'nat' | 'none';
  /** The NIC's MAC address, "52:54:00:xx:xx:xx" (default 52:54:00:12:34:56, as QEMU). */
  mac?: string;
  forwards?: PortForward[];
  /** Refuse the guest any connection to the host itself (10.0.2.2 and the host's own addresses). */
  blockHostAccess?: boolean;
  /** DNS servers the NAT's 10.0.2.3 forwards to (default: the host's resolvers). */
  dnsServers?: string[];
}

/** Why a machine stopped running. */
export type MachineExit =
  | { kind: 'poweroff'; reason: string }
  | { kind: 'halt'; reason: string }
  | { kind: 'crash'; reason: string }
  | { kind: 'stopped'; reason: string };

export type RunState = 'stopped' | 'starting' | 'running' | 'paused' | 'stopping' | 'error';

/** A rectangle of the guest screen that changed, RGBA pixels row by row. */
export interface ScreenUpdate {
  width: number;
  height: number;
  x: number;
  y: number;
  w: number;
  h: number;
  rgba: Uint8Array;
}

export interface MachineListener {
  serialOutput?(bytes: Uint8Array): void;
  /** The accelerator actually used and why (e.g. "interpreter: /dev/kvm is PVM"). */
  accelChosen?(accel: 'kvm' | 'interpreter', why: string): void;
  stateChanged?(state: RunState): void;
  screenUpdate?(update: ScreenUpdate): void;
  /** Guest wrote a diagnostic (port 0x80 code, unknown port) worth logging. */
  log?(line: string): void;
  /** The NAT leased an address to the guest, or the active forwards changed. */
  networkChanged?(status: NetStatus): void;
}

/** What the Details pane and status bar show about a NAT adapter. */
export interface NetStatus {
  mode: 'nat' | 'none';
  mac: string;
  /** The address the guest got by DHCP, or null before it asked. */
  guestAddress: string | null;
  /** Forwards listening now (a rule whose host port could not be bound is not here). */
  forwards: PortForward[];
}
