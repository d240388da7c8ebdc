/**
 * The PIIX IDE function at 01.1 and the drives on it, the same whether firmware or the
 * machine itself (direct Linux boot) sets up the chipset: disks on the primary master,
 * primary slave and secondary slave in config order, the CD-ROM on the secondary master
 * (as QEMU's -hda/-hdb/-cdrom). The controller sits in compatibility mode on IRQ 14/15.
 */
import { BadInputError } from '../errors.js';
import { AtaDisk, AtapiCdrom, IdeController } from '../devices/ide/index.js';
import { detectDiskFormat, openDisk, type BlockBackend } from '../storage/index.js';
import type { PcBoard } from './pc.js';
import type { MachineConfig } from './types.js';

/** A drive's position, and what the firmware's boot order names. */
export interface IdeBootDevice {
  kind: 'cdrom' | 'disk';
  channel: 0 | 1;
  slave: boolean;
}

/** Opened images: disks in config order, and the CD-ROM medium when there is a CD drive. */
export interface IdeMedia {
  disks: BlockBackend[];
  /** null: the machine has no CD-ROM drive. */
  cdrom: BlockBackend | null;
}

export interface IdeDrivesOptions {
  media: IdeMedia;
  /** Wake a halted machine when a disk request completes. */
  wake: () => void;
  log: (line: string) => void;
}

/**
 * Where drives go on the two IDE channels: the CD-ROM on the secondary master (as QEMU's
 * -cdrom), disks on the primary master, primary slave and secondary slave.
 */
export function placeDrives(diskCount: number, hasCdrom: boolean): { disks: IdeBootDevice[]; cdrom: IdeBootDevice | null } {
  const disk = (channel: 0 | 1, slave: boolean): IdeBootDevice => ({ kind: 'disk', channel, slave });
  const slots = hasCdrom ? [disk(0, false), disk(0, true), disk(1, true)] : [disk(0, false), disk(0, true), disk(1, false), disk(1, true)];
  if (diskCount > slots.length) {
    throw new BadInputError(`at most ${slots.length} disks fit on the two IDE channels${hasCdrom ? ' beside the CD-ROM' : ''}; got ${diskCount}`);
  }
  return { disks: slots.slice(0, diskCount), cdrom: hasCdrom ? { kind: 'cdrom', channel: 1, slave: false } : null };
}

/** Open the disks and the CD-ROM of `config`; throws BadInputError with one line (nothing stays open). */
export async function openIdeMedia(config: MachineConfig): Promise<IdeMedia> {
  placeDrives((config.disks ?? []).length, config.cdrom !== undefined);
  const disks: BlockBackend[] = [];
  let cdrom: BlockBackend | null = null;
  try {
    for (const d of config.disks ?? []) disks.push(await openDisk(d.path, { format: d.format, readOnly: d.readOnly ?? false }));
    if (config.cdrom !== undefined) cdrom = await openCdrom(config.cdrom);
  } catch (e) {
    await Promise.allSettled(disks.map((d) => d.close()));
    throw e;
  }
  return { disks, cdrom };
}

/** An ISO image as a read-only raw medium of whole 2048-byte blocks. */
export async function openCdrom(file: string): Promise<BlockBackend> {
  if ((await detectDiskFormat(file)) === 'qcow2') throw new BadInputError(`CD-ROM image ${file} is a qcow2 disk image, not an ISO; attach it with --disk`);
  const medium = await openDisk(file, { format: 'raw', readOnly: true });
  if (medium.size === 0 || medium.size % 2048 !== 0) {
    await medium.close();
    throw new BadInputError(`CD-ROM image ${file} is ${medium.size} bytes, not a whole number of 2048-byte sectors: not an ISO image`);
  }
  return medium;
}

export class IdeDrives {
  readonly controller: IdeController;
  readonly cdrom: AtapiCdrom | null;
  /** Attached drives in config order (disks, then the CD-ROM). */
  readonly placed: readonly IdeBootDevice[];
  private readonly backends: BlockBackend[];

  /** Build the controller with its drives and claim its legacy ports (the chipset puts it on the bus and among the board's devices). */
  constructor(board: PcBoard, options: IdeDrivesOptions) {
    const { disks, cdrom } = options.media;
    const ide = new IdeController({ memory: board.memory, irq14: board.irq(14), irq15: board.irq(15) });
    this.controller = ide;
    ide.onIoSettled = options.wake;
    ide.onHostError = (err, site) => options.log(`ide ${site.op} (channel ${site.channel}, unit ${site.unit}): ${err instanceof Error ? err.message : String(err)}`);
    ide.attach(board.io);
    const placed = placeDrives(disks.length, cdrom !== null);
    placed.disks.forEach((d, i) => ide.attachDrive(d.channel, d.slave ? 1 : 0, new AtaDisk(disks[i]!)));
    this.cdrom = null;
    if (placed.cdrom !== null) {
      this.cdrom = new AtapiCdrom({ medium: cdrom });
      ide.attachDrive(placed.cdrom.channel, placed.cdrom.slave ? 1 : 0, this.cdrom);
    }
    this.placed = placed.cdrom !== null ? [...placed.disks, placed.cdrom] : placed.disks;
    this.backends = cdrom !== null ? [...disks, cdrom] : [...disks];
  }

  /** Put a disc in the CD-ROM drive (null: eject). Returns why not, or null when done. */
  changeMedium(medium: BlockBackend | null): string | null {
    const cd = this.cdrom;
    if (cd === null) return 'this machine has no CD-ROM drive';
    if (medium === null) {
      const r = cd.eject();
      if (!r.ejected) return 'the guest has locked the CD-ROM tray';
      if (r.previous !== null) void r.previous.close().catch(() => {});
      return null;
    }
    const previous = cd.insertMedium(medium);
    if (previous !== null && previous !== medium) void previous.close().catch(() => {});
    return null;
  }

  /** Wait for disk requests in flight, then flush and close every image. */
  async close(): Promise<void> {
    await this.controller.whenIdle();
    const media = new Set(this.backends);
    if (this.cdrom?.currentMedium) media.add(this.cdrom.currentMedium);
    await Promise.allSettled([...media].map((b) => b.close()));
  }
}
