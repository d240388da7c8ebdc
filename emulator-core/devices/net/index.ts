export { E1000, type E1000Counters, type E1000Options } from './e1000.js';
export { E1000_DEVICE_82540EM, E1000_VENDOR, IO_BAR, MMIO_BAR } from './e1000-regs.js';
