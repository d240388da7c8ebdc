import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Guest boots that take minutes, longest first. On a fresh clone vitest knows no durations
 * and starts small files last, so a 7-minute boot started alone at the end would stretch the
 * run; started first, they overlap with everything else.
 */
const SLOW_FIRST = [
  'test/boot/linux-amd64.test.ts',
  'test/net/nat-guest.test.ts',
  'test/e2e/network-guest.e2e.test.ts',
  'test/boot/kernel-with-disk.test.ts',
  'test/e2e/ui.e2e.test.ts',
  'test/pc/disk.test.ts',
  'test/apic/apic-guest.test.ts',
  'test/pc/iso-boot.test.ts',
  'app/service/cpus.test.ts',
];

class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification): number => {
      const i = SLOW_FIRST.findIndex((p) => f.moduleId.endsWith(p));
      return i < 0 ? SLOW_FIRST.length : i;
    };
    return sorted
      .map((f, i) => ({ f, i }))
      .sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i)
      .map(({ f }) => f);
  }
}

export default defineConfig({
  test: {
    include: ['emulator-core/**/*.test.ts', 'app/**/*.test.ts', 'test/**/*.test.ts', 'renderer/**/*.test.{ts,tsx}', 'main/**/*.test.ts'],
    exclude: ['node_modules', 'dist'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    pool: 'forks',
    // vitest's default (cores - 1) runs one file at a time on a 2-core CI host; two workers let
    // the minute-long guest boots overlap. (The DHCP test that once failed beside them read a
    // lease line still arriving on the serial port; net-guest.ts now waits for its line end.)
    maxWorkers: 2,
    minWorkers: 1,
    sequence: { sequencer: SlowFirstSequencer },
  },
});
