/**
 * VM names double as folder and file names, so they must be portable: the rules below
 * are the intersection of what Linux, macOS and Windows accept, with readable messages.
 */
export const NAME_MAX = 64;
const ALLOWED = /^[A-Za-z0-9][A-Za-z0-9 ._()+-]*$/;
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/** Why this name is unusable, or null when it is fine. */
export function nameProblem(name: string): string | null {
  if (name.trim() === '') return 'Give the VM a name.';
  if (name.length > NAME_MAX) return `A name has at most ${NAME_MAX} characters (this one has ${name.length}).`;
  if (name !== name.trim()) return 'A name cannot start or end with a space.';
  if (name.endsWith('.')) return 'A name cannot end with a dot.';
  if (!ALLOWED.test(name)) {
    const bad = [...name].find((c) => !/[A-Za-z0-9 ._()+-]/.test(c));
    if (bad !== undefined) return `A name cannot contain "${bad}": use letters, digits, spaces and . _ - + ( ).`;
    return 'A name must start with a letter or a digit.';
  }
  if (WINDOWS_RESERVED.test(name)) return `"${name}" is a reserved device name on Windows; choose another.`;
  return null;
}

/** Two names that would clash on a case-insensitive file system. */
export function sameName(a: string, b: string): boolean {
  return a.localeCompare(b, undefined, { sensitivity: 'accent' }) === 0;
}

/** A valid name derived from arbitrary text (an ISO label, a file name). */
export function sanitizeName(text: string, fallback = 'New VM'): string {
  const cleaned = text
    .replace(/[^A-Za-z0-9 ._()+-]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, NAME_MAX)
    .replace(/[ .]+$/, '');
  return cleaned === '' || nameProblem(cleaned) !== null ? fallback : cleaned;
}

/** `base`, or `base (2)`, `base (3)`... whichever is not taken. */
export function uniqueName(base: string, taken: readonly string[]): string {
  const free = (n: string) => !taken.some((t) => sameName(t, n));
  if (free(base)) return base;
  for (let i = 2; ; i++) {
    const suffix = ` (${i})`;
    const candidate = base.slice(0, NAME_MAX - suffix.length).trimEnd() + suffix;
    if (free(candidate)) return candidate;
  }
}
