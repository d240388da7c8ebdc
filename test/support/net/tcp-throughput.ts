/**
 * The TCP engine's own throughput on one core, against a minimal lossless guest that costs
 * as little as possible (one reused segment buffer, payload checksum computed once), so the
 * time measured is the engine's: parsing, checksums, queues, ACK clocking, host writes.
 * `bench/` can call tcpEngineThroughput(); run alone: node dist/test/support/net/tcp-throughput.js [MiB]
 */
import { finishChecksum, onesSum, pseudoHeaderSum } from '../../../emulator-core/net/checksum.js';
import type { TcpHostStream } from '../../../emulator-core/net/tcp/api.js';
import { TcpEngine } from '../../../emulator-core/net/tcp/engine.js';
import { FakeClock } from './fake-clock.js';

const GUEST = 0x0a00020f;
const FAR = 0x0a000202;
const GUEST_PORT = 40000;
const FAR_PORT = 80;
const MSS = 1460;
const GUEST_WINDOW_SCALE = 7;
const GUEST_WINDOW = 4 * 1024 * 1024;

class SinkStream implements TcpHostStream {
  onData: (data: Uint8Array) => void = () => {};
  onEnd: () => void = () => {};
  onDrain: () => void = () => {};
  onClose: (error?: Error) => void = () => {};
  received = 0;
  paused = false;
  write(data: Uint8Array): boolean {
    this.received += data.length;
    return true;
  }
  end(): void {}
  destroy(): void {}
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
}

/** A guest reduced to what the benchmark needs: one reusable segment buffer. */
class LeanGuest {
  private readonly seg = new Uint8Array(20 + MSS);
  private readonly payloadSum: number;
  seq = 5000;
  rcvNxt = 0;
  /** From the engine's latest segment. */
  peerAck = 0;
  peerWindow = 0;
  peerScale = 0;

  constructor(private readonly engine: () => TcpEngine) {
    for (let i = 0; i < MSS; i++) this.seg[20 + i] = (i * 7) & 0xff;
    this.payloadSum = onesSum(this.seg, 20, MSS);
  }

  send(flags: number, dataLength: number, options?: number[]): void {
    const optLen = options?.length ?? 0;
    const seg = optLen > 0 || dataLength === 0 ? new Uint8Array(20 + optLen) : this.seg.subarray(0, 20 + dataLength);
    seg[0] = GUEST_PORT >> 8;
    seg[1] = GUEST_PORT & 0xff;
    seg[2] = FAR_PORT >> 8;
    seg[3] = FAR_PORT & 0xff;
    writeU32(seg, 4, this.seq);
    writeU32(seg, 8, this.rcvNxt);
    seg[12] = ((20 + optLen) / 4) << 4;
    seg[13] = flags;
    const window = Math.min(0xffff, flags & 2 ? 0xffff : GUEST_WINDOW >>> GUEST_WINDOW_SCALE);
    seg[14] = window >> 8;
    seg[15] = window & 0xff;
    seg[16] = 0;
    seg[17] = 0;
    seg[18] = 0;
    seg[19] = 0;
    if (options) seg.set(options, 20);
    let sum = pseudoHeaderSum(GUEST, FAR, 6, seg.length) + onesSum(seg, 0, 20 + optLen);
    if (dataLength > 0) sum += dataLength === MSS ? this.payloadSum : onesSum(seg, 20, dataLength);
    const c = finishChecksum(sum);
    seg[16] = c >> 8;
    seg[17] = c & 0xff;
    this.engine().input(GUEST, FAR, seg);
  }
}

function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

function readU32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

interface Rig {
  engine: TcpEngine;
  guest: LeanGuest;
  stream: SinkStream;
  /** Data bytes the guest received since the last reset, and segments not yet ACKed. */
  toGuest: { bytes: number; unacked: number };
}

function connect(): Rig {
  const stream = new SinkStream();
  const toGuest = { bytes: 0, unacked: 0 };
  let guest: LeanGuest | null = null;
  const engine = new TcpEngine({
    timers: new FakeClock(), // lossless: no timer ever needs to fire
    connector: { connect: (_ip, _port, _sip, _sport, done) => done(stream) },
    output: (_src, _dst, seg) => {
      const g = guest as LeanGuest;
      const hl = (seg[12] >> 4) * 4;
      const flags = seg[13];
      g.peerAck = readU32(seg, 8);
      g.peerWindow = ((seg[14] << 8) | seg[15]) << (flags & 2 ? 0 : g.peerScale);
      const len = seg.length - hl;
      if (flags & 2) g.rcvNxt = (readU32(seg, 4) + 1) >>> 0;
      if (len > 0) {
        g.rcvNxt = (readU32(seg, 4) + len) >>> 0; // lossless and in order
        toGuest.bytes += len;
        toGuest.unacked++;
      }
    },
  });
  guest = new LeanGuest(() => engine);
  guest.send(2, 0, [2, 4, MSS >> 8, MSS & 0xff, 1, 3, 3, GUEST_WINDOW_SCALE]); // SYN
  guest.peerScale = 1; // the engine's default 64 KiB window needs a shift of 1
  guest.seq = (guest.seq + 1) >>> 0;
  guest.send(0x10, 0); // ACK of the SYN-ACK
  return { engine, guest, stream, toGuest };
}

/** MB/s by the wall clock, and per second of this process's CPU time (fair on a busy machine). */
export interface Rate {
  wallMBps: number;
  cpuMBps: number;
}

function timed(totalBytes: number, run: () => void): Rate {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  run();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return { wallMBps: totalBytes / 1e3 / wallMs, cpuMBps: totalBytes / 1e3 / cpuMs };
}

/** Host -> guest: the host pushes 64 KiB chunks; the guest ACKs every second segment, as Linux does. */
function download(totalBytes: number): Rate {
  const { engine, guest, stream, toGuest } = connect();
  const chunk = new Uint8Array(65536).fill(0x5a);
  let pushed = 0;
  const rate = timed(totalBytes, () => {
    while (toGuest.bytes < totalBytes) {
      if (!stream.paused && pushed < totalBytes) {
        stream.onData(chunk);
        pushed += chunk.length;
      }
      while (toGuest.unacked >= 2) {
        toGuest.unacked -= 2;
        guest.send(0x10, 0);
      }
      if (toGuest.unacked > 0 && (stream.paused || pushed >= totalBytes)) {
        toGuest.unacked = 0;
        guest.send(0x10, 0);
      }
    }
  });
  engine.close();
  return rate;
}

/** Guest -> host: full-sized segments as fast as the engine's window allows. */
function upload(totalBytes: number): Rate {
  const { engine, guest, stream } = connect();
  const rate = timed(totalBytes, () => {
    while (stream.received < totalBytes) {
      const inFlight = (guest.seq - guest.peerAck) | 0;
      if (inFlight + MSS > guest.peerWindow) throw new Error('engine window closed on a host that always accepts');
      guest.send(0x18, MSS);
      guest.seq = (guest.seq + MSS) >>> 0;
    }
  });
  engine.close();
  return rate;
}

export interface TcpEngineThroughput {
  mib: number;
  download: Rate;
  upload: Rate;
}

export function tcpEngineThroughput(mib = 256): TcpEngineThroughput {
  download(16 * 1024 * 1024); // warm up the JIT
  upload(16 * 1024 * 1024);
  return { mib, download: download(mib * 1024 * 1024), upload: upload(mib * 1024 * 1024) };
}

if (process.argv[1]?.endsWith('tcp-throughput.js')) {
  const mib = Number(process.argv[2] ?? 256);
  const r = tcpEngineThroughput(mib);
  const show = (x: Rate): string => `${x.cpuMBps.toFixed(0)} MB/s per CPU second (${x.wallMBps.toFixed(0)} MB/s wall)`;
  console.log(`TCP engine alone, ${mib} MiB each way: host->guest ${show(r.download)}, guest->host ${show(r.upload)}`);
}
