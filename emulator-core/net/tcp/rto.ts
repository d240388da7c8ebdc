/** The retransmission timeout from round-trip samples, as RFC 6298 computes it. */

export const INITIAL_RTO_MS = 1000;
export const MIN_RTO_MS = 200;
export const MAX_RTO_MS = 30_000;

export class RtoEstimator {
  private srtt = 0;
  private rttvar = 0;
  private sampled = false;
  /** The current timeout, backoff included. */
  rto = INITIAL_RTO_MS;

  sample(rttMs: number): void {
    const r = Math.max(0, rttMs);
    if (!this.sampled) {
      this.srtt = r;
      this.rttvar = r / 2;
      this.sampled = true;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.rto = Math.min(MAX_RTO_MS, Math.max(MIN_RTO_MS, this.srtt + Math.max(1, 4 * this.rttvar)));
  }

  backoff(): void {
    this.rto = Math.min(MAX_RTO_MS, this.rto * 2);
  }
}
