/**
 * The guest's screen: dirty rectangles painted on a canvas, scaled to fit or 1:1, or full
 * screen. A click captures keyboard and pointer (pointer lock, relative motion); the host
 * key (Right Ctrl) releases them, as in VirtualBox.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { VmInfo } from '../../../app/contract/api';
import { paintRect } from '../lib/screen';
import { onApiEvent, useApi, useApp } from '../store/app';
import { Icon } from './Icon';

type OkVm = Extract<VmInfo, { status: 'ok' }>;
type Scale = 'fit' | '1:1';

export function Console({ vm }: { vm: OkVm }) {
  const api = useApi();
  const { host, attempt, notify, setCaptured, captured } = useApp();
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const frameRef = useRef<HTMLDivElement>(null);
  const [scale, setScale] = useState<Scale>(vm.config.display.scale);
  const [size, setSize] = useState<{ width: number; height: number } | null>(null);
  const [frames, setFrames] = useState(0);
  const state = vm.session.state;
  const live = state === 'running' || state === 'paused' || state === 'stopping';
  const hostKey = host?.hostKey.code ?? 'ControlRight';

  // Screen stream: subscribe while the VM is live; every rect paints the canvas.
  useEffect(() => {
    if (!live) return;
    const off = onApiEvent((event) => {
      if (event.type !== 'screen' || event.id !== vm.id || canvasRef.current === null) return;
      paintRect(canvasRef.current, event.rect);
      setSize((s) => (s?.width === event.rect.width && s.height === event.rect.height ? s : { width: event.rect.width, height: event.rect.height }));
      setFrames((n) => n + 1);
    });
    void api.subscribeScreen({ id: vm.id }).catch(() => undefined);
    return () => {
      off();
      void api.unsubscribeScreen({ id: vm.id }).catch(() => undefined);
    };
  }, [api, vm.id, live]);

  const release = useCallback(() => {
    if (document.pointerLockElement !== null) document.exitPointerLock();
    setCaptured(false);
  }, [setCaptured]);

  // Keyboard and pointer capture.
  useEffect(() => {
    if (!captured) return;
    const down = new Set<string>();
    let dx = 0;
    let dy = 0;
    let buttons = 0;
    let frame = 0;
    const flush = () => {
      frame = 0;
      void api.sendPointer({ id: vm.id, dx: Math.round(dx), dy: Math.round(dy), buttons }).catch(() => undefined);
      dx = 0;
      dy = 0;
    };
    const queuePointer = () => {
      if (frame === 0) frame = requestAnimationFrame(flush);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.code === hostKey) {
        e.preventDefault();
        if (e.type === 'keydown') release();
        return;
      }
      e.preventDefault();
      const isDown = e.type === 'keydown';
      if (isDown) down.add(e.code);
      else down.delete(e.code);
      if (/^[A-Za-z0-9]{1,32}$/.test(e.code)) void api.sendKey({ id: vm.id, code: e.code, down: isDown }).catch(() => undefined);
    };
    const onMove = (e: MouseEvent) => {
      if (document.pointerLockElement === null) return;
      dx += e.movementX;
      dy += e.movementY;
      queuePointer();
    };
    const onButton = (e: MouseEvent) => {
      buttons = e.buttons & 7;
      queuePointer();
    };
    const onLockChange = () => {
      // The browser took the pointer back (Esc): release the keyboard too.
      if (document.pointerLockElement === null && frameRef.current?.dataset.locked === '1') release();
      if (frameRef.current) frameRef.current.dataset.locked = document.pointerLockElement !== null ? '1' : '0';
    };
    window.addEventListener('keydown', onKey, true);
    window.addEventListener('keyup', onKey, true);
    window.addEventListener('mousemove', onMove);
    window.addEventListener('mousedown', onButton);
    window.addEventListener('mouseup', onButton);
    document.addEventListener('pointerlockchange', onLockChange);
    return () => {
      window.removeEventListener('keydown', onKey, true);
      window.removeEventListener('keyup', onKey, true);
      window.removeEventListener('mousemove', onMove);
      window.removeEventListener('mousedown', onButton);
      window.removeEventListener('mouseup', onButton);
      document.removeEventListener('pointerlockchange', onLockChange);
      if (frame !== 0) cancelAnimationFrame(frame);
      // Nothing stays pressed in the guest after the host key.
      for (const code of down) void api.sendKey({ id: vm.id, code, down: false }).catch(() => undefined);
    };
  }, [api, captured, hostKey, release, vm.id]);

  useEffect(() => {
    if (state !== 'running' && captured) release();
  }, [state, captured, release]);
  useEffect(() => () => setCaptured(false), [setCaptured]);

  const capture = () => {
    if (state !== 'running' || captured) return;
    setCaptured(true);
    const lock = canvasRef.current?.requestPointerLock() as Promise<void> | undefined;
    // Pointer lock can be refused (embedded, headless): the keyboard is still captured.
    void lock?.catch?.(() => undefined);
  };

  const fullscreen = async () => {
    await frameRef.current?.requestFullscreen().catch(() => notify('error', 'Full screen was refused by the browser.'));
    const keyboard = (navigator as Navigator & { keyboard?: { lock?: () => Promise<void> } }).keyboard;
    await keyboard?.lock?.().catch(() => undefined);
  };

  const screenshot = async () => {
    const shot = await attempt(() => api.screenshot({ id: vm.id }));
    if (shot === undefined) return;
    const url = URL.createObjectURL(new Blob([shot.png.slice()], { type: 'image/png' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `${vm.config.name}.png`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    notify('info', `Screenshot saved on the host: ${shot.savedAs}`);
  };

  return (
    <div className="console">
      <div className="console-bar">
        <button type="button" data-testid="ctrl-alt-del" disabled={state !== 'running'} onClick={() => void attempt(() => api.sendKeyCombo({ id: vm.id, codes: ['ControlLeft', 'AltLeft', 'Delete'] }))}>
          <Icon name="keyboard" />
          Ctrl+Alt+Del
        </button>
        <button type="button" data-testid="screenshot" disabled={!live || size === null} onClick={() => void screenshot()}>
          <Icon name="camera" />
          Screenshot
        </button>
        <label>
          Scale{' '}
          <select data-testid="scale" value={scale} onChange={(e) => setScale(e.target.value as Scale)}>
            <option value="fit">Fit to window</option>
            <option value="1:1">1:1</option>
          </select>
        </label>
        <button type="button" data-testid="fullscreen" disabled={!live} onClick={() => void fullscreen()}>
          <Icon name="expand" />
          Full screen
        </button>
        <span className="spacer" />
        {size && (
          <span className="muted" data-testid="resolution" data-frames={frames}>
            {size.width}×{size.height}
          </span>
        )}
      </div>
      <div ref={frameRef} className={`screen-frame scale-${scale === 'fit' ? 'fit' : 'one'}${captured ? ' captured' : ''}`}>
        <canvas
          ref={canvasRef}
          data-testid="screen"
          className="screen"
          width={640}
          height={400}
          tabIndex={0}
          onClick={capture}
          title={state === 'running' ? `Click to capture keyboard and mouse (${host?.hostKey.label ?? 'Right Ctrl'} releases them)` : undefined}
        />
        {!live && <ScreenOverlay vm={vm} />}
        {live && size === null && <div className="screen-overlay muted">{state === 'running' ? 'Waiting for the guest’s display…' : state}</div>}
      </div>
    </div>
  );
}

function ScreenOverlay({ vm }: { vm: OkVm }) {
  const api = useApi();
  const { attempt } = useApp();
  const { session } = vm;
  return (
    <div className="screen-overlay" data-testid="screen-overlay">
      {session.state === 'starting' && <p>Starting…</p>}
      {session.state === 'stopped' && (
        <>
          <p>{vm.config.name} is powered off{session.exitReason ? ` (${session.exitReason})` : ''}.</p>
          <button type="button" className="primary" onClick={() => void attempt(() => api.startVm({ id: vm.id }))}>
            <Icon name="play" /> Start
          </button>
        </>
      )}
      {session.state === 'error' && (
        <div className="error-box" role="alert" data-testid="console-error">
          <p className="error-title">{session.error?.message ?? 'The VM stopped with an error.'}</p>
          {session.error?.hint && <p className="hint">{session.error.hint}</p>}
          <button type="button" className="primary" onClick={() => void attempt(() => api.startVm({ id: vm.id }))}>
            Try again
          </button>
        </div>
      )}
    </div>
  );
}
