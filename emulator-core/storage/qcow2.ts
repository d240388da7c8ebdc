/**
 * qcow2 (versions 2 and 3) block backend.
 *
 * Supported: reading and writing, L1/L2 mapping with an LRU cache of L2 tables, cluster
 * allocation with refcount updates (any refcount width, refcount table growth), v3 zero
 * clusters, compressed clusters (read; a write copies them out), backing files of either
 * format opened read-only, clearing of autoclear bits before the first write.
 * Refused: encryption, external data files, non-deflate compression, extended L2 entries,
 * the corrupt bit, unknown incompatible bits; for writing also the dirty bit (we do not
 * rebuild refcounts) and internal snapshots (we do not copy shared clusters).
 *
 * Crash safety. Metadata is cached write-back, and every cached change records what it
 * depends on only through the order in which writeback() stores things:
 *
 *   guest data and new clusters' contents   written before the change that references them
 *   A: refcount blocks                       (increments only: a refcount that is too high
 *                                             is a leak, which `qemu-img check` accepts)
 *   -- fdatasync --                          data + refcounts stable before any reference
 *   B: refcount table entries                (point to refcount blocks written in A)
 *   -- fdatasync --
 *   C: L2 tables (new ones whole)            (point to data clusters refcounted in A/B)
 *   -- fdatasync --
 *   D: L1 entries                            (point to L2 tables written in C)
 *   then refcount decrements for clusters an L2 entry stopped referencing in C, applied
 *   in memory only now that the reference is gone for good (written by a later A).
 *
 * A crash at any point therefore leaves every on-disk reference pointing at written,
 * refcounted clusters; at worst some clusters leak. Growing the refcount table writes the
 * new table and its blocks, syncs, switches the header with one sector write, syncs, and
 * only then frees the old table. flush() runs A-D and a final fdatasync.
 */
import { constants as zlibConstants, inflateRaw } from 'node:zlib';
import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { BadInputError, EmulatorError, HostError } from '../errors.js';
import { SECTOR_SIZE, SerialQueue, checkRequest, roundUp, type BlockBackend } from './block-backend.js';
import { DiskFormatError, closedError } from './errors.js';
import { openImageFile, type ImageFile, type ImageFileWrapper } from './image-file.js';
import {
  INCOMPAT_DIRTY,
  MAX_CLUSTER_BITS,
  MAX_REFTABLE_BYTES,
  MIN_CLUSTER_BITS,
  OFF_AUTOCLEAR,
  OFF_REFTABLE_OFFSET,
  getRefcount,
  hasQcow2Magic,
  maxRefcount,
  parseQcow2Header,
  peekClusterBits,
  setRefcount,
  type Qcow2Header,
} from './qcow2-format.js';
import { RawBackend } from './raw.js';

const TWO32 = 2 ** 32;
const COPIED_HI = 0x80000000; // bit 63: refcount is exactly one
const COMPRESSED_HI = 0x40000000; // bit 62
/** Host offsets must stay below 2^56 (L2 layout) and inside JS's exact integers. */
const MAX_HOST_OFFSET = Number.MAX_SAFE_INTEGER;
const MAX_BACKING_DEPTH = 16;

export interface Qcow2OpenOptions {
  readOnly?: boolean;
  /** Test hook: interpose on the image file's I/O (not the backing file's). */
  wrapFile?: ImageFileWrapper;
  /** L2 tables kept in memory (default 64: 4 MiB, mapping 32 GiB with 64 KiB clusters). */
  l2CacheTables?: number;
  /** Refcount blocks kept in memory (default 16). */
  refcountCacheBlocks?: number;
  /** Real paths of the images above this one in a backing chain (loop detection). */
  chain?: readonly string[];
}

/** Tracks the dirty byte range of an in-memory table. */
class DirtyRange {
  lo = Infinity;
  hi = 0;
  mark(lo: number, hi: number): void {
    if (lo < this.lo) this.lo = lo;
    if (hi > this.hi) this.hi = hi;
  }
  get dirty(): boolean {
    return this.lo < this.hi;
  }
  clear(): void {
    this.lo = Infinity;
    this.hi = 0;
  }
}

/** One cached metadata cluster (L2 table or refcount block). */
interface MetaCluster {
  readonly offset: number;
  readonly data: Uint8Array;
  readonly view: DataView;
  /** Never written yet: writeback stores the whole cluster, not just the dirty range. */
  isNew: boolean;
  readonly dirty: DirtyRange;
}

type Mapping =
  | { kind: 'unallocated' }
  | { kind: 'zero'; host: number; copied: boolean }
  | { kind: 'normal'; host: number; copied: boolean }
  | { kind: 'compressed'; host: number; bytes: number; refStart: number; refBytes: number };

const UNALLOCATED: Mapping = { kind: 'unallocated' };

interface WritePlan {
  guest: number; // guest offset of the cluster
  host: number; // host offset of the cluster that receives the data
  from: number; // covered bytes within the cluster: [from, to)
  to: number;
  /** How the uncovered bytes of a freshly (re)written cluster are filled; 'none' = write only [from, to). */
  fill: 'none' | 'zero' | 'backing' | 'compressed';
  setEntry: boolean;
  old: Mapping;
}

function metaCluster(offset: number, data: Uint8Array, isNew: boolean): MetaCluster {
  return { offset, data, view: new DataView(data.buffer, data.byteOffset, data.byteLength), isNew, dirty: new DirtyRange() };
}

function inflate(data: Uint8Array, maxOutputLength: number): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    // Z_SYNC_FLUSH: the stream may end without a final block; trailing bytes are ignored.
    inflateRaw(data, { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength }, (err, out) =>
      err ? reject(err) : resolvePromise(out),
    );
  });
}

export class Qcow2Backend implements BlockBackend {
  readonly format = 'qcow2' as const;
  readonly sectorSize = SECTOR_SIZE;
  readonly size: number;
  readonly version: 2 | 3;
  readonly clusterSize: number;
  readonly clusterBits: number;
  readonly refcountOrder: number;
  /** The backing file name as stored in the header, and what it resolved to. */
  readonly backingFile: string | null;
  readonly backingPath: string | null;

  private readonly l2Entries: number;
  private readonly l2Span: number; // guest bytes mapped by one L2 table
  private readonly refblockEntries: number;
  private readonly l1: Uint8Array;
  private readonly l1View: DataView;
  private readonly l1Offset: number;
  private readonly l1Dirty = new DirtyRange();
  private reftable: Uint8Array;
  private reftableView: DataView;
  private reftableOffset: number;
  private readonly reftableDirty = new DirtyRange();
  private readonly l2Cache = new Map<number, MetaCluster>(); // by host offset, LRU order
  private readonly refCache = new Map<number, MetaCluster>(); // by refcount table index
  private readonly l2CacheMax: number;
  private readonly refCacheMax: number;
  private freeHint = 0; // cluster index where the free-cluster search starts
  /** Host byte ranges to decrement once the L2 change that dropped them is stable. */
  private pendingFrees: { start: number; bytes: number }[] = [];
  private unsynced = false;
  private fileSize: number;
  private autoclear: bigint;
  private readonly queue = new SerialQueue();
  private closed = false;
  /** Set when the on-disk state may no longer match memory; further writes are refused. */
  private failed: Error | null = null;
  private lastInflated: { key: string; data: Uint8Array } | null = null;

  private constructor(
    private readonly file: ImageFile,
    readonly path: string,
    readonly readOnly: boolean,
    header: Qcow2Header,
    l1: Uint8Array,
    reftable: Uint8Array,
    fileSize: number,
    private readonly backing: BlockBackend | null,
    backingFile: string | null,
    backingPath: string | null,
    options: Qcow2OpenOptions,
  ) {
    this.size = header.size;
    this.version = header.version;
    this.clusterBits = header.clusterBits;
    this.clusterSize = 2 ** header.clusterBits;
    this.refcountOrder = header.refcountOrder;
    this.l2Entries = this.clusterSize / 8;
    this.l2Span = this.clusterSize * this.l2Entries;
    this.refblockEntries = (this.clusterSize * 8) / (1 << header.refcountOrder);
    this.l1 = l1;
    this.l1View = new DataView(l1.buffer, l1.byteOffset, l1.byteLength);
    this.l1Offset = header.l1TableOffset;
    this.reftable = reftable;
    this.reftableView = new DataView(reftable.buffer, reftable.byteOffset, reftable.byteLength);
    this.reftableOffset = header.refcountTableOffset;
    this.fileSize = fileSize;
    this.autoclear = header.autoclearFeatures;
    this.backingFile = backingFile;
    this.backingPath = backingPath;
    this.l2CacheMax = Math.max(2, options.l2CacheTables ?? 64);
    this.refCacheMax = Math.max(2, options.refcountCacheBlocks ?? 16);
  }

  /** Open and validate; a refused image is never written to. */
  static async open(path: string, options: Qcow2OpenOptions = {}): Promise<Qcow2Backend> {
    const readOnly = options.readOnly ?? false;
    let file = await openImageFile(path, readOnly);
    if (options.wrapFile) file = options.wrapFile(file);
    let backing: BlockBackend | null = null;
    try {
      const fileSize = await file.size();
      const first = new Uint8Array(Math.min(fileSize, 512));
      await file.read(first, 0);
      const cb = peekClusterBits(first);
      let head = first;
      if (hasQcow2Magic(first) && cb >= MIN_CLUSTER_BITS && cb <= MAX_CLUSTER_BITS && fileSize > first.length) {
        head = new Uint8Array(Math.min(fileSize, 2 ** cb));
        await file.read(head, 0);
      }
      const info = parseQcow2Header(path, head, fileSize);
      const h = info.header;
      const fail = (problem: string): never => {
        throw new DiskFormatError(path, problem);
      };
      if (!readOnly && h.incompatibleFeatures & INCOMPAT_DIRTY) {
        fail('was not closed cleanly (dirty bit set; refcounts may be stale): open it read-only, or repair it with `qemu-img check -r all`');
      }
      if (!readOnly && h.nbSnapshots > 0) {
        fail(`has ${h.nbSnapshots} internal snapshot(s); writing to such images is not supported (open it read-only)`);
      }

      const cs = 2 ** h.clusterBits;
      const l1 = new Uint8Array(h.l1Size * 8);
      await file.read(l1, h.l1TableOffset);
      const l1View = new DataView(l1.buffer);
      for (let i = 0; i < h.l1Size; i++) {
        const hi = l1View.getUint32(i * 8);
        const lo = l1View.getUint32(i * 8 + 4);
        if (lo & 0x1ff || hi & 0x7f000000) fail(`L1 entry ${i} has reserved bits set`);
        const off = (hi & 0x00ffffff) * TWO32 + (lo - (lo & 0x1ff));
        if (off % cs !== 0) fail(`L1 entry ${i} points to an unaligned L2 table (0x${off.toString(16)})`);
        if (off !== 0 && off + cs > fileSize) fail(`L1 entry ${i} points to an L2 table beyond the end of the file (0x${off.toString(16)})`);
      }
      const reftable = new Uint8Array(h.refcountTableClusters * cs);
      await file.read(reftable, h.refcountTableOffset);
      const rtView = new DataView(reftable.buffer);
      for (let i = 0; i < reftable.length / 8; i++) {
        const hi = rtView.getUint32(i * 8);
        const lo = rtView.getUint32(i * 8 + 4);
        if (lo & 0x1ff) fail(`refcount table entry ${i} has reserved bits set`);
        if (hi >= 0x200000) fail(`refcount table entry ${i} is out of range`);
        const off = hi * TWO32 + lo;
        if (off % cs !== 0) fail(`refcount table entry ${i} points to an unaligned refcount block (0x${off.toString(16)})`);
        if (off !== 0 && off + cs > fileSize) fail(`refcount block ${i} lies beyond the end of the file (0x${off.toString(16)})`);
      }

      let backingPath: string | null = null;
      if (info.backingFile !== null) {
        backingPath = isAbsolute(info.backingFile) ? info.backingFile : resolve(dirname(path), info.backingFile);
        backing = await openBacking(path, backingPath, info.backingFormat, [...(options.chain ?? []), await realpathOr(path)]);
      }
      return new Qcow2Backend(file, path, readOnly, h, l1, reftable, fileSize, backing, info.backingFile, backingPath, options);
    } catch (err) {
      await backing?.close().catch(() => undefined);
      await file.close().catch(() => undefined);
      throw err;
    }
  }

  // -------------------------------------------------------------------------------------
  // Public API

  read(offset: number, length: number): Promise<Uint8Array>;
  read(offset: number, target: Uint8Array): Promise<Uint8Array>;
  read(offset: number, lengthOrTarget: number | Uint8Array): Promise<Uint8Array> {
    return this.queue.run(async () => {
      if (this.closed) throw closedError(this.path, 'read');
      const length = typeof lengthOrTarget === 'number' ? lengthOrTarget : lengthOrTarget.length;
      checkRequest(this, 'read', offset, length);
      const target = typeof lengthOrTarget === 'number' ? new Uint8Array(length) : lengthOrTarget;
      await this.readImpl(offset, target);
      return target;
    });
  }

  write(offset: number, data: Uint8Array): Promise<void> {
    return this.queue.run(async () => {
      if (this.closed) throw closedError(this.path, 'write');
      checkRequest(this, 'write', offset, data.length);
      this.checkNotFailed();
      if (data.length === 0) return;
      await this.prepareForWrite();
      await this.writeImpl(offset, data);
    });
  }

  flush(): Promise<void> {
    return this.queue.run(async () => {
      if (this.closed) throw closedError(this.path, 'flush');
      if (this.readOnly) return;
      this.checkNotFailed();
      await this.writeback();
      if (this.unsynced) await this.sync();
    });
  }

  close(): Promise<void> {
    return this.queue.run(async () => {
      if (this.closed) return;
      this.closed = true;
      try {
        if (!this.readOnly && !this.failed) {
          // Twice: the first pass may turn pending frees into dirty refcount blocks.
          await this.writeback();
          await this.writeback();
          if (this.unsynced) await this.sync();
        }
      } finally {
        await this.file.close().catch(() => undefined);
        await this.backing?.close().catch(() => undefined);
      }
    });
  }

  // -------------------------------------------------------------------------------------
  // Mapping

  private corrupt(problem: string, context: Readonly<Record<string, number>> = {}): DiskFormatError {
    return new DiskFormatError(this.path, `corrupt image: ${problem}`, context);
  }

  private checkNotFailed(): void {
    if (this.failed) {
      throw new HostError(`${this.path}: an earlier metadata write failed (${this.failed.message}); close and reopen the disk`, {
        path: this.path,
      });
    }
  }

  private l1Entry(i: number): { offset: number; copied: boolean } {
    const hi = this.l1View.getUint32(i * 8);
    const lo = this.l1View.getUint32(i * 8 + 4);
    return { offset: (hi & 0x00ffffff) * TWO32 + (lo - (lo & 0x1ff)), copied: (hi & COPIED_HI) !== 0 };
  }

  private setL1Entry(i: number, offset: number): void {
    this.l1View.setUint32(i * 8, (Math.floor(offset / TWO32) | COPIED_HI) >>> 0);
    this.l1View.setUint32(i * 8 + 4, offset % TWO32);
    this.l1Dirty.mark(i * 8, i * 8 + 8);
  }

  private reftableEntry(i: number): number {
    const hi = this.reftableView.getUint32(i * 8);
    const lo = this.reftableView.getUint32(i * 8 + 4);
    return hi * TWO32 + (lo - (lo & 0x1ff));
  }

  private get reftableEntries(): number {
    return this.reftable.length / 8;
  }

  private decodeL2(t: MetaCluster, index: number, guest: number): Mapping {
    const hi = t.view.getUint32(index * 8);
    const lo = t.view.getUint32(index * 8 + 4);
    if (hi & COMPRESSED_HI) {
      // Compressed descriptor: x = 62 - (cluster_bits - 8) offset bits, then sector count.
      const x = 70 - this.clusterBits;
      const e = ((BigInt(hi) << 32n) | BigInt(lo)) & ((1n << 62n) - 1n);
      const off = e & ((1n << BigInt(x)) - 1n);
      const sectors = Number(e >> BigInt(x)) + 1;
      if (off > BigInt(MAX_HOST_OFFSET)) throw this.corrupt(`compressed cluster offset out of range at guest offset ${guest}`, { guest });
      const host = Number(off);
      if (host >= this.fileSize) throw this.corrupt(`compressed cluster at guest offset ${guest} lies beyond the end of the file`, { guest });
      const refStart = host - (host % 512);
      return { kind: 'compressed', host, bytes: sectors * 512 - (host % 512), refStart, refBytes: sectors * 512 };
    }
    if (lo & 0x1fe || hi & 0x3f000000) throw this.corrupt(`L2 entry for guest offset ${guest} has reserved bits set`, { guest });
    const host = (hi & 0x00ffffff) * TWO32 + (lo - (lo & 0x1ff));
    const copied = (hi & COPIED_HI) !== 0;
    if (host % this.clusterSize !== 0) throw this.corrupt(`unaligned data cluster for guest offset ${guest}`, { guest });
    if (lo & 1) {
      if (this.version === 2) throw this.corrupt(`zero flag in a version 2 image at guest offset ${guest}`, { guest });
      return { kind: 'zero', host, copied };
    }
    if (host === 0) {
      if (copied) throw this.corrupt(`L2 entry for guest offset ${guest} has offset 0 with the copied flag`, { guest });
      return UNALLOCATED;
    }
    if (host >= this.fileSize) throw this.corrupt(`data cluster for guest offset ${guest} lies beyond the end of the file`, { guest, host });
    return { kind: 'normal', host, copied };
  }

  private setL2Entry(t: MetaCluster, index: number, host: number): void {
    t.view.setUint32(index * 8, (Math.floor(host / TWO32) | COPIED_HI) >>> 0);
    t.view.setUint32(index * 8 + 4, host % TWO32);
    t.dirty.mark(index * 8, index * 8 + 8);
  }

  private async getL2(offset: number): Promise<MetaCluster> {
    const cached = this.l2Cache.get(offset);
    if (cached) {
      this.l2Cache.delete(offset);
      this.l2Cache.set(offset, cached);
      return cached;
    }
    await this.trimL2Cache();
    const data = new Uint8Array(this.clusterSize);
    const got = await this.file.read(data, offset);
    if (got < data.length) throw this.corrupt(`L2 table at 0x${offset.toString(16)} is truncated`, { offset });
    const t = metaCluster(offset, data, false);
    this.l2Cache.set(offset, t);
    return t;
  }

  /** Make room for one more L2 table. A dirty victim forces a full ordered writeback. */
  private async trimL2Cache(): Promise<void> {
    while (this.l2Cache.size >= this.l2CacheMax) {
      const [victimOffset, victim] = this.l2Cache.entries().next().value as [number, MetaCluster];
      if (victim.isNew || victim.dirty.dirty) await this.writeback();
      this.l2Cache.delete(victimOffset);
    }
  }

  private async lookup(guest: number): Promise<Mapping> {
    const l1i = Math.floor(guest / this.l2Span);
    const { offset } = this.l1Entry(l1i);
    if (offset === 0) return UNALLOCATED;
    const t = await this.getL2(offset);
    return this.decodeL2(t, Math.floor((guest % this.l2Span) / this.clusterSize), guest);
  }

  // -------------------------------------------------------------------------------------
  // Reads

  private async readImpl(offset: number, target: Uint8Array): Promise<void> {
    const cs = this.clusterSize;
    const end = offset + target.length;
    const jobs: Promise<void>[] = [];
    // Adjacent pieces that are contiguous on the host (or all come from the backing file)
    // become one pread, so sequential reads cost one syscall per request.
    let runKind: 'host' | 'backing' | null = null;
    let runGuest = 0;
    let runHost = 0;
    let runLen = 0;
    const flushRun = (): void => {
      if (runKind === null) return;
      const slice = target.subarray(runGuest - offset, runGuest - offset + runLen);
      jobs.push(runKind === 'host' ? this.readHost(slice, runHost) : this.readBacking(slice, runGuest));
      runKind = null;
    };
    for (let pos = offset; pos < end; ) {
      const within = pos % cs;
      const n = Math.min(cs - within, end - pos);
      const m = await this.lookup(pos);
      const slice = target.subarray(pos - offset, pos - offset + n);
      if (m.kind === 'normal') {
        const host = m.host + within;
        if (runKind === 'host' && runHost + runLen === host) runLen += n;
        else {
          flushRun();
          runKind = 'host';
          runGuest = pos;
          runHost = host;
          runLen = n;
        }
      } else if (m.kind === 'unallocated' && this.backing) {
        if (runKind === 'backing') runLen += n;
        else {
          flushRun();
          runKind = 'backing';
          runGuest = pos;
          runLen = n;
        }
      } else if (m.kind === 'compressed') {
        flushRun();
        jobs.push(this.inflateCluster(m, pos).then((data) => slice.set(data.subarray(within, within + n))));
      } else {
        flushRun();
        slice.fill(0);
      }
      pos += n;
    }
    flushRun();
    await settleAll(jobs);
  }

  private async readHost(target: Uint8Array, host: number): Promise<void> {
    const got = await this.file.read(target, host);
    if (got < target.length) target.fill(0, got); // a cluster's tail may be a hole past EOF
  }

  /** Unallocated clusters read from the backing file, and as zeros past its end. */
  private async readBacking(target: Uint8Array, guest: number): Promise<void> {
    const backing = this.backing;
    const limit = backing ? roundUp(backing.size, SECTOR_SIZE) : 0;
    const n = backing ? Math.max(0, Math.min(target.length, limit - guest)) : 0;
    if (backing && n > 0) await backing.read(guest, target.subarray(0, n));
    target.fill(0, n);
  }

  private async inflateCluster(m: Extract<Mapping, { kind: 'compressed' }>, guest: number): Promise<Uint8Array> {
    const key = `${m.host}:${m.bytes}`;
    if (this.lastInflated?.key === key) return this.lastInflated.data;
    const raw = new Uint8Array(Math.min(m.bytes, this.fileSize - m.host));
    await this.file.read(raw, m.host);
    let out: Buffer;
    try {
      out = await inflate(raw, this.clusterSize);
    } catch (err) {
      throw this.corrupt(`compressed cluster at guest offset ${guest} does not decompress (${(err as Error).message})`, { guest });
    }
    if (out.length < this.clusterSize) {
      throw this.corrupt(`compressed cluster at guest offset ${guest} decompresses to ${out.length} bytes`, { guest });
    }
    const data = new Uint8Array(out.buffer, out.byteOffset, this.clusterSize);
    this.lastInflated = { key, data };
    return data;
  }

  // -------------------------------------------------------------------------------------
  // Writes

  /**
   * The spec lets us write only after clearing autoclear bits we do not maintain (bitmaps).
   * If this fails, either header state is valid and the next write simply tries again.
   */
  private async prepareForWrite(): Promise<void> {
    if (this.autoclear === 0n) return;
    await this.file.write(new Uint8Array(8), OFF_AUTOCLEAR);
    await this.sync();
    this.autoclear = 0n;
  }

  private async writeImpl(offset: number, data: Uint8Array): Promise<void> {
    const cs = this.clusterSize;
    const end = offset + data.length;
    for (let pos = offset; pos < end; ) {
      // One L2 table per chunk.
      const l1i = Math.floor(pos / this.l2Span);
      const chunkEnd = Math.min(end, (l1i + 1) * this.l2Span);
      const l2 = await this.getL2ForWrite(l1i);
      const plans: WritePlan[] = [];
      for (let p = pos; p < chunkEnd; ) {
        const guest = p - (p % cs);
        const from = p - guest;
        const to = Math.min(cs, chunkEnd - guest);
        plans.push(await this.planCluster(l2, guest, from, to));
        p = guest + to;
      }
      await this.writePlans(plans, offset, data);
      // Commit: the data is written; now the (cached) L2 entries may point at it.
      const t = await this.getL2(l2.offset);
      for (const plan of plans) {
        if (plan.setEntry) this.setL2Entry(t, Math.floor((plan.guest % this.l2Span) / cs), plan.host);
        if (plan.old.kind === 'compressed') this.pendingFrees.push({ start: plan.old.refStart, bytes: plan.old.refBytes });
      }
      pos = chunkEnd;
    }
  }

  private async getL2ForWrite(l1i: number): Promise<MetaCluster> {
    const { offset, copied } = this.l1Entry(l1i);
    if (offset === 0) {
      const host = await this.allocCluster();
      await this.trimL2Cache();
      const t = metaCluster(host, new Uint8Array(this.clusterSize), true);
      this.l2Cache.set(host, t);
      this.setL1Entry(l1i, host);
      return t;
    }
    const t = await this.getL2(offset);
    if (!copied) {
      const rc = await this.refcountOf(offset / this.clusterSize);
      if (rc !== 1) throw new DiskFormatError(this.path, `L2 table at 0x${offset.toString(16)} is shared (refcount ${rc}); writing is not supported`);
      this.setL1Entry(l1i, offset);
    }
    return t;
  }

  private async planCluster(l2: MetaCluster, guest: number, from: number, to: number): Promise<WritePlan> {
    const cs = this.clusterSize;
    const old = this.decodeL2(l2, Math.floor((guest % this.l2Span) / cs), guest);
    const full = from === 0 && to === cs;
    const plan = (host: number, fill: WritePlan['fill'], setEntry: boolean): WritePlan => ({
      guest,
      host,
      from,
      to,
      fill: full ? 'none' : fill,
      setEntry,
      old,
    });
    switch (old.kind) {
      case 'normal': {
        if (old.copied) return plan(old.host, 'none', false);
        const rc = await this.refcountOf(old.host / cs);
        if (rc === 1) return plan(old.host, 'none', true); // repair the missing copied flag
        throw new DiskFormatError(this.path, `guest cluster at offset ${guest} is shared (refcount ${rc}); writing is not supported`, {
          guest,
        });
      }
      case 'zero': {
        // Preallocated zero cluster we own: write in place, zero-filling the rest.
        if (old.host !== 0 && (old.copied || (await this.refcountOf(old.host / cs)) === 1)) return plan(old.host, 'zero', true);
        return plan(await this.allocCluster(), 'zero', true);
      }
      case 'unallocated':
        return plan(await this.allocCluster(), this.backing ? 'backing' : 'zero', true);
      case 'compressed':
        return plan(await this.allocCluster(), 'compressed', true);
    }
  }

  /** Write the planned clusters, one pwrite per host-contiguous run. */
  private async writePlans(plans: WritePlan[], offset: number, data: Uint8Array): Promise<void> {
    const cs = this.clusterSize;
    const regionStart = (p: WritePlan): number => (p.fill === 'none' ? p.from : 0);
    const regionEnd = (p: WritePlan): number => (p.fill === 'none' ? p.to : cs);
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < plans.length; ) {
      let j = i + 1;
      while (
        j < plans.length &&
        plans[j]!.host === plans[j - 1]!.host + cs &&
        regionEnd(plans[j - 1]!) === cs &&
        regionStart(plans[j]!) === 0
      ) {
        j++;
      }
      const group = plans.slice(i, j);
      i = j;
      const hostStart = group[0]!.host + regionStart(group[0]!);
      const length = group.reduce((sum, p) => sum + regionEnd(p) - regionStart(p), 0);
      if (group.every((p) => p.fill === 'none')) {
        // Guest bytes map 1:1 onto this host run: hand the caller's buffer to the kernel.
        const guestStart = group[0]!.guest + group[0]!.from - offset;
        jobs.push(this.writeData(data.subarray(guestStart, guestStart + length), hostStart));
        continue;
      }
      const buf = new Uint8Array(length);
      const fills: Promise<void>[] = [];
      let at = 0;
      for (const p of group) {
        const start = regionStart(p);
        const slice = buf.subarray(at, at + regionEnd(p) - start);
        if (p.fill !== 'none') fills.push(this.fillCluster(p, slice));
        slice.set(data.subarray(p.guest + p.from - offset, p.guest + p.to - offset), p.from - start);
        at += slice.length;
      }
      jobs.push(settleAll(fills).then(() => this.writeData(buf, hostStart)));
    }
    await settleAll(jobs);
  }

  /** Copy-on-write: the bytes of a whole cluster outside [from, to) come from its old content. */
  private async fillCluster(p: WritePlan, cluster: Uint8Array): Promise<void> {
    const head = cluster.subarray(0, p.from);
    const tail = cluster.subarray(p.to);
    if (p.fill === 'backing') {
      const jobs: Promise<void>[] = [];
      if (head.length) jobs.push(this.readBacking(head, p.guest));
      if (tail.length) jobs.push(this.readBacking(tail, p.guest + p.to));
      await settleAll(jobs);
    } else if (p.fill === 'compressed' && p.old.kind === 'compressed') {
      const old = await this.inflateCluster(p.old, p.guest);
      head.set(old.subarray(0, p.from));
      tail.set(old.subarray(p.to));
    }
    // 'zero': the buffer is already zeros.
  }

  private async writeData(data: Uint8Array, host: number): Promise<void> {
    await this.file.write(data, host);
    this.unsynced = true;
    if (host + data.length > this.fileSize) this.fileSize = host + data.length;
  }

  // -------------------------------------------------------------------------------------
  // Refcounts and allocation

  private async getRefblock(index: number): Promise<MetaCluster> {
    const cached = this.refCache.get(index);
    if (cached) {
      this.refCache.delete(index);
      this.refCache.set(index, cached);
      return cached;
    }
    const offset = this.reftableEntry(index);
    if (offset === 0) {
      throw new EmulatorError('INTERNAL', `${this.path}: refcount block ${index} used before allocation`, { path: this.path, index });
    }
    await this.trimRefCache();
    const data = new Uint8Array(this.clusterSize);
    const got = await this.file.read(data, offset);
    if (got < data.length) throw this.corrupt(`refcount block at 0x${offset.toString(16)} is truncated`, { offset });
    const blk = metaCluster(offset, data, false);
    this.refCache.set(index, blk);
    return blk;
  }

  /** Refcount blocks can be written early at any time (see the header comment), so eviction just writes. */
  private async trimRefCache(): Promise<void> {
    while (this.refCache.size >= this.refCacheMax) {
      const [victimIndex, victim] = this.refCache.entries().next().value as [number, MetaCluster];
      if (victim.isNew || victim.dirty.dirty) await this.writeMeta(victim);
      this.refCache.delete(victimIndex);
    }
  }

  private async refcountOf(cluster: number): Promise<number> {
    const b = Math.floor(cluster / this.refblockEntries);
    if (b >= this.reftableEntries || this.reftableEntry(b) === 0) return 0;
    const blk = await this.getRefblock(b);
    return getRefcount(blk.data, blk.view, cluster % this.refblockEntries, this.refcountOrder);
  }

  private async findFree(start: number): Promise<number> {
    const rbe = this.refblockEntries;
    for (let idx = start; ; ) {
      const b = Math.floor(idx / rbe);
      if (b >= this.reftableEntries || this.reftableEntry(b) === 0) return idx;
      const blk = await this.getRefblock(b);
      for (const stop = (b + 1) * rbe; idx < stop; idx++) {
        if (getRefcount(blk.data, blk.view, idx % rbe, this.refcountOrder) === 0) return idx;
      }
    }
  }

  /** A free cluster with refcount 1 (in memory); its host offset. */
  private async allocCluster(): Promise<number> {
    const cs = this.clusterSize;
    const rbe = this.refblockEntries;
    for (;;) {
      const idx = await this.findFree(this.freeHint);
      if ((idx + 1) * cs > MAX_HOST_OFFSET) throw new HostError(`${this.path}: image file would grow beyond the supported size`, { path: this.path });
      const b = Math.floor(idx / rbe);
      if (b >= this.reftableEntries) {
        await this.growRefcountTable(idx);
        continue;
      }
      if (this.reftableEntry(b) === 0) {
        // A new refcount block covering idx lives at idx itself and counts itself.
        await this.trimRefCache();
        const blk = metaCluster(idx * cs, new Uint8Array(cs), true);
        setRefcount(blk.data, blk.view, idx % rbe, this.refcountOrder, 1);
        this.refCache.set(b, blk);
        this.reftableView.setBigUint64(b * 8, BigInt(idx * cs));
        this.reftableDirty.mark(b * 8, b * 8 + 8);
        this.freeHint = idx + 1;
        continue;
      }
      const blk = await this.getRefblock(b);
      setRefcount(blk.data, blk.view, idx % rbe, this.refcountOrder, 1);
      blk.dirty.mark(0, cs);
      this.freeHint = idx + 1;
      return idx * cs;
    }
  }

  private async decrementRefcount(cluster: number): Promise<void> {
    const b = Math.floor(cluster / this.refblockEntries);
    if (b >= this.reftableEntries || this.reftableEntry(b) === 0) throw this.corrupt(`freeing cluster ${cluster} with no refcount`, { cluster });
    const blk = await this.getRefblock(b);
    const i = cluster % this.refblockEntries;
    const rc = getRefcount(blk.data, blk.view, i, this.refcountOrder);
    if (rc === 0) throw this.corrupt(`freeing cluster ${cluster} whose refcount is already 0`, { cluster });
    if (rc === maxRefcount(this.refcountOrder) && this.refcountOrder >= 6) return; // saturated 64-bit count: leave it
    setRefcount(blk.data, blk.view, i, this.refcountOrder, rc - 1);
    blk.dirty.mark(0, this.clusterSize);
    if (rc === 1 && cluster < this.freeHint) this.freeHint = cluster;
  }

  /**
   * The refcount table is full: write a larger copy plus the refcount blocks that cover it
   * at the first cluster past the old coverage (`start`), sync, switch the header, sync,
   * then free the old table.
   */
  private async growRefcountTable(start: number): Promise<void> {
    const cs = this.clusterSize;
    const rbe = this.refblockEntries;
    // Blocks the new table points to must be on disk before the header makes it live.
    for (const blk of this.refCache.values()) if (blk.isNew || blk.dirty.dirty) await this.writeMeta(blk);

    const firstBlock = Math.floor(start / rbe);
    let blocks = 1;
    let tableClusters = 1;
    for (;;) {
      const end = start + blocks + tableClusters;
      const lastBlock = Math.floor((end - 1) / rbe);
      const needBlocks = lastBlock - firstBlock + 1;
      // Double the table so growth stays rare.
      const entries = Math.max(lastBlock + 1, this.reftableEntries * 2);
      const needClusters = Math.ceil((entries * 8) / cs);
      if (needBlocks === blocks && needClusters === tableClusters) break;
      blocks = needBlocks;
      tableClusters = needClusters;
    }
    if (tableClusters * cs > MAX_REFTABLE_BYTES) {
      throw new HostError(`${this.path}: image is too large: the refcount table would exceed ${MAX_REFTABLE_BYTES} bytes`, { path: this.path });
    }
    const end = start + blocks + tableClusters;
    const area = new Uint8Array((blocks + tableClusters) * cs);
    const table = area.subarray(blocks * cs);
    table.set(this.reftable);
    const tableView = new DataView(area.buffer, blocks * cs, tableClusters * cs);
    for (let k = 0; k < blocks; k++) tableView.setBigUint64((firstBlock + k) * 8, BigInt((start + k) * cs));
    for (let c = start; c < end; c++) {
      const k = Math.floor(c / rbe) - firstBlock;
      setRefcount(area.subarray(k * cs, (k + 1) * cs), new DataView(area.buffer, k * cs, cs), c % rbe, this.refcountOrder, 1);
    }
    await this.writeData(area, start * cs);
    await this.sync();

    const newOffset = (start + blocks) * cs;
    const hdr = new Uint8Array(12);
    const hv = new DataView(hdr.buffer);
    hv.setBigUint64(0, BigInt(newOffset));
    hv.setUint32(8, tableClusters);
    try {
      await this.file.write(hdr, OFF_REFTABLE_OFFSET);
      await this.sync();
    } catch (err) {
      // We cannot tell which table the header names now: stop writing.
      this.failed = err as Error;
      throw err;
    }
    const oldOffset = this.reftableOffset;
    const oldClusters = this.reftable.length / cs;
    this.reftable = new Uint8Array(table); // own buffer, detached from `area`
    this.reftableView = new DataView(this.reftable.buffer);
    this.reftableOffset = newOffset;
    this.reftableDirty.clear(); // the new table already holds every in-memory entry
    this.freeHint = end;
    // The durable header no longer references the old table.
    for (let c = 0; c < oldClusters; c++) await this.decrementRefcount(oldOffset / cs + c);
  }

  // -------------------------------------------------------------------------------------
  // Writeback

  private async sync(): Promise<void> {
    await this.file.sync();
    this.unsynced = false;
  }

  private async writeMeta(t: MetaCluster): Promise<void> {
    if (t.isNew) await this.writeData(t.data, t.offset);
    else await this.writeData(t.data.subarray(t.dirty.lo, t.dirty.hi), t.offset + t.dirty.lo);
    t.isNew = false;
    t.dirty.clear();
  }

  private async writeRange(buf: Uint8Array, base: number, range: DirtyRange): Promise<void> {
    await this.writeData(buf.subarray(range.lo, range.hi), base + range.lo);
    range.clear();
  }

  /** Store all cached metadata in dependency order (see the header comment). */
  private async writeback(): Promise<void> {
    for (const blk of this.refCache.values()) if (blk.isNew || blk.dirty.dirty) await this.writeMeta(blk);
    const l2Dirty = [...this.l2Cache.values()].filter((t) => t.isNew || t.dirty.dirty);
    const later = this.reftableDirty.dirty || l2Dirty.length > 0 || this.l1Dirty.dirty;
    if (later && this.unsynced) await this.sync();
    if (this.reftableDirty.dirty) {
      await this.writeRange(this.reftable, this.reftableOffset, this.reftableDirty);
      await this.sync();
    }
    if (l2Dirty.length > 0) {
      for (const t of l2Dirty) await this.writeMeta(t);
      await this.sync();
    }
    if (this.l1Dirty.dirty) await this.writeRange(this.l1, this.l1Offset, this.l1Dirty);
    if (this.pendingFrees.length > 0) {
      const frees = this.pendingFrees;
      this.pendingFrees = [];
      this.lastInflated = null; // freed host bytes may be reused
      for (const { start, bytes } of frees) {
        const first = Math.floor(start / this.clusterSize);
        const last = Math.floor((start + bytes - 1) / this.clusterSize);
        for (let c = first; c <= last; c++) await this.decrementRefcount(c);
      }
    }
  }
}

/** Like Promise.all, but waits for every job so none still writes into a caller's buffer. */
async function settleAll(jobs: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(jobs);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}

async function realpathOr(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return resolve(path);
  }
}

/** Open a backing file read-only, in the format the overlay names or the one its header shows. */
async function openBacking(overlay: string, backingPath: string, format: string | null, chain: string[]): Promise<BlockBackend> {
  if (chain.length >= MAX_BACKING_DEPTH) throw new DiskFormatError(overlay, `backing chain is deeper than ${MAX_BACKING_DEPTH} images`);
  const real = await realpathOr(backingPath);
  if (chain.includes(real)) throw new DiskFormatError(overlay, `backing chain loops back to ${backingPath}`);
  if (format !== null && format !== 'raw' && format !== 'qcow2') {
    throw new DiskFormatError(overlay, `backing file format '${format}' is not supported (raw or qcow2 only)`);
  }
  try {
    let detected = format;
    if (detected === null) {
      const probe = await openImageFile(backingPath, true);
      try {
        const head = new Uint8Array(4);
        await probe.read(head, 0);
        detected = hasQcow2Magic(head) ? 'qcow2' : 'raw';
      } finally {
        await probe.close();
      }
    }
    return detected === 'qcow2'
      ? await Qcow2Backend.open(backingPath, { readOnly: true, chain })
      : await RawBackend.open(backingPath, { readOnly: true });
  } catch (err) {
    if (err instanceof BadInputError) {
      throw new DiskFormatError(overlay, `cannot open backing file: ${err.message}`, { backing: backingPath });
    }
    throw err;
  }
}
