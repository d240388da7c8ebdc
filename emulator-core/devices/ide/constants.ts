/**
 * Register bits, command opcodes and SCSI sense codes shared by the IDE channel, the ATA
 * disk and the ATAPI CD-ROM (ATA/ATAPI-7, SFF-8038i, MMC-3 numbering).
 */

// Status register
export const ST_BSY = 0x80;
export const ST_DRDY = 0x40;
export const ST_DF = 0x20;
export const ST_DSC = 0x10;
export const ST_DRQ = 0x08;
export const ST_ERR = 0x01;

// Error register
export const ER_UNC = 0x40;
export const ER_IDNF = 0x10;
export const ER_ABRT = 0x04;

// Device control register
export const DC_NIEN = 0x02;
export const DC_SRST = 0x04;
export const DC_HOB = 0x80;

// Device register
export const DEV_LBA = 0x40;
export const DEV_DEV1 = 0x10;
/** Bits 7 and 5 of the device register are "always one" on old drives; hosts write them. */
export const DEV_OBS = 0xa0;

// ATAPI interrupt reason (in the sector count register)
export const IR_COD = 0x01;
export const IR_IO = 0x02;

/** ATA command opcodes. */
export const CMD = {
  NOP: 0x00,
  DEVICE_RESET: 0x08,
  RECALIBRATE: 0x10,
  READ_SECTORS: 0x20,
  READ_SECTORS_NORETRY: 0x21,
  READ_SECTORS_EXT: 0x24,
  READ_DMA_EXT: 0x25,
  READ_NATIVE_MAX_EXT: 0x27,
  READ_MULTIPLE_EXT: 0x29,
  WRITE_SECTORS: 0x30,
  WRITE_SECTORS_NORETRY: 0x31,
  WRITE_SECTORS_EXT: 0x34,
  WRITE_DMA_EXT: 0x35,
  WRITE_MULTIPLE_EXT: 0x39,
  READ_VERIFY: 0x40,
  READ_VERIFY_NORETRY: 0x41,
  READ_VERIFY_EXT: 0x42,
  SEEK: 0x70,
  EXECUTE_DEVICE_DIAGNOSTIC: 0x90,
  INITIALIZE_DEVICE_PARAMETERS: 0x91,
  PACKET: 0xa0,
  IDENTIFY_PACKET_DEVICE: 0xa1,
  READ_MULTIPLE: 0xc4,
  WRITE_MULTIPLE: 0xc5,
  SET_MULTIPLE_MODE: 0xc6,
  READ_DMA: 0xc8,
  READ_DMA_NORETRY: 0xc9,
  WRITE_DMA: 0xca,
  WRITE_DMA_NORETRY: 0xcb,
  STANDBY_IMMEDIATE: 0xe0,
  IDLE_IMMEDIATE: 0xe1,
  STANDBY: 0xe2,
  IDLE: 0xe3,
  CHECK_POWER_MODE: 0xe5,
  SLEEP: 0xe6,
  FLUSH_CACHE: 0xe7,
  FLUSH_CACHE_EXT: 0xea,
  IDENTIFY_DEVICE: 0xec,
  SET_FEATURES: 0xef,
  READ_NATIVE_MAX: 0xf8,
  // Pre-ATA-4 power commands some old drivers still use.
  STANDBY_IMMEDIATE_OLD: 0x94,
  IDLE_IMMEDIATE_OLD: 0x95,
  STANDBY_OLD: 0x96,
  IDLE_OLD: 0x97,
  CHECK_POWER_MODE_OLD: 0x98,
  SLEEP_OLD: 0x99,
} as const;

/** SET FEATURES subcommands (features register). */
export const SETF = {
  ENABLE_WCACHE: 0x02,
  SET_XFER_MODE: 0x03,
  DISABLE_WCACHE: 0x82,
  DISABLE_LOOKAHEAD: 0x55,
  ENABLE_LOOKAHEAD: 0xaa,
  DISABLE_REVERT: 0x66,
  ENABLE_REVERT: 0xcc,
  ENABLE_APM: 0x05,
  DISABLE_APM: 0x85,
  ENABLE_AAM: 0x42,
  DISABLE_AAM: 0xc2,
} as const;

/** SCSI/MMC operation codes the CD-ROM understands. */
export const SCSI = {
  TEST_UNIT_READY: 0x00,
  REQUEST_SENSE: 0x03,
  INQUIRY: 0x12,
  MODE_SENSE_6: 0x1a,
  START_STOP_UNIT: 0x1b,
  PREVENT_ALLOW_MEDIUM_REMOVAL: 0x1e,
  READ_CAPACITY: 0x25,
  READ_10: 0x28,
  SEEK_10: 0x2b,
  READ_SUBCHANNEL: 0x42,
  READ_TOC: 0x43,
  GET_CONFIGURATION: 0x46,
  GET_EVENT_STATUS_NOTIFICATION: 0x4a,
  READ_DISC_INFORMATION: 0x51,
  READ_TRACK_INFORMATION: 0x52,
  MODE_SENSE_10: 0x5a,
  READ_12: 0xa8,
  SET_CD_SPEED: 0xbb,
  MECHANISM_STATUS: 0xbd,
  READ_CD: 0xbe,
} as const;

/** Sense keys. */
export const SK = {
  NO_SENSE: 0x0,
  NOT_READY: 0x2,
  MEDIUM_ERROR: 0x3,
  HARDWARE_ERROR: 0x4,
  ILLEGAL_REQUEST: 0x5,
  UNIT_ATTENTION: 0x6,
} as const;

/** Additional sense codes (ASC << 8 | ASCQ). */
export const ASC = {
  NONE: 0x0000,
  UNRECOVERED_READ_ERROR: 0x1100,
  INVALID_OPCODE: 0x2000,
  LBA_OUT_OF_RANGE: 0x2100,
  INVALID_FIELD_IN_CDB: 0x2400,
  MEDIUM_MAY_HAVE_CHANGED: 0x2800,
  POWER_ON_RESET: 0x2900,
  SAVING_PARAMETERS_NOT_SUPPORTED: 0x3900,
  MEDIUM_NOT_PRESENT: 0x3a00,
  MEDIUM_NOT_PRESENT_TRAY_OPEN: 0x3a02,
  MEDIUM_REMOVAL_PREVENTED: 0x5302,
  INCOMPATIBLE_FORMAT: 0x3000,
} as const;

export const SECTOR_BYTES = 512;
export const CD_SECTOR_BYTES = 2048;
