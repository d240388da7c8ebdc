/** The guest's COM1 in xterm.js: what it printed so far, then live; typing goes to the guest. */
import { Terminal } from '@xterm/xterm';
import { useEffect, useRef } from 'react';
import type { VmInfo } from '../../../app/contract/api';
import { onApiEvent, useApi } from '../store/app';

type OkVm = Extract<VmInfo, { status: 'ok' }>;

export function SerialTerminal({ vm }: { vm: OkVm }) {
  const api = useApi();
  const hostRef = useRef<HTMLDivElement>(null);
  const live = vm.session.state !== 'stopped' && vm.session.state !== 'error';
  const stateRef = useRef(vm.session.state);
  stateRef.current = vm.session.state;

  useEffect(() => {
    if (hostRef.current === null) return;
    const term = new Terminal({ convertEol: false, cursorBlink: true, fontSize: 14, scrollback: 5000, theme: { background: '#101418' } });
    term.open(hostRef.current);
    const off = onApiEvent((event) => {
      if (event.type === 'serial' && event.id === vm.id) term.write(event.data);
    });
    const input = term.onData((data) => {
      if (stateRef.current === 'running' || stateRef.current === 'paused') void api.sendSerial({ id: vm.id, data }).catch(() => undefined);
    });
    void api.subscribeSerial({ id: vm.id }).then(
      ({ history }) => {
        if (history.length > 0) term.write(history);
      },
      () => undefined,
    );
    term.focus();
    const fit = () => {
      const el = hostRef.current;
      if (el === null) return;
      // Approximate cell size; good enough without the fit addon.
      const cols = Math.max(20, Math.floor(el.clientWidth / 8.5));
      const rows = Math.max(5, Math.floor(el.clientHeight / 17));
      term.resize(cols, rows);
    };
    fit();
    const observer = new ResizeObserver(fit);
    observer.observe(hostRef.current);
    return () => {
      observer.disconnect();
      off();
      input.dispose();
      term.dispose();
      void api.unsubscribeSerial({ id: vm.id }).catch(() => undefined);
    };
  }, [api, vm.id]);

  return (
    <div className="serial">
      {!live && <div className="serial-note muted">The VM is not running. Below is what it printed in its last run, if it ran since the host started; start it to type to it.</div>}
      {!vm.config.serial.enabled && <div className="serial-note muted">The serial port is off in this VM's settings.</div>}
      <div ref={hostRef} className="terminal" data-testid="serial-terminal" />
    </div>
  );
}
