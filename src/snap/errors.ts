import { EtcdError } from '../pkg/errors.js';

/**
 * A snapshot file that cannot be used. Codes, with etcd's texts: 'snap-empty' ("snap: empty
 * snapshot"), 'snap-crc-mismatch' ("snap: crc mismatch"), and 'snap-corrupt' for bytes that do not
 * decode.
 */
export class SnapError extends EtcdError {
  constructor(
    code: string,
    message: string,
    /** The file concerned. */
    readonly file: string,
  ) {
    super(code, message);
    this.name = 'SnapError';
  }
}
