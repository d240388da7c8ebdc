/** fw_cfg as SeaBIOS reads it: signature and ID through the ports, the file directory, DMA. */
import { describe, expect, it } from 'vitest';
import { IoBus } from '../bus/io-bus.js';
import { GuestMemory } from '../memory/guest-memory.js';
import { FW_CFG_FILE_DIR, FW_CFG_ID, FW_CFG_RAM_SIZE, FW_CFG_SIGNATURE, FwCfg, leInt } from './fw-cfg.js';

function rig() {
  const memory = new GuestMemory(1 << 20);
  const fw = new FwCfg(memory);
  const io = new IoBus();
  io.register(0x510, 2, fw, 'fw-cfg');
  io.register(0x514, 8, fw, 'fw-cfg');
  const readItem = (key: number, n: number): number[] => {
    io.write(0x510, 2, key);
    return Array.from({ length: n }, () => io.read(0x511, 1));
  };
  const bswap = (v: number) => (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
  /** A DMA control block at `at` as SeaBIOS builds it, started by writing its address. */
  const dma = (at: number, control: number, length: number, address: number): number => {
    const dv = new DataView(memory.buffer);
    dv.setUint32(at, control);
    dv.setUint32(at + 4, length);
    dv.setUint32(at + 8, 0);
    dv.setUint32(at + 12, address);
    io.write(0x518, 4, bswap(at));
    return dv.getUint32(at);
  };
  return { memory, fw, io, readItem, dma };
}

describe('fw_cfg', () => {
  it('answers the signature and announces DMA, and the DMA port reads "QEMU CFG"', () => {
    const r = rig();
    expect(String.fromCharCode(...r.readItem(FW_CFG_SIGNATURE, 4))).toBe('QEMU');
    expect(r.readItem(FW_CFG_ID, 4)).toEqual([3, 0, 0, 0]);
    const sig = [r.io.read(0x514, 4), r.io.read(0x518, 4)];
    const bytes = Buffer.alloc(8);
    bytes.writeUInt32LE(sig[0]!, 0);
    bytes.writeUInt32LE(sig[1]!, 4);
    expect(bytes.toString()).toBe('QEMU CFG');
  });

  it('reads past an item as zeros and restarts at offset 0 on select', () => {
    const r = rig();
    r.fw.setItem(FW_CFG_RAM_SIZE, leInt(0x12345678, 8));
    expect(r.readItem(FW_CFG_RAM_SIZE, 10)).toEqual([0x78, 0x56, 0x34, 0x12, 0, 0, 0, 0, 0, 0]);
    expect(r.readItem(0x7777, 2)).toEqual([0, 0]);
  });

  it('lists files sorted in the directory (big-endian size and key) and serves them', () => {
    const r = rig();
    const k1 = r.fw.addFile('etc/show-boot-menu', leInt(0, 2));
    const k2 = r.fw.addFile('bootorder', new TextEncoder().encode('/pci@i0cf8/ide@1,1/drive@1/disk@0\0'));
    const dir = Buffer.from(r.readItem(FW_CFG_FILE_DIR, 4 + 2 * 64));
    expect(dir.readUInt32BE(0)).toBe(2);
    expect(dir.subarray(12, 12 + 9).toString()).toBe('bootorder');
    expect(dir.readUInt16BE(8)).toBe(k2);
    expect(dir.readUInt32BE(4)).toBe(34);
    expect(dir.readUInt16BE(68 + 4)).toBe(k1);
    expect(String.fromCharCode(...r.readItem(k2, 10))).toBe('/pci@i0cf8');
    // Replacing a file keeps its key.
    expect(r.fw.addFile('bootorder', new Uint8Array([1]))).toBe(k2);
  });

  it('DMA: select + read into guest memory, skip, zero fill, and refuse writes', () => {
    const r = rig();
    const key = r.fw.addFile('etc/e820', Uint8Array.from({ length: 20 }, (_, i) => i + 1));
    expect(r.dma(0x1000, (key << 16) | 8 | 2, 8, 0x2000)).toBe(0);
    expect(Array.from(r.memory.readBytes(0x2000, 8))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(r.dma(0x1000, 4, 4, 0)).toBe(0); // skip 4
    expect(r.dma(0x1000, 2, 12, 0x3000)).toBe(0);
    expect(Array.from(r.memory.readBytes(0x3000, 12))).toEqual([13, 14, 15, 16, 17, 18, 19, 20, 0, 0, 0, 0]);
    expect(r.dma(0x1000, (key << 16) | 8 | 0x10, 4, 0x3000)).toBe(1); // write: error bit
  });

  it('the data port still works after DMA moved the offset', () => {
    const r = rig();
    r.dma(0x1000, (FW_CFG_SIGNATURE << 16) | 8 | 4, 2, 0);
    expect(String.fromCharCode(r.io.read(0x511, 1), r.io.read(0x511, 1))).toBe('MU');
  });
});
