import { CDN_SOURCE } from '../../core/events/task-events.ts';

/** What a simulated peer holds and how many uploads it serves now: the data plane of `bench control-plane --protocol sync`, in memory. */
export class SimulatedHolder {
  readonly have: Uint8Array;
  haveCount = 0;
  uploading = 0;
  constructor(
    readonly id: string,
    pieceCount: number,
    readonly uploadSlots: number,
  ) {
    this.have = new Uint8Array(pieceCount);
  }
}

/**
 * The peers of one task as their uploaders would see each other: who holds which piece, and
 * who has an upload slot free. A peer on the sync protocol learns its parents' pieces from the
 * parents themselves (their bitmaps), not from the supernode; in the bench every peer is in
 * this process, so it reads them here, at once. The CDN holds every piece whose digest the
 * asking peer knows (the supernode hands out digests of seeded pieces only).
 */
export class SimulatedSwarm {
  private readonly holders = new Map<string, SimulatedHolder>();
  readonly cdn: SimulatedHolder;

  constructor(
    readonly pieceCount: number,
    private readonly peerUploadSlots: number,
    cdnUploadSlots: number,
  ) {
    this.cdn = new SimulatedHolder(CDN_SOURCE, pieceCount, cdnUploadSlots);
  }

  add(id: string): SimulatedHolder {
    const holder = new SimulatedHolder(id, this.pieceCount, this.peerUploadSlots);
    this.holders.set(id, holder);
    return holder;
  }

  get(id: string): SimulatedHolder | undefined {
    return id === CDN_SOURCE ? this.cdn : this.holders.get(id);
  }
}
