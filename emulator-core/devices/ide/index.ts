/** PIIX3/PIIX4 IDE: the PCI function, its channels, ATA disks and ATAPI CD-ROMs. */
export { IdeController, LEGACY_PORTS, type IdeControllerOptions, type PiixVariant } from './controller.js';
export { IdeChannel, DMA_CHUNK, PIO_CHUNK, type IdeErrorSite } from './channel.js';
export { AtaDisk, MAX_MULTIPLE, type AtaDiskOptions } from './ata-disk.js';
export { AtapiCdrom, MEDIA_EVENT, type AtapiCdromOptions, type EjectResult } from './atapi-cdrom.js';
export { BusMaster, BM_CMD_START, BM_CMD_TO_MEMORY, BM_ST_ACTIVE, BM_ST_ERROR, BM_ST_INT } from './bmdma.js';
export type { IdeDrive, CommandHost, TransferSpec } from './drive.js';
export { IdeBusyError, MediumAbsentError } from './errors.js';
