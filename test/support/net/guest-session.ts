/**
 * Driving a guest's serial shell from a test or a bench, whatever runs the guest: SerialShell
 * turns the serial byte stream into awaited markers and command results, given only a way
 * to type; spawnSerialGuest wires one to a child process whose stdio is the guest's serial
 * port (`qemu-system-i386 -nographic`, `terrarium run`). For an in-process Machine:
 *   const shell = new SerialShell((s) => machine.sendSerial(Buffer.from(s, 'latin1')));
 *   ...Machine.create(config, { serialOutput: (bytes) => shell.feed(bytes) }, options)
 */
import { spawn } from 'node:child_process';

/** A wait on the guest that failed: timed out, or the guest went away. Carries the serial tail. */
export class SerialShellError extends Error {
  constructor(
    message: string,
    readonly transcript: string,
  ) {
    super(`${message}\n--- last serial output ---\n${transcript}\n---`);
    this.name = 'SerialShellError';
  }
}

export interface CommandResult {
  /** What the command printed (stdout and stderr), "\r\n" as "\n", without its final newline. */
  output: string;
  /** Its exit status ($?). */
  status: number;
}

interface Waiter {
  re: RegExp;
  resolve: (m: RegExpExecArray) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** Serial output kept for error messages after it has been consumed. */
const TRANSCRIPT_CHARS = 4000;

export class SerialShell {
  /** Serial output as latin1 text; `pos` is where the next wait starts looking. */
  private text = '';
  private pos = 0;
  private readonly waiters = new Set<Waiter>();
  private closedReason: string | null = null;
  private nextId = 1;
  /** Commands run one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly write: (text: string) => void) {}

  /** Bytes the guest wrote to its serial port. */
  feed(bytes: Uint8Array | string): void {
    this.text += typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('latin1');
    for (const w of [...this.waiters]) this.tryMatch(w);
    // Forget consumed output beyond what an error message shows.
    if (this.pos > 1 << 16) {
      const drop = this.pos - TRANSCRIPT_CHARS;
      this.text = this.text.slice(drop);
      this.pos -= drop;
    }
  }

  /** The last few thousand characters of serial output, for failure messages. */
  transcript(): string {
    return this.text.slice(-TRANSCRIPT_CHARS);
  }

  /** The guest is gone (its process exited): every pending and later wait fails with `reason`. */
  close(reason: string): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    for (const w of [...this.waiters]) this.settle(w, new SerialShellError(reason, this.transcript()));
  }

  /**
   * Wait until `re` matches the output after the previous match (waits are meant to be
   * sequential); the output up to the end of the match is consumed.
   */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    const once = new RegExp(re.source, re.flags.replace(/[gy]/g, ''));
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        re: once,
        resolve,
        reject,
        timer: setTimeout(() => this.settle(w, new SerialShellError(`no ${re} on the serial port within ${timeoutMs / 1000} s`, this.transcript())), timeoutMs),
      };
      this.waiters.add(w);
      if (this.closedReason !== null) this.settle(w, new SerialShellError(this.closedReason, this.transcript()));
      else this.tryMatch(w);
    });
  }

  /**
   * Type `command` (one line) into the shell and wait for it to finish. It is wrapped in
   * unique begin/end markers, quoted so that the terminal's echo of the typed line never
   * matches them: `echo __TB""7__; COMMAND; echo __TE""7__ $?` prints `__TB7__` ... `__TE7__ 0` and a newline.
   */
  exec(command: string, timeoutMs: number): Promise<CommandResult> {
    if (/[\r\n]/.test(command)) return Promise.reject(new RangeError('SerialShell commands are one line'));
    const run = this.queue.then(async () => {
      const id = this.nextId++;
      const done = this.waitFor(new RegExp(`__TB${id}__\\r?\\n([\\s\\S]*?)__TE${id}__ (\\d+)\\r?\\n`), timeoutMs);
      this.write(`echo __TB""${id}__; ${command}; echo __TE""${id}__ $?\n`);
      const m = await done;
      return { output: m[1]!.replace(/\r\n/g, '\n').replace(/\n$/, ''), status: Number(m[2]) };
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** exec(), failing unless the command exits 0; resolves with its output. */
  async run(command: string, timeoutMs: number): Promise<string> {
    const r = await this.exec(command, timeoutMs);
    if (r.status !== 0) throw new SerialShellError(`\`${command}\` exited ${r.status}: ${r.output.slice(-500)}`, this.transcript());
    return r.output;
  }

  /**
   * Wait until the shell answers: types a no-op every few seconds until one completes (typing
   * before the shell reads its terminal is harmless, but a shell still starting may not answer).
   */
  async sync(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const left = deadline - performance.now();
      try {
        await this.exec('true', Math.max(1, Math.min(5000, left)));
        return;
      } catch (e) {
        if (this.closedReason !== null || performance.now() >= deadline) throw e;
      }
    }
  }

  private tryMatch(w: Waiter): void {
    const m = w.re.exec(this.text.slice(this.pos));
    if (m === null) return;
    this.pos += m.index + m[0].length;
    this.settle(w, m);
  }

  private settle(w: Waiter, result: RegExpExecArray | Error): void {
    if (!this.waiters.delete(w)) return;
    clearTimeout(w.timer);
    if (result instanceof Error) w.reject(result);
    else w.resolve(result);
  }
}

/** A guest in a child process whose stdin/stdout are its serial port. */
export interface SerialGuest {
  shell: SerialShell;
  /** Resolves when the process has exited, with its exit code or signal. */
  exited: Promise<string>;
  /** The tail of its stderr (QEMU's warnings, Terrarium's errors). */
  stderr(): string;
  /** Kill it (SIGKILL) if still running, and wait for it to exit. */
  stop(): Promise<void>;
}

export function spawnSerialGuest(command: string, args: string[]): SerialGuest {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const shell = new SerialShell((s) => {
    if (child.stdin.writable) child.stdin.write(s, 'latin1');
  });
  let stderr = '';
  let running = true;
  child.stdout.on('data', (d: Buffer) => shell.feed(d));
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-TRANSCRIPT_CHARS)));
  child.stdin.on('error', () => undefined); // EPIPE once the guest has exited; `exited` reports it.
  const exited = new Promise<string>((resolve) => {
    const end = (how: string): void => {
      if (!running) return;
      running = false;
      shell.close(`${command} ${how}${stderr.trim() === '' ? '' : `: ${stderr.trim().split('\n').slice(-3).join(' | ')}`}`);
      resolve(how);
    };
    child.on('error', (e) => end(`failed to start (${e.message})`));
    child.on('close', (code, signal) => end(`exited (${code ?? signal ?? '?'})`));
  });
  return {
    shell,
    exited,
    stderr: () => stderr,
    stop: async () => {
      if (running) child.kill('SIGKILL');
      await exited;
    },
  };
}
