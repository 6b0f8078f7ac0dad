import type { TaskRegistry } from '../storage/task-registry.ts';
import type { PieceFile } from '../storage/piece-file.ts';
import type { Uploader } from '../uploader/uploader.ts';
import type { LogSink } from '../../edge/log/log-sink.ts';
import type { SwarmCounters } from './swarm-counters.ts';

export interface DownloadOptions {
  url: string;
  output: string;
  /** Supernodes (host:port), tried in order; the peer fails over between them. */
  nodes: string[];
  /** "sha256:HEX": the whole file is checked against it (and it is part of the task id). */
  digest?: string;
  /** Headers for the origin: go to the supernode's CDN (never stored) and to the origin on back-to-source. Never logged. */
  headers?: Record<string, string>;
  /** Query parameter names to leave out of the task id. */
  filter?: string[];
  identifier?: string;
  /** With `digest`: the task id comes from the digest alone (the daemon's image layers). */
  contentAddressed?: boolean;
  /** Cluster token (Authorization: Bearer) for the supernode API. */
  token?: string;
  peerId?: string;
  hostId?: string;
  /** Cap, bytes/s, on downloads and on uploads of the uploader this download starts. */
  totalLimit?: number;
  /** Overrides totalLimit for downloads. */
  downloadLimit?: number;
  /** Overrides totalLimit for uploads (ignored with `uploader`). */
  uploadLimit?: number;
  noBackSource?: boolean;
  /** An uploader and its registry to serve from (the daemon's); else one is started for this download. */
  uploader?: { uploader: Uploader; registry: TaskRegistry };
  /** Where the uploader this download starts listens; default 127.0.0.1 on an ephemeral port. */
  listen?: { host?: string; port?: number; advertiseHost?: string };
  /**
   * How the peer takes part: 'rounds' (default: the supernode assigns every piece) or 'sync'
   * (the supernode names parents, the peer chooses pieces and reports them in batches;
   * docs/decisions.md, "Parents, not pieces").
   */
  protocol?: 'rounds' | 'sync';
  /** Pieces in flight at once (default 6). */
  parallelism?: number;
  pieceTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** How long supernodes may stay unreachable mid-download before the download fails (default 60 s). */
  giveUpAfterMs?: number;
  /** How long registration asks again while supernodes answer "retry soon" before going to the origin (default 10 s). */
  registerPatienceMs?: number;
  /** download(): keep serving this long after the file is complete (default 0). */
  lingerMs?: number;
  onProgress?: (c: SwarmCounters) => void;
  /** Called once the file being written exists (its layout known), before any piece lands: the daemon streams from it. */
  onFile?: (file: PieceFile) => void;
  logger?: LogSink;
  signal?: AbortSignal;
}

export interface DownloadResult {
  /** null when the file came from the origin (no supernode answered). */
  taskId: string | null;
  outputPath: string;
  bytes: number;
  seconds: number;
  pieces: number;
  fromPeers: number;
  fromCdn: number;
  peerBytes: number;
  cdnBytes: number;
  /** Bytes the uploader had served when the download finished (host-wide with a shared uploader). */
  uploadedBytes: number;
  /** Piece fetches that failed (and were retried elsewhere). */
  failedPieces: number;
  backSource: boolean;
  /** The supernode the download ended with. */
  supernode: string | null;
}
