/**
 * Helpers for end-to-end tests of networking: the Network section of the Settings dialog
 * (presets, rule fields, save) and host-side sockets (a free port, a busy one, a TCP read
 * through a forward, an HTTP download hashed as it streams). The UI steps work the same against the test double and a real guest.
 */
import type { Page } from 'playwright-core';

export type ForwardField = 'protocol' | 'hostAddress' | 'hostPort' | 'guestPort';

/** Open the selected VM's Settings on the Network section. */
export async function openNetworkSettings(page: Page, vmSelector: string): Promise<void> {
  await page.click(vmSelector);
  await page.click('[data-testid=settings]');
  await page.locator('[data-testid=settings-dialog]').waitFor();
  await page.click('[data-testid=settings-network]');
  await page.locator('[data-testid=forwards]').waitFor();
}

/** Rules in the forwarding table now. */
export function forwardCount(page: Page): Promise<number> {
  return page.locator('[data-testid^=forward-row-]').count();
}

/** Click a preset ("ssh" or "http"); returns the index of the row it added. */
export async function addPresetForward(page: Page, preset: 'ssh' | 'http'): Promise<number> {
  const index = await forwardCount(page);
  await page.click(`[data-testid=net-preset-${preset}]`);
  await page.locator(`[data-testid=forward-row-${index}]`).waitFor();
  return index;
}

/** Add a rule by hand (TCP unless told); returns its row index. */
export async function addForward(page: Page, rule: { protocol?: 'tcp' | 'udp'; hostAddress?: string; hostPort: number | string; guestPort: number | string }): Promise<number> {
  const index = await forwardCount(page);
  await page.click('[data-testid=net-add]');
  await page.locator(`[data-testid=forward-row-${index}]`).waitFor();
  if (rule.protocol !== undefined) await setForwardField(page, index, 'protocol', rule.protocol);
  if (rule.hostAddress !== undefined) await setForwardField(page, index, 'hostAddress', rule.hostAddress);
  await setForwardField(page, index, 'hostPort', String(rule.hostPort));
  await setForwardField(page, index, 'guestPort', String(rule.guestPort));
  return index;
}

export async function setForwardField(page: Page, index: number, field: ForwardField, value: string): Promise<void> {
  if (field === 'protocol') await page.selectOption(`[data-testid=forward-protocol-${index}]`, value);
  else await page.fill(`[data-testid=forward-${field}-${index}]`, value);
}

export function forwardField(page: Page, index: number, field: Exclude<ForwardField, 'protocol'>): Promise<string> {
  return page.inputValue(`[data-testid=forward-${field}-${index}]`);
}

/** Wait for the host's checks to pass, then save and wait for the dialog to close. */
export async function saveSettings(page: Page, timeout = 10_000): Promise<void> {
  await page.locator('[data-testid=settings-save]:enabled').waitFor({ timeout });
  await page.click('[data-testid=settings-save]');
  await page.locator('[data-testid=settings-dialog]').waitFor({ state: 'detached', timeout });
}

export { freeTcpPort, httpSha256, listenTcp, portIsFree, tcpExchange, type HashedDownload } from '../support/net/loopback.js';
