import { DamselflyError } from '../../core/errors.ts';

/**
 * The store's named errors: DamselflyErrors (one catalogue, core/errors.ts) that also carry the
 * numbers a caller needs to react, so they can be matched by class or by code.
 */

/** The stream is not at the version the writer decided on. Retryable: reload, re-decide, append. */
export class VersionConflict extends DamselflyError {
  constructor(readonly streamId: string, readonly expected: number, readonly actual: number) {
    super('DF_ERR_VERSION_CONFLICT', `stream ${streamId} is at version ${actual}, expected ${expected}`);
    this.name = 'VersionConflict';
  }
}

/** A writer with a higher epoch has written the stream: this writer lost ownership. Not retryable. */
export class StaleEpoch extends DamselflyError {
  constructor(readonly streamId: string, readonly epoch: number, readonly current: number) {
    super('DF_ERR_STALE_EPOCH', `stream ${streamId} was written with epoch ${current}; epoch ${epoch} is stale`);
    this.name = 'StaleEpoch';
  }
}

/** An event id is already stored (ids are unique across the whole store). */
export class DuplicateEvent extends DamselflyError {
  constructor(readonly eventId: string) {
    super('DF_ERR_DUPLICATE_EVENT', `event ${eventId} is already stored`);
    this.name = 'DuplicateEvent';
  }
}
