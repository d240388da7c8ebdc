/**
 * The wire between a NIC model and a network backend (NAT today; tap or bridge later).
 * Frames are whole Ethernet frames without the FCS. Both sides run on the VM's thread.
 */

/** The NIC side: what a backend hands frames to. */
export interface NetPort {
  /**
   * Deliver one frame to the guest. Returns false when the guest has no receive buffer free
   * right now: the backend keeps the frame (and stops producing more) until `rxSpace()`.
   * The NIC copies what it keeps; the caller may reuse `frame` after the call.
   */
  deliver(frame: Uint8Array): boolean;
}

/** The backend side: what a NIC sends frames to. */
export interface NetBackend {
  /** The guest sent a frame. The backend copies what it keeps. */
  transmit(frame: Uint8Array): void;
  /** The guest made receive buffers available again: retry queued frames. */
  rxSpace(): void;
  /** Connect the NIC that receives this backend's frames. */
  attach(port: NetPort): void;
  /** Release host sockets and timers. */
  close(): void;
}
