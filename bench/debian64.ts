/**
 * The debootstrapped Debian 12 amd64 system (test/fixtures/build-debian-amd64-system.sh) to
 * its login prompt on the serial console: its own kernel and initrd booted directly onto the
 * bare ext4 disk with "root=/dev/sda console=ttyS0", as `terrarium run --kernel --initrd
 * --disk --append` does (NIC behind NAT included, as QEMU's default NIC), on the software CPU
 * beside `qemu-system-x86_64 -accel tcg` with the command line of
 * test/fixtures/check-debian-amd64-system.sh. Neither writes the built image: QEMU runs with
 * -snapshot, Terrarium on a temporary qcow2 overlay backed by it.
 * Opt-in (it can take over an hour on Terrarium): `npm run bench -- debian64`, never part of a
 * full run. Each side stops at the prompt or at the limit (TERRARIUM_BENCH_DEBIAN_LIMIT
 * seconds, default 3600), which is reported with the last serial line.
 * `node dist/bench/debian64.js [qemu|terrarium] [--cpus N] [--clock realtime|instructions]` runs it alone (or one side).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDisk } from '../emulator-core/storage/create.js';
import { lastLine, serialLines } from './amd64.js';
import { FIXTURES, fmt, mips, qemuArgs, qemuVersion, runTerrarium, timeline } from './common.js';

const IMAGE = join(FIXTURES, 'debian-amd64.qcow2');
const KERNEL = join(FIXTURES, 'debian-amd64-vmlinuz');
const INITRD = join(FIXTURES, 'debian-amd64-initrd.img');
const APPEND = 'root=/dev/sda console=ttyS0';
const MEMORY = 1024;
/** The serial getty's prompt, e.g. "terrarium-guest login: ". */
const LOGIN = /(?:^|\n)[\w.-]+ login: /;
/** root's shell prompt (the image's root has an empty password). */
const ROOT_PROMPT = /root@[\w.-]+:~# /;
/** The scripted login's command (test/fixtures/check-debian-amd64-system.sh runs the same); $((6*7)) keeps the end mark out of the echo. */
const COMMAND = "uname -m; nproc; python3 -c 'print(2**100)'; echo CHECK-END-$((6*7))\n";
const END = /\nCHECK-END-42\r?\n/;

/** The three lines the command printed before its end mark, without kernel messages or terminal escapes. */
export function commandAnswer(serial: string): string {
  const lines = serialLines(serial).filter((l) => !/^\[ *\d+\.\d+\] /.test(l));
  const end = lines.lastIndexOf('CHECK-END-42');
  return end < 3 ? '' : lines.slice(end - 3, end).join('\n');
}

function limitSeconds(): number {
  const text = process.env.TERRARIUM_BENCH_DEBIAN_LIMIT;
  if (text === undefined || text === '') return 3600;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`TERRARIUM_BENCH_DEBIAN_LIMIT=${text}: give a positive number of seconds`);
  return n;
}

async function qemuSide(cpus: number, limit: number): Promise<number | null> {
  const qv = qemuVersion('qemu-system-x86_64');
  if (qv === null) {
    console.log('  *** QEMU TCG SKIPPED: qemu-system-x86_64 not installed (apt install qemu-system-x86); no ratio ***');
    return null;
  }
  const drive = `file=${IMAGE},format=qcow2,if=ide,index=0,media=disk`;
  const args = qemuArgs(MEMORY, ['-smp', String(cpus), '-snapshot', '-kernel', KERNEL, '-initrd', INITRD, '-drive', drive, '-append', APPEND]);
  const q = await timeline('qemu-system-x86_64', args, { login: LOGIN }, 'login', limit * 1000);
  if (!q.ok) {
    console.log(`  *** QEMU TCG: did not reach login within ${limit} s; last serial line: ${lastLine(q.output)}; no ratio ***`);
    return null;
  }
  const ms = q.at.get('login')!;
  console.log(`  QEMU TCG (${qv}, -smp ${cpus}): ${fmt(ms)}`);
  return ms;
}

async function terrariumSide(cpus: number, limit: number, clock: 'realtime' | 'instructions'): Promise<number | null> {
  const dir = mkdtempSync(join(tmpdir(), 'terrarium-bench-debian-'));
  try {
    const overlay = join(dir, 'debian-amd64-overlay.qcow2');
    await createDisk({ path: overlay, format: 'qcow2', backing: IMAGE });
    const t = await runTerrarium({
      config: {
        memoryMiB: MEMORY,
        cpus,
        clock,
        accel: 'interpreter',
        kernel: KERNEL,
        initrd: INITRD,
        cmdline: APPEND,
        disks: [{ path: overlay, format: 'qcow2' }],
        onTripleFault: 'crash',
        net: { mode: 'nat', forwards: [] },
      },
      marks: { login: LOGIN.source, shell: ROOT_PROMPT.source, answer: END.source },
      last: 'answer',
      timeoutMs: limit * 1000,
      // Acceptance 3 of issue 11: a root login answers uname -m, nproc and Python's 2**100.
      script: [
        { waitFor: LOGIN.source, send: 'root\n' },
        { waitFor: ROOT_PROMPT.source, send: 'dmesg -n 1\n' },
        { waitFor: ROOT_PROMPT.source, send: COMMAND },
      ],
    });
    const at = t.at.login;
    if (at === undefined) {
      const why = t.exit.startsWith('timed out') ? `did not reach login within ${limit} s` : `did not reach login (${t.exit})`;
      console.log(`  Terrarium: ${why}; last serial line: ${lastLine(t.output)}`);
      process.exitCode = 1;
      return null;
    }
    console.log(`  Terrarium (software CPU${cpus > 1 ? `, --cpus ${cpus}` : ''}, --clock ${clock}): ${fmt(at.ms)}   ${mips(at.instructions, at.ms)}`);
    const answered = t.at.answer;
    const answer = commandAnswer(t.output);
    const expected = `x86_64\n${cpus}\n1267650600228229401496703205376`;
    if (answered === undefined || answer !== expected) {
      console.log(`  *** Terrarium: the scripted root login did not answer as expected (${t.exit}); got ${JSON.stringify(answer)}, want ${JSON.stringify(expected)}; last serial line: ${lastLine(t.output)} ***`);
      process.exitCode = 1;
    } else console.log(`  Terrarium: root login answered ${JSON.stringify(answer)} at ${fmt(answered.ms)}`);
    return at.ms;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `clock`: Terrarium's guest clock. 'realtime' (the default) makes a slow CPU look like slow
 * hardware, and systemd's start timeouts fire; 'instructions' slows the guest's clock instead.
 */
export async function bench(sides: string[] = [], cpus = 1, clock: 'realtime' | 'instructions' = 'realtime'): Promise<void> {
  const limit = limitSeconds();
  console.log(`Debian 12 amd64 system to the login prompt (debootstrapped, own kernel + initrd, ext4 on IDE, ${cpus} CPU${cpus > 1 ? 's' : ''}, ${MEMORY} MiB, "${APPEND}", limit ${limit} s)`);
  for (const f of [IMAGE, KERNEL, INITRD]) {
    if (!existsSync(f)) {
      console.log(`  *** SKIPPED: ${f} missing; run test/fixtures/build-debian-amd64-system.sh (as root) first ***`);
      return;
    }
  }
  const qemu = sides.length === 0 || sides.includes('qemu') ? await qemuSide(cpus, limit) : null;
  const terrarium = sides.length === 0 || sides.includes('terrarium') ? await terrariumSide(cpus, limit, clock) : null;
  if (qemu !== null && terrarium !== null) console.log(`  ratio Terrarium / QEMU TCG: ${(terrarium / qemu).toFixed(2)}x`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const valueOf = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    if (i < 0) return undefined;
    const v = args[i + 1];
    args.splice(i, 2);
    return v;
  };
  const cpusText = valueOf('--cpus');
  const cpus = cpusText === undefined ? 1 : Number(cpusText);
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > 16) throw new Error(`--cpus ${cpusText}: give 1 to 16`);
  const clock = valueOf('--clock') ?? 'realtime';
  if (clock !== 'realtime' && clock !== 'instructions') throw new Error(`--clock ${clock}: give realtime or instructions`);
  for (const s of args) if (s !== 'qemu' && s !== 'terrarium') throw new Error(`${s}: give qemu, terrarium or neither`);
  await bench(args, cpus, clock);
}
