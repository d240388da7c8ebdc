/**
 * The engine's WebAssembly JavaScript API, typed. The project's lib has no DOM types (where
 * TypeScript declares `WebAssembly`), so this module declares the part the JIT uses and hands
 * out the global object under that type.
 */

/** A compiled module (opaque). */
export interface WasmModule {
  readonly __wasmModule?: never;
}

export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

export type WasmImports = Record<string, Record<string, unknown>>;

export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(deltaPages: number): number;
}

export interface WasmTable {
  readonly length: number;
  get(index: number): unknown;
  set(index: number, value: unknown): void;
  grow(delta: number, init?: unknown): number;
}

export interface WasmGlobal {
  value: number | bigint;
}

export type WasmValueTypeName = 'i32' | 'i64' | 'f32' | 'f64';

export interface WasmApi {
  validate(bytes: Uint8Array<ArrayBuffer> | ArrayBuffer): boolean;
  compile(bytes: Uint8Array<ArrayBuffer> | ArrayBuffer): Promise<WasmModule>;
  instantiate(module: WasmModule, imports?: WasmImports): Promise<WasmInstance>;
  Module: new (bytes: Uint8Array<ArrayBuffer> | ArrayBuffer) => WasmModule;
  Instance: new (module: WasmModule, imports?: WasmImports) => WasmInstance;
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Table: new (descriptor: { element: 'anyfunc' | 'externref'; initial: number; maximum?: number }, value?: unknown) => WasmTable;
  Global: new (descriptor: { value: WasmValueTypeName; mutable?: boolean }, value?: number | bigint) => WasmGlobal;
  CompileError: new (message?: string) => Error;
  LinkError: new (message?: string) => Error;
  RuntimeError: new (message?: string) => Error;
}

/** The global `WebAssembly` object. */
export const Wasm: WasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
