/** The contract service as the CLI uses it: the user's own paths are trusted, no events. */
import type { MethodName, Params, Result } from '../contract/api.js';
import { TrustingPolicy } from '../service/path-policy.js';
import { TerrariumService } from '../service/service.js';
import type { CliContext } from './command.js';
import { version } from './main.js';

export interface CliService {
  service: TerrariumService;
  call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>>;
  close(): Promise<void>;
}

export async function openService(ctx: CliContext, onEvent: Parameters<TerrariumService['connect']>[0]['send'] = () => undefined): Promise<CliService> {
  const service = new TerrariumService({ paths: ctx.paths, transport: 'cli', version: version(), owner: 'cli' });
  await service.open({ watch: false });
  const conn = service.connect({ send: onEvent, backlog: () => 0 }, new TrustingPolicy());
  return {
    service,
    call: (method, params) => service.dispatch(method, params, conn) as Promise<Result<typeof method>>,
    close: () => service.close(),
  };
}
