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

/**
 * The same bound for an image pulled by N nodes through a registry and a CDN in series: every
 * byte that does not come from a peer leaves the registry (capped at `registryUpload`) and is
 * then sent to peers by the CDN (capped at `cdnUpload`; Infinity when uncapped). The registry
 * must send the image once, the CDN must send every byte at least once, and the N copies are
 * uploaded by the CDN and the nodes together — the swarm's bound with the CDN as the server,
 * plus the registry's own term. The image's blobs are pulled concurrently, so the bound is on
 * their total (config + layers).
 */
export function imageLowerBoundSeconds(o: { imageBytes: number; nodes: number; registryUpload: number; cdnUpload: number; nodeUpload: number; minDownload: number }): number {
  const fromCdn = p2pLowerBoundSeconds({ fileBytes: o.imageBytes, peers: o.nodes, serverUpload: o.cdnUpload, peerUpload: o.nodeUpload, minDownload: o.minDownload });
  return Math.max(o.imageBytes / o.registryUpload, fromCdn);
}
