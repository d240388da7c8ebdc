/**
 * The SSE unit and its instruction families. Importing this module defines every family's
 * instructions in the SSE table (sse-table.ts); add a family by importing it here.
 */
import './moves.js';

export { SseUnit } from './sse-unit.js';
export type { SseHost } from './sse-host.js';
