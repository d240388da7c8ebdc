/**
 * Network throughput inside the guest through user-mode NAT, beside QEMU measured in the
 * same run: the net guest (test/fixtures/build-net-guest.sh: Debian 12 i386 kernel, its own
 * e1000.ko, busybox) on an e1000 with NAT, under each runner in turn:
 *   - download: the guest `wget`s 64 MiB from an HTTP server on the host's loopback (10.0.2.2)
 *     to /dev/null;
 *   - upload: the guest sends 64 MiB (its 16 MiB /srv file four times, from a file in its RAM)
 *     with `nc` to a sink on the host's loopback, which checks the SHA-256;
 *   - forwarded port: the host fetches the guest's 16 MiB file from its httpd through a
 *     host port forwarded to guest port 8080, checking the SHA-256.
 * Every transfer is timed on the host (request to close, first byte to end of stream), so a
 * guest clock that drifts under emulation cannot skew it. Runners are QEMU TCG
 * (`-nic user,model=e1000`) and `terrarium run --net nat` once the CLI has it; a missing
 * runner or fixture is one loud line. bench/run.ts calls bench(); `node dist/bench/net.js` runs it alone.
 */
import { tcpEngineThroughput, type Rate } from '../test/support/net/tcp-throughput.js';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { get } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURES, ROOT, fmt, qemuArgs, qemuVersion } from './common.js';
import { spawnSerialGuest, type SerialShell } from '../test/support/net/guest-session.js';
import { mibPerSecond, patternBytes, servePattern, sha256Hex, uploadSink, type PatternServer, type Transfer, type UploadSink } from '../test/support/net/host-peers.js';
import { NET_GUEST, bootNetGuest } from '../test/support/net/net-guest.js';

const KERNEL = join(FIXTURES, NET_GUEST.kernel);
const INITRD = join(FIXTURES, NET_GUEST.initrd);
const BIN = join(ROOT, 'bin/terrarium.js');
const TRANSFER_MIB = 64;
const BOOT_TIMEOUT_MS = 600_000;
const TRANSFER_TIMEOUT_MS = 900_000;

/** What a runner boots: the net guest with its httpd port forwarded from `hostPort` on the loopback. */
export interface NetGuestSpec {
  kernel: string;
  initrd: string;
  append: string;
  memoryMiB: number;
  forward: { hostPort: number; guestPort: number };
}

/** A running guest: its serial shell, and a way to stop it. */
export interface RunningGuest {
  shell: SerialShell;
  stop(): Promise<void>;
}

/** One way of running the guest (QEMU, the Terrarium CLI, an in-process Machine). */
export interface NetRunner {
  name: string;
  /** Null when it can run here, else why not (printed as the skip reason). */
  unavailable(): string | null;
  start(spec: NetGuestSpec): RunningGuest;
}

export interface NetResult {
  /** From start to the DHCP lease and a shell that answers. */
  bootMs: number;
  download: number;
  upload: number;
  forward: number;
}

export const qemuRunner: NetRunner = {
  name: 'QEMU TCG',
  unavailable: () => (qemuVersion() === null ? 'qemu-system-i386 not installed (apt install qemu-system-x86)' : null),
  start: (s) =>
    spawnSerialGuest(
      'qemu-system-i386',
      qemuArgs(s.memoryMiB, ['-kernel', s.kernel, '-initrd', s.initrd, '-append', s.append, '-nic', `user,model=e1000,hostfwd=tcp:127.0.0.1:${s.forward.hostPort}-:${s.forward.guestPort}`]),
    ),
};

/** `terrarium run` as a user would type it; COM1 on its stdin/stdout. */
export const terrariumCliRunner: NetRunner = {
  name: 'Terrarium (software CPU, JIT)',
  unavailable: () => {
    let help: string;
    try {
      help = execFileSync(process.execPath, [BIN, 'run', '--help'], { encoding: 'utf8' });
    } catch (e) {
      return `\`terrarium run --help\` failed (${(e as Error).message.split('\n')[0]}); run \`npm run build\``;
    }
    return /--net\b/.test(help) ? null : '`terrarium run` has no --net option yet';
  },
  start: (s) =>
    spawnSerialGuest(process.execPath, [
      BIN, 'run', '--kernel', s.kernel, '--initrd', s.initrd, '--append', s.append, '--memory', String(s.memoryMiB),
      '--accel', 'interpreter', '--net', 'nat', '--forward', `tcp:127.0.0.1:${s.forward.hostPort}:${s.forward.guestPort}`,
    ]),
};

/** A free TCP port on the loopback (free when asked; the runner binds it moments later). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Fetch `url` on the host, timed from the request to the last byte. */
function timedFetch(url: string): Promise<{ body: Buffer; transfer: Transfer }> {
  return new Promise((resolve, reject) => {
    const startMs = performance.now();
    get(url, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        const body = Buffer.concat(parts);
        resolve({ body, transfer: { bytes: body.length, sha256: sha256Hex(body), startMs, endMs: performance.now() } });
      });
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** Boot the guest under `runner` and measure the three transfers; throws with the serial tail on failure. */
export async function measure(runner: NetRunner, server: PatternServer, sink: UploadSink): Promise<NetResult> {
  const hostPort = await freePort();
  const t0 = performance.now();
  const guest = runner.start({ kernel: KERNEL, initrd: INITRD, append: NET_GUEST.append, memoryMiB: NET_GUEST.memoryMiB, forward: { hostPort, guestPort: NET_GUEST.httpPort } });
  try {
    const { shell } = guest;
    await bootNetGuest(shell, BOOT_TIMEOUT_MS);
    const bootMs = performance.now() - t0;

    const downloaded = server.nextTransfer(TRANSFER_TIMEOUT_MS);
    await shell.run(`wget -q -O /dev/null ${server.url()}`, TRANSFER_TIMEOUT_MS);
    const download = await downloaded;

    // nc reading a pipe sends in small writes (a third of the rate under QEMU), so the
    // upload comes from a file: the guest's 16 MiB pattern, concatenated in its RAM.
    const copies = (TRANSFER_MIB << 20) / NET_GUEST.servedBytes;
    const file = `/srv${NET_GUEST.servedPath}`;
    await shell.run(`cat ${Array<string>(copies).fill(file).join(' ')} > /tmp/upload`, TRANSFER_TIMEOUT_MS);
    const uploaded = sink.nextUpload(TRANSFER_TIMEOUT_MS);
    await shell.run(`nc 10.0.2.2 ${sink.port} < /tmp/upload && rm /tmp/upload`, TRANSFER_TIMEOUT_MS);
    const upload = await uploaded;
    const served = patternBytes(NET_GUEST.servedBytes);
    const expected = sha256Hex(Buffer.concat(Array<Buffer>(copies).fill(served)));
    if (upload.sha256 !== expected) throw new Error(`upload: the host received ${upload.bytes} bytes whose SHA-256 is not the guest file's (x${copies})`);

    const forwarded = await timedFetch(`http://127.0.0.1:${hostPort}${NET_GUEST.servedPath}`);
    if (forwarded.transfer.sha256 !== sha256Hex(served)) throw new Error(`forwarded port: fetched ${forwarded.body.length} bytes whose SHA-256 is not the guest file's`);

    return { bootMs, download: mibPerSecond(download), upload: mibPerSecond(upload), forward: mibPerSecond(forwarded.transfer) };
  } finally {
    await guest.stop();
  }
}

function line(r: NetResult): string {
  return `boot to lease and shell ${fmt(r.bootMs)}; download ${r.download.toFixed(1)} MiB/s, upload ${r.upload.toFixed(1)} MiB/s, forwarded port ${r.forward.toFixed(1)} MiB/s`;
}

/** Run each runner in turn; the first that runs is the one the others are compared with. */
export async function bench(runners: NetRunner[] = [qemuRunner, terrariumCliRunner]): Promise<void> {
  engineBench();
  console.log(
    `Network throughput inside the guest through NAT (e1000, Debian 12 i386 kernel + busybox, ${NET_GUEST.memoryMiB} MiB; ` +
      `${TRANSFER_MIB} MiB down and up, ${NET_GUEST.servedBytes >> 20} MiB through a forwarded port; timed on the host)`,
  );
  if (!existsSync(KERNEL) || !existsSync(INITRD)) {
    console.log(`  *** SKIPPED: test/fixtures/out/${NET_GUEST.initrd} or ${NET_GUEST.kernel} missing; run \`npm run fixtures\` first ***`);
    return;
  }
  const server = await servePattern(TRANSFER_MIB << 20, `/${TRANSFER_MIB}M`);
  const sink = await uploadSink();
  try {
    let base: { name: string; r: NetResult } | null = null;
    for (const runner of runners) {
      const why = runner.unavailable();
      if (why !== null) {
        console.log(`  *** ${runner.name} SKIPPED: ${why}; no ratio ***`);
        continue;
      }
      let r: NetResult;
      try {
        r = await measure(runner, server, sink);
      } catch (e) {
        console.log(`  *** ${runner.name}: ${(e as Error).message} ***`);
        if (runner !== qemuRunner) process.exitCode = 1;
        continue;
      }
      const version = runner === qemuRunner ? ` (${qemuVersion() ?? ''})` : '';
      console.log(`  ${runner.name}${version}: ${line(r)}`);
      if (base === null) base = { name: runner.name, r };
      else {
        const b = base.r;
        const ratio = (x: number, y: number): string => `${(x / y).toFixed(2)}x`;
        console.log(`  ratio ${runner.name} / ${base.name}: download ${ratio(r.download, b.download)}, upload ${ratio(r.upload, b.upload)}, forwarded port ${ratio(r.forward, b.forward)}`);
      }
    }
  } finally {
    await server.close();
    await sink.close();
  }
}

/** The NAT's TCP engine alone against a lossless fake guest, on this thread (target: 100 MB/s per direction). */
export function engineBench(): void {
  const r = tcpEngineThroughput(256);
  const mbs = (x: Rate): string => `${x.cpuMBps.toFixed(0)} MB/s per CPU second (${x.wallMBps.toFixed(0)} wall)`;
  console.log(`NAT TCP engine alone against a lossless fake guest, ${r.mib} MiB each way: to the guest ${mbs(r.download)}, from the guest ${mbs(r.upload)}; target 100 MB/s`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await bench();
