/**
 * Runtime validation of every contract call's parameters. Whatever the transport, input
 * comes from a renderer that may be compromised or a browser tab: nothing is trusted.
 */
import path from 'node:path';
import { z } from 'zod';
import {
  cpusSchema,
  diskFormatSchema,
  diskSizeSchema,
  displaySchema,
  forwardsSchema,
  memorySchema,
  networkSchema,
  osTypeSchema,
  serialSchema,
  storageSchema,
  systemSchema,
  vmNameSchema,
} from '../library/config-schema.js';
import type { MethodName, Params } from './api.js';

export const idSchema = z
  .string({ error: 'A VM id is required.' })
  .min(1)
  .max(128)
  .refine((id) => !/[/\\\0]/.test(id) && id !== '.' && id !== '..', 'Not a VM id.');

export const hostPathSchema = z
  .string({ error: 'A file path is required.' })
  .min(1, 'A file path is required.')
  .max(4096)
  .refine((p) => !p.includes('\0'), 'A path cannot contain NUL.')
  .refine((p) => path.isAbsolute(p), 'The path must be absolute.');

const opIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'Not an operation id.').optional();
/** KeyboardEvent.code values: letters and digits only ("KeyA", "ArrowUp", "F12"). */
const keyCodeSchema = z.string().regex(/^[A-Za-z0-9]{1,32}$/, 'Not a key code.');
const pointerDelta = z.number().int().min(-65536).max(65536);

const newDiskSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('new'), sizeMiB: diskSizeSchema, format: diskFormatSchema }),
  z.strictObject({ kind: z.literal('existing'), path: hostPathSchema }),
  z.strictObject({ kind: z.literal('none') }),
]);

export const createVmSchema = z.strictObject({
  name: vmNameSchema,
  osType: osTypeSchema,
  memoryMiB: memorySchema,
  cpus: cpusSchema,
  disk: newDiskSchema,
  iso: hostPathSchema.nullable(),
  opId: opIdSchema,
});

export const vmSettingsSchema = z.strictObject({
  name: vmNameSchema,
  osType: osTypeSchema,
  system: systemSchema,
  display: displaySchema,
  storage: storageSchema,
  serial: serialSchema,
  network: networkSchema,
  notes: z.string().max(10_000),
});

const none = z.strictObject({});
const id = z.strictObject({ id: idSchema });

export const paramSchemas: { [M in MethodName]: z.ZodType<Params<M>> } = {
  hostInfo: none,
  listVms: none,
  getVm: id,
  // Drafts are half-typed forms: the handler validates them field by field.
  checkNewVm: z.strictObject({ draft: z.record(z.string(), z.unknown()) }),
  checkSettings: z.strictObject({ id: idSchema, settings: z.record(z.string(), z.unknown()) }),
  createVm: createVmSchema,
  updateVm: z.strictObject({ id: idSchema, settings: vmSettingsSchema }),
  cloneVm: z.strictObject({ id: idSchema, name: vmNameSchema, opId: opIdSchema }),
  deleteVm: z.strictObject({ id: idSchema, keepDisks: z.boolean() }),
  setForwards: z.strictObject({ id: idSchema, forwards: forwardsSchema }),
  startVm: id,
  pauseVm: id,
  resumeVm: id,
  resetVm: id,
  acpiShutdown: id,
  powerOff: id,
  dismissError: id,
  attachIso: z.strictObject({ id: idSchema, path: hostPathSchema, bootFirst: z.boolean() }),
  ejectIso: id,
  createDisk: z.strictObject({ id: idSchema, sizeMiB: diskSizeSchema, format: diskFormatSchema, opId: opIdSchema }),
  inspectIso: z.strictObject({ path: hostPathSchema }),
  listMedia: none,
  subscribeScreen: id,
  unsubscribeScreen: id,
  subscribeSerial: id,
  unsubscribeSerial: id,
  sendKey: z.strictObject({ id: idSchema, code: keyCodeSchema, down: z.boolean() }),
  sendKeyCombo: z.strictObject({ id: idSchema, codes: z.array(keyCodeSchema).min(1).max(8) }),
  sendPointer: z.strictObject({ id: idSchema, dx: pointerDelta, dy: pointerDelta, buttons: z.number().int().min(0).max(7) }),
  sendSerial: z.strictObject({ id: idSchema, data: z.string().max(65_536, 'At most 64 KiB of serial input at once.') }),
  screenshot: id,
  thumbnail: id,
};
