import type { Readable } from 'node:stream';
import type { LogSink } from '../../edge/log/log-sink.ts';

/**
 * The daemon's one way to get bytes through the swarm, shared by the registry mirror (blob GETs)
 * and the HTTP proxy (URLs a rule sends P2P). Implemented by `peer/daemon/tasks/` over dfget's
 * engine (`startDownload`) with the daemon's shared uploader, its blob cache and its rate caps.
 */
export interface P2PRequest {
  /** The origin URL: for a blob, `<upstream>/v2/<repo>/blobs/<digest>`. */
  url: string;
  /**
   * Headers for the origin (the client's Authorization): they go to the supernode's CDN for its
   * fetch and to the origin on back-to-source, never to disk, logs or events.
   */
  headers: Record<string, string>;
  /**
   * "sha256:HEX". With a digest the task is content-addressed: its id comes from the digest
   * alone, so one layer through any tag, repository or registry is one task; the bytes are
   * checked against it before the response completes.
   */
  digest?: string;
  /** Query parameter names left out of the task id (X-Dragonfly-Filtered-Query-Params). */
  filter?: string[];
  /** X-Dragonfly-Tag: part of the task id when there is no digest. */
  tag?: string;
  signal?: AbortSignal;
}

/** An inclusive byte range, already checked against the content length. */
export interface ByteSpan {
  start: number;
  end: number;
}

export interface P2PBody {
  taskId: string;
  contentLength: number;
  /** Whether the bytes were already here (cache hit) when the request came. */
  cached: boolean;
  /**
   * The content (or `span` of it) in order, as pieces land: the first bytes leave before the
   * last piece arrives. For the whole content with a digest, the stream errors instead of
   * ending if the bytes do not hash to it (the last bytes are held back until they do), so a
   * client never sees a complete-looking wrong blob. Destroying the stream stops reading; the
   * download goes on for the cache and the swarm.
   */
  stream(span?: ByteSpan): Readable;
}

export interface P2PFetcher {
  /**
   * Starts (or joins the one in flight, or finds in the cache) the download of `req` and
   * resolves once its length is known. Rejects with a DamselflyError when it cannot start
   * (supernodes unreachable and back-to-source failed, the origin refused, ...).
   */
  open(req: P2PRequest): Promise<P2PBody>;
}

export type { LogSink };
