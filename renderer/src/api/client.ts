/**
 * The typed API the UI uses, over whichever transport this window has: the preload's
 * bridge under Electron, a WebSocket to the web host in a browser.
 */
import type { ApiEvent, ErrorInfo, MethodName, Params, Result, TerrariumApi } from '../../../app/contract/api';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'unauthorized';

export interface Transport {
  readonly kind: 'electron' | 'web';
  invoke(method: MethodName, params: unknown): Promise<unknown>;
  onEvent(listener: (event: ApiEvent) => void): () => void;
  onConnection(listener: (state: ConnectionState) => void): () => void;
}

/** An error the host reported, with its advice. */
export class ApiError extends Error {
  readonly code: ErrorInfo['code'];
  readonly hint: string | undefined;
  readonly field: string | undefined;

  constructor(info: ErrorInfo) {
    super(info.message);
    this.name = 'ApiError';
    this.code = info.code;
    this.hint = info.hint;
    this.field = info.field;
  }
}

export function createApi(transport: Transport): TerrariumApi {
  const call = <M extends MethodName>(method: M, params: Params<M>) => transport.invoke(method, params) as Promise<Result<M>>;
  // Every property is a method of the contract; the host rejects names it does not know.
  return new Proxy({} as TerrariumApi, {
    get: (_target, method) => (typeof method === 'string' ? (params: unknown) => call(method as MethodName, (params ?? {}) as never) : undefined),
  });
}
