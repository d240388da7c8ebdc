/** The Electron transport: the preload's bridge (window.terrarium), always connected. */
import type { ApiEvent, MethodName } from '../../../app/contract/api';
import type { TerrariumBridge } from '../../../app/contract/bridge';
import { ApiError, type ConnectionState, type Transport } from './client';

declare global {
  interface Window {
    terrarium?: TerrariumBridge;
  }
}

export class IpcTransport implements Transport {
  readonly kind = 'electron' as const;

  constructor(readonly bridge: TerrariumBridge) {}

  async invoke(method: MethodName, params: unknown): Promise<unknown> {
    const reply = await this.bridge.invoke(method, params);
    if (!reply.ok) throw new ApiError(reply.error);
    return reply.result;
  }

  onEvent(listener: (e: ApiEvent) => void): () => void {
    return this.bridge.onEvent(listener);
  }

  onConnection(listener: (s: ConnectionState) => void): () => void {
    listener('open');
    return () => undefined;
  }
}
