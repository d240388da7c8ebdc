/**
 * The host's side of guest network tests and benches: an HTTP server handing out
 * deterministic data of known SHA-256, and an upload sink that counts and hashes what a
 * guest sends. Both listen on the host's loopback (the guest reaches it as 10.0.2.2) and
 * time each transfer on the host, so a guest clock that drifts under emulation cannot skew
 * a throughput figure.
 */
import { createHash } from 'node:crypto';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';

/** First number of the pattern: every line is 7 digits and a newline, so 8 bytes. */
const PATTERN_FIRST = 1_000_000;
const PATTERN_LINE = 8;
const PATTERN_MAX_BYTES = (10_000_000 - PATTERN_FIRST) * PATTERN_LINE;

/**
 * `size` bytes of the test pattern: "1000000\n1000001\n..." cut to length. The guest makes the
 * same bytes with `seq 1000000 9999999 | head -c SIZE` (its /srv/16M is this pattern), and
 * every 8-byte line is distinct, so a reordered, repeated or lost segment changes the hash.
 */
export function patternBytes(size: number): Buffer {
  if (!Number.isInteger(size) || size < 0 || size > PATTERN_MAX_BYTES) throw new RangeError(`pattern size ${size} outside 0..${PATTERN_MAX_BYTES}`);
  const lines = Math.ceil(size / PATTERN_LINE);
  const out = Buffer.allocUnsafe(lines * PATTERN_LINE);
  for (let i = 0; i < lines; i++) {
    let n = PATTERN_FIRST + i;
    const o = i * PATTERN_LINE;
    out[o + 7] = 0x0a;
    for (let d = 6; d >= 0; d--, n = Math.floor(n / 10)) out[o + d] = 0x30 + (n % 10);
  }
  return out.subarray(0, size);
}

/** The guest command that prints `size` bytes of the pattern. */
export function patternCommand(size: number): string {
  return `seq ${PATTERN_FIRST} 9999999 | head -c ${size}`;
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** One transfer as the host saw it; times are performance.now() milliseconds. */
export interface Transfer {
  bytes: number;
  sha256: string;
  /** Download: the request arrived. Upload: the first data byte arrived. */
  startMs: number;
  /** Download: the client closed the connection. Upload: the guest's end of stream arrived. */
  endMs: number;
}

export function mibPerSecond(t: Transfer): number {
  return t.bytes / (1 << 20) / ((t.endMs - t.startMs) / 1000);
}

/** A queue of transfers: each `next()` resolves with the next one to finish, in order. */
class TransferQueue {
  private readonly done: Transfer[] = [];
  private readonly waiting: ((t: Transfer) => void)[] = [];

  push(t: Transfer): void {
    const w = this.waiting.shift();
    if (w) w(t);
    else this.done.push(t);
  }

  next(timeoutMs: number, what: string): Promise<Transfer> {
    const t = this.done.shift();
    if (t) return Promise.resolve(t);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(deliver), 1);
        reject(new Error(`${what}: no transfer finished within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const deliver = (x: Transfer): void => {
        clearTimeout(timer);
        resolve(x);
      };
      this.waiting.push(deliver);
    });
  }
}

function listen(server: HttpServer | TcpServer, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
  });
}

/** Close the server and whatever connections are still open on it. */
function closeServer(server: HttpServer | TcpServer, open: Set<Socket>): Promise<void> {
  return new Promise((resolve) => {
    for (const s of open) s.destroy();
    server.close(() => resolve());
  });
}

function trackConnections(server: HttpServer | TcpServer): Set<Socket> {
  const open = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    open.add(s);
    s.once('close', () => open.delete(s));
  });
  return open;
}

export interface PatternServer {
  port: number;
  /** The path that serves the data, e.g. "/64M". */
  path: string;
  size: number;
  sha256: string;
  /** The URL for a guest behind NAT (or any host name for the loopback). */
  url(host?: string): string;
  /** The next download to finish (the client read to the end and closed). */
  nextTransfer(timeoutMs: number): Promise<Transfer>;
  close(): Promise<void>;
}

/** Serve `size` bytes of the pattern at `path` (default "/data") on the loopback, on a free port. */
export async function servePattern(size: number, path = '/data', host = '127.0.0.1'): Promise<PatternServer> {
  const data = patternBytes(size);
  const sha256 = sha256Hex(data);
  const transfers = new TransferQueue();
  const server = createHttpServer((req, res) => {
    if (req.url !== path) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const startMs = performance.now();
    let sent = false;
    res.on('finish', () => (sent = true));
    res.socket?.once('close', () => {
      if (sent) transfers.push({ bytes: size, sha256, startMs, endMs: performance.now() });
    });
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size), connection: 'close' });
    res.end(data);
  });
  const open = trackConnections(server);
  const port = await listen(server, host);
  return {
    port,
    path,
    size,
    sha256,
    url: (h = '10.0.2.2') => `http://${h}:${port}${path}`,
    nextTransfer: (timeoutMs) => transfers.next(timeoutMs, `download of ${path}`),
    close: () => closeServer(server, open),
  };
}

export interface UploadSink {
  port: number;
  /** The next upload to finish (the sender ended its stream). */
  nextUpload(timeoutMs: number): Promise<Transfer>;
  close(): Promise<void>;
}

/** A TCP server that reads each connection to its end, counting and hashing, then closes it. */
export async function uploadSink(host = '127.0.0.1'): Promise<UploadSink> {
  const uploads = new TransferQueue();
  const server = createTcpServer((socket) => {
    const hash = createHash('sha256');
    let bytes = 0;
    let startMs = 0;
    socket.on('data', (chunk: Buffer) => {
      if (bytes === 0) startMs = performance.now();
      bytes += chunk.length;
      hash.update(chunk);
    });
    socket.on('end', () => {
      const endMs = performance.now();
      uploads.push({ bytes, sha256: hash.digest('hex'), startMs: bytes === 0 ? endMs : startMs, endMs });
    });
    socket.on('error', () => socket.destroy());
  });
  const open = trackConnections(server);
  const port = await listen(server, host);
  return {
    port,
    nextUpload: (timeoutMs) => uploads.next(timeoutMs, 'upload'),
    close: () => closeServer(server, open),
  };
}
