/**
 * The minimum time to distribute a file of F bytes from one server to N peers (Kurose & Ross;
 * Kumar & Ross 2006): the server must send every byte at least once, the slowest peer must
 * receive every byte, and all N copies must be uploaded by the server and the peers together.
 * Rates are bytes/s; an uncapped download rate is Infinity.
 */
export function p2pLowerBoundSeconds(o: { fileBytes: number; peers: number; serverUpload: number; peerUpload: number; minDownload: number }): number {
  const { fileBytes: F, peers: N, serverUpload: us, peerUpload: up, minDownload: d } = o;
  return Math.max(F / us, F / d, (N * F) / (us + N * up));
}

/** Every peer fetches from the server: N copies through the server's uplink. */
export function originOnlyLowerBoundSeconds(o: { fileBytes: number; peers: number; serverUpload: number; minDownload: number }): number {
  return Math.max((o.peers * o.fileBytes) / o.serverUpload, o.fileBytes / o.minDownload);
}
