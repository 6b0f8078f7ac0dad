import { z } from 'zod';
import { HostPort, text } from './fields.ts';
import { JoinRequest } from './peer-api.ts';

/**
 * The host registry's wire contract (issue 11): each daemon announces its host to the
 * supernode and keeps announcing as a heartbeat; preheat and the console list the live hosts.
 * Both sides import these schemas and timings, the supernode validates with them and its
 * OpenAPI document is generated from them.
 */

/**
 * How often a daemon announces its host. Five seconds: a heartbeat is one single-row UPDATE by
 * primary key, so even a thousand daemons are ~200 small statements a second on the shared
 * database, and a daemon killed without leaving drops out of the list within HOST_TTL_MS.
 */
export const HOST_HEARTBEAT_MS = 5000;
/** A host is live while its last announcement is younger than this: three missed heartbeats, so one slow or lost request does not drop it. */
export const HOST_TTL_MS = 3 * HOST_HEARTBEAT_MS;
/** The most hosts one page of GET /api/v1/hosts returns. */
export const MAX_HOSTS_PER_PAGE = 1000;

/** The host id a daemon announces under; the same rule as the `hostId` of a join. */
export const HostId = JoinRequest.shape.hostId;
export const HostParams = z.object({ hostId: HostId });

const Port = z.number().int().min(1).max(65535);
const Bytes = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** PUT /api/v1/hosts/:hostId — register the host, or refresh it (the heartbeat). Idempotent. */
export const HostAnnouncement = z.object({
  /** The machine's name, for people (the console); never dialled. */
  hostname: text(253).min(1),
  /**
   * host:port of the daemon's piece uploader. As with a join, the supernode keeps only the port
   * and puts the address the request came from in front of it unless it runs with
   * `--peer-address declared` (docs/security.md).
   */
  uploadAddress: HostPort.max(300),
  /** The daemon's registry mirror / HTTP proxy port on the same host. */
  proxyPort: Port.optional(),
  /** Free and total bytes of the file system holding the daemon's cache. */
  freeDiskBytes: Bytes,
  totalDiskBytes: Bytes,
  /** The daemon's version, for display. */
  version: text(64).optional(),
});
export type HostAnnouncement = z.infer<typeof HostAnnouncement>;

/** A host as the supernode stores it. Times are the store's clock. */
export const HostView = z.object({
  hostId: z.string(),
  hostname: z.string(),
  /** The host part of uploadAddress (an IPv6 address without its brackets). */
  ip: z.string(),
  uploadPort: z.number().int(),
  /** Where peers reach the host's uploader, after the supernode's peer-address rule. */
  uploadAddress: z.string(),
  proxyPort: z.number().int().nullable(),
  freeDiskBytes: z.number().int(),
  totalDiskBytes: z.number().int(),
  version: z.string().nullable(),
  registeredAt: z.iso.datetime().describe('First announcement since the host was last removed or forgotten.'),
  lastSeen: z.iso.datetime().describe('Last announcement (heartbeat).'),
  alive: z.boolean().describe('Whether the last announcement is younger than the TTL.'),
});
export type HostView = z.infer<typeof HostView>;

/** GET /api/v1/hosts */
export const HostList = z.object({
  hosts: z.array(HostView),
  /** How recent an announcement must be for the host to be live, ms. */
  ttlMs: z.number().int(),
  /** `after` for the next page; absent on the last page. */
  next: z.string().optional(),
});
export type HostList = z.infer<typeof HostList>;
