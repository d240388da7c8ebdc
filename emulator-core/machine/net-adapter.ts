/**
 * The machine's network adapter: an e1000 at PCI 03.0 (where QEMU's "pc" puts the first NIC)
 * behind the NAT. Firmware or pci-setup.ts assigns its BARs and IRQ like any PCI device.
 */
import { E1000 } from '../devices/net/index.js';
import { createNat } from '../net/create-nat.js';
import { DEFAULT_MAC, macBytes } from '../net/forward-rules.js';
import type { NatBackend } from '../net/nat.js';
import type { PcBoard } from './pc.js';
import { PCI_SLOT_NIC, type PciChipset } from './pci-chipset.js';
import type { NetConfig, NetStatus, PortForward } from './types.js';

export class NetAdapter {
  private nic: E1000 | null = null;

  private constructor(
    private readonly nat: NatBackend,
    private readonly mac: string,
  ) {}

  /**
   * Open the NAT (and its port forwards) for `config`; null when the machine has no NIC.
   * Throws BadInputError naming the bad MAC or forward; nothing stays open then.
   */
  static async open(config: NetConfig | undefined, hooks: { onStatus: (s: NetStatus) => void; log: (line: string) => void }): Promise<NetAdapter | null> {
    if (config === undefined || config.mode === 'none') return null;
    const nat = await createNat(config, { onStatus: hooks.onStatus, log: hooks.log });
    return new NetAdapter(nat, config.mac ?? DEFAULT_MAC);
  }

  /** Plug the card into the chipset; `interrupted` runs when it raises its interrupt (to wake a halted CPU). */
  attach(board: PcBoard, chipset: PciChipset, interrupted: () => void): void {
    const nic = new E1000({ memory: board.memory, mac: macBytes(this.mac), backend: this.nat, timers: board.timers });
    chipset.bus.add(PCI_SLOT_NIC, 0, nic, nic.barHandlers());
    nic.connectIrq(chipset.bus.intx(PCI_SLOT_NIC, 0));
    // Frames arrive from host socket callbacks, possibly while the CPU sits in HLT.
    nic.onInterrupt = interrupted;
    board.devices.push(nic);
    this.nic = nic;
  }

  get card(): E1000 | null {
    return this.nic;
  }

  status(): NetStatus {
    return this.nat.status();
  }

  /** Replace the port forwards while the guest runs; on BadInputError the previous ones stay. */
  setForwards(rules: PortForward[]): Promise<void> {
    return this.nat.setForwards(rules);
  }

  close(): void {
    this.nat.close();
  }
}
