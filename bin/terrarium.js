#!/usr/bin/env node
// The Terrarium CLI. The implementation is compiled TypeScript in dist/ (npm run build).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/app/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('terrarium: not built yet; run "npm run build" first.\n');
  process.exit(2);
}
const { runCli } = await import(entry.href);
process.exitCode = await runCli(process.argv.slice(2));
