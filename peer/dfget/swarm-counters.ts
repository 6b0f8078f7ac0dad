import type { FailureReason } from '../../core/events/index.ts';

/**
 * What one download has done so far, for the progress bar, the --json result and the swarm
 * benchmark (pieces and bytes from peers versus from the CDN: the CDN's share is what P2P saves).
 */
export class SwarmCounters {
  contentLength = 0;
  pieceCount = 0;
  storedPieces = 0;
  storedBytes = 0;
  fromPeers = 0;
  fromCdn = 0;
  peerBytes = 0;
  cdnBytes = 0;
  failedPieces = 0;
  digestFailures = 0;
  rounds = 0;

  stored(fromCdn: boolean, bytes: number): void {
    this.storedPieces++;
    this.storedBytes += bytes;
    if (fromCdn) {
      this.fromCdn++;
      this.cdnBytes += bytes;
    } else {
      this.fromPeers++;
      this.peerBytes += bytes;
    }
  }

  failed(reason: FailureReason): void {
    this.failedPieces++;
    if (reason === 'digest') this.digestFailures++;
  }
}
