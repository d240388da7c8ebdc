import type { SessionInfo } from '../../../app/contract/api';

const LABEL: Record<SessionInfo['state'], string> = {
  stopped: 'Powered off',
  starting: 'Starting…',
  running: 'Running',
  paused: 'Paused',
  stopping: 'Shutting down…',
  error: 'Error',
};

export function StateBadge({ session }: { session: SessionInfo }) {
  return (
    <div className={`state state-${session.state}`} data-testid="vm-state" data-state={session.state}>
      <span className="dot" />
      {LABEL[session.state]}
      {session.elsewhere ? ` (in ${session.elsewhere.owner})` : ''}
    </div>
  );
}
