/** Block storage: the BlockBackend contract, raw and qcow2 images, creation and opening. */
export { SECTOR_SIZE, submitBlockRequest, type BlockBackend, type BlockRequest, type DiskFormat } from './block-backend.js';
export { BlockRequestError, DiskFormatError } from './errors.js';
export { RawBackend, type RawOpenOptions } from './raw.js';
export { Qcow2Backend, type Qcow2OpenOptions } from './qcow2.js';
export {
  createDisk,
  detectDiskFormat,
  openDisk,
  parseSize,
  type CreateDiskOptions,
  type CreatedDisk,
  type OpenDiskOptions,
} from './create.js';
