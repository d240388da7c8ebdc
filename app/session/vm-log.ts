/**
 * Each VM's own log (Logs/vm.log in its folder): who started it with what, state changes,
 * the accelerator chosen, the machine's diagnostics and how the run ended. Logging must
 * never stop a VM, so write errors are swallowed.
 */
import { createWriteStream, type WriteStream } from 'node:fs';

export class VmLog {
  private readonly stream: WriteStream;

  constructor(readonly file: string) {
    this.stream = createWriteStream(file, { flags: 'a' });
    this.stream.on('error', () => undefined);
  }

  line(text: string): void {
    this.stream.write(`${new Date().toISOString()} ${text.replace(/\s*\n\s*/g, ' ')}\n`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(resolve));
  }
}
