/**
 * The browser transport: one WebSocket to the web host (authenticated by the cookie the
 * token URL set), reconnecting with backoff. A 401 on reconnect means the host restarted
 * with a new token: the user must open the new URL.
 */
import type { ApiEvent, ErrorInfo, MethodName } from '../../../app/contract/api';
import { ApiError, type ConnectionState, type Transport } from './client';
import { decodeMessage } from './wire';

type Reply = { id: number | null; result?: unknown; error?: ErrorInfo } | { event: ApiEvent };

export class WebSocketTransport implements Transport {
  readonly kind = 'web' as const;
  private ws: WebSocket | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly eventListeners = new Set<(e: ApiEvent) => void>();
  private readonly connectionListeners = new Set<(s: ConnectionState) => void>();
  private state: ConnectionState = 'connecting';
  private opened: Promise<void>;
  private markOpen: () => void = () => undefined;
  private retry = 0;

  constructor(private readonly url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/ws`) {
    this.opened = new Promise((r) => (this.markOpen = r));
    this.connect();
  }

  onEvent(listener: (e: ApiEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onConnection(listener: (s: ConnectionState) => void): () => void {
    this.connectionListeners.add(listener);
    listener(this.state);
    return () => this.connectionListeners.delete(listener);
  }

  async invoke(method: MethodName, params: unknown): Promise<unknown> {
    await this.opened;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws?.send(JSON.stringify({ id, method, params }));
    });
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    for (const l of this.connectionListeners) l(state);
  }

  private connect(): void {
    const ws = new WebSocket(this.url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      this.retry = 0;
      this.setState('open');
      this.markOpen();
    };
    ws.onmessage = (message: MessageEvent<string | ArrayBuffer>) => this.receive(decodeMessage(message.data) as Reply);
    ws.onclose = () => void this.lost();
  }

  private receive(reply: Reply): void {
    if ('event' in reply) {
      for (const l of this.eventListeners) l(reply.event);
      return;
    }
    if (reply.id === null) return;
    const waiter = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    if (reply.error !== undefined) waiter?.reject(new ApiError(reply.error));
    else waiter?.resolve(reply.result);
  }

  private async lost(): Promise<void> {
    for (const w of this.pending.values()) w.reject(new ApiError({ code: 'HOST', message: 'The connection to the Terrarium host was lost.', hint: 'It reconnects by itself; try again in a moment.' }));
    this.pending.clear();
    if (this.state === 'open') this.opened = new Promise((r) => (this.markOpen = r));
    // Can we still talk to the host with our cookie? A 401 means a new host run with a new token.
    const status = await fetch(location.pathname, { method: 'HEAD', cache: 'no-store' }).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 401) {
      this.setState('unauthorized');
      return;
    }
    this.setState('reconnecting');
    const delay = Math.min(5000, 250 * 2 ** this.retry++);
    setTimeout(() => this.connect(), delay);
  }
}
