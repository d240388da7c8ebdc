/**
 * Settings → Network: the adapter (NAT or none, MAC, host access) and the port-forwarding
 * table with presets. Usable while the VM runs: forwards apply when saved, the rest at the
 * next start. Problems come from the host's checks, each under its field.
 */
import { useState } from 'react';
import type { FieldErrors, NetworkSettings as Network } from '../../../app/contract/api';
import { ANY_ADDRESS, newRow, PRESETS, presetRow, randomMac, sshCommand, type ForwardRow } from '../lib/network';
import { Field } from './Dialog';

export type AdapterSettings = Omit<Network, 'forwards'>;

interface Props {
  adapter: AdapterSettings;
  rows: ForwardRow[];
  errors: FieldErrors;
  running: boolean;
  onAdapter(patch: Partial<AdapterSettings>): void;
  onRows(rows: ForwardRow[]): void;
}

const COLUMNS: Array<[keyof Omit<ForwardRow, 'key'>, string]> = [
  ['protocol', 'Protocol'],
  ['hostAddress', 'Host address'],
  ['hostPort', 'Host port'],
  ['guestPort', 'Guest port'],
];

export function NetworkSettings({ adapter, rows, errors, running, onAdapter, onRows }: Props) {
  const nat = adapter.mode === 'nat';
  const edit = (i: number, patch: Partial<ForwardRow>) => onRows(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <>
      {running && (
        <p className="note" data-testid="net-running-note">
          The VM is running: port forwards change as soon as you save; the adapter, MAC and host access take effect at its next start.
        </p>
      )}
      <Field label="Adapter" error={errors['network.mode']}>
        <select data-testid="net-mode" value={adapter.mode} onChange={(e) => onAdapter({ mode: e.target.value as AdapterSettings['mode'] })}>
          <option value="nat">NAT (Intel e1000): the guest reaches the network through this computer</option>
          <option value="none">Not attached: no network card</option>
        </select>
      </Field>
      <fieldset disabled={!nat}>
        <Field label="MAC address" error={errors['network.mac']} help="Kept across runs, so the guest keeps its interface name and DHCP lease.">
          <div className="picker">
            <input data-testid="net-mac" className="mono" value={adapter.mac} onChange={(e) => onAdapter({ mac: e.target.value.trim() })} />
            <button type="button" data-testid="net-mac-regenerate" onClick={() => onAdapter({ mac: randomMac() })}>
              Regenerate
            </button>
          </div>
        </Field>
        <label className="check">
          <input type="checkbox" data-testid="net-block-host" checked={adapter.blockHostAccess} onChange={(e) => onAdapter({ blockHostAccess: e.target.checked })} /> Block host access: the guest cannot connect to this computer
          (10.0.2.2 and its loopback services)
        </label>
        <h3>Port forwarding</h3>
        <p className="field-help">Connections to a port of this computer go to a port of the guest (its DHCP address, 10.0.2.15).</p>
        {errors['network.forwards'] && (
          <p className="field-error" role="alert">
            {errors['network.forwards']}
          </p>
        )}
        <table className="forwards" data-testid="forwards">
          <thead>
            <tr>
              {COLUMNS.map(([, label]) => (
                <th key={label}>{label}</th>
              ))}
              <th aria-label="Remove" />
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr>
                <td colSpan={5} className="muted">
                  No forwards: nothing outside reaches the guest.
                </td>
              </tr>
            )}
            {rows.map((row, i) => (
              <ForwardRowView key={row.key} row={row} index={i} errors={errors} onEdit={(patch) => edit(i, patch)} onRemove={() => onRows(rows.filter((_, j) => j !== i))} />
            ))}
          </tbody>
        </table>
        <div className="row-buttons">
          <button type="button" data-testid="net-add" onClick={() => onRows([...rows, newRow()])}>
            Add rule
          </button>
          {PRESETS.map((p) => (
            <button type="button" key={p.id} data-testid={`net-preset-${p.id}`} onClick={() => onRows([...rows, presetRow(rows, p)])}>
              {p.label}
            </button>
          ))}
        </div>
      </fieldset>
    </>
  );
}

function ForwardRowView({ row, index, errors, onEdit, onRemove }: { row: ForwardRow; index: number; errors: FieldErrors; onEdit(patch: Partial<ForwardRow>): void; onRemove(): void }) {
  const field = (name: string) => errors[`network.forwards.${index}.${name}`];
  const problems = COLUMNS.map(([name]) => field(name)).filter((e): e is string => e !== undefined);
  const ssh = sshCommand({ protocol: row.protocol, hostAddress: row.hostAddress, hostPort: Number(row.hostPort), guestPort: Number(row.guestPort) });
  const sshUsable = ssh !== null && field('hostPort') === undefined && field('hostAddress') === undefined;
  const cell = (name: 'hostAddress' | 'hostPort' | 'guestPort', className: string) => (
    <td className={field(name) ? 'invalid' : ''}>
      <input data-testid={`forward-${name}-${index}`} aria-label={`Rule ${index + 1}: ${COLUMNS.find(([n]) => n === name)?.[1].toLowerCase()}`} aria-invalid={field(name) !== undefined} className={className} value={row[name]} onChange={(e) => onEdit({ [name]: e.target.value })} />
    </td>
  );
  return (
    <>
      <tr data-testid={`forward-row-${index}`}>
        <td className={field('protocol') ? 'invalid' : ''}>
          <select data-testid={`forward-protocol-${index}`} aria-label={`Rule ${index + 1} protocol`} value={row.protocol} onChange={(e) => onEdit({ protocol: e.target.value as ForwardRow['protocol'] })}>
            <option value="tcp">TCP</option>
            <option value="udp">UDP</option>
          </select>
        </td>
        {cell('hostAddress', 'mono')}
        {cell('hostPort', 'num')}
        {cell('guestPort', 'num')}
        <td>
          <button type="button" data-testid={`forward-remove-${index}`} aria-label={`Remove rule ${index + 1}`} onClick={onRemove}>
            Remove
          </button>
        </td>
      </tr>
      {(problems.length > 0 || row.hostAddress.trim() === ANY_ADDRESS || sshUsable) && (
        <tr className="forward-notes">
          <td colSpan={5}>
            {problems.map((p) => (
              <div key={p} className="field-error" role="alert" data-testid={`forward-error-${index}`}>
                {p}
              </div>
            ))}
            {row.hostAddress.trim() === ANY_ADDRESS && (
              <div className="warning" data-testid={`forward-warning-${index}`}>
                0.0.0.0 listens on every interface: other computers on your network can reach guest port {row.guestPort || '?'} through host port {row.hostPort || '?'}. Use 127.0.0.1 to keep it to this computer.
              </div>
            )}
            {sshUsable && ssh !== null && <SshLine index={index} command={ssh} />}
          </td>
        </tr>
      )}
    </>
  );
}

function SshLine({ index, command }: { index: number; command: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(command);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      // No clipboard here (an insecure page): the line is selectable text.
    }
  };
  return (
    <div className="ssh-line">
      <code data-testid={`ssh-line-${index}`}>{command}</code>
      <button type="button" className="link" data-testid={`ssh-copy-${index}`} onClick={() => void copy()}>
        {copied ? 'Copied' : 'Copy'}
      </button>
    </div>
  );
}
