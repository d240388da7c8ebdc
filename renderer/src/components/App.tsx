import { useApp } from '../store/app';
import { Toolbar } from './Toolbar';
import { VmList } from './VmList';
import { VmPane } from './VmPane';
import { StatusBar } from './StatusBar';
import { Notices } from './Notices';
import { ProgressPanel } from './ProgressPanel';
import { DropZone } from './DropZone';
import { Dialogs } from './Dialogs';
import { ConnectionBanner } from './ConnectionBanner';

export function App() {
  const loaded = useApp((s) => s.loaded);
  return (
    <DropZone>
      <div className="app">
        <Toolbar />
        <ConnectionBanner />
        <div className="main">
          <VmList />
          {loaded ? <VmPane /> : <div className="pane empty">Connecting to the Terrarium host…</div>}
        </div>
        <StatusBar />
      </div>
      <Notices />
      <ProgressPanel />
      <Dialogs />
    </DropZone>
  );
}
