import { useApp } from '../store/app';

export function ConnectionBanner() {
  const connection = useApp((s) => s.connection);
  if (connection === 'open' || connection === 'connecting') return null;
  return (
    <div className="banner" role="alert" data-testid="connection-banner">
      {connection === 'unauthorized'
        ? 'The Terrarium host was restarted with a new access token. Open the URL it printed (it contains ?token=…).'
        : 'Lost the connection to the Terrarium host. Reconnecting…'}
    </div>
  );
}
