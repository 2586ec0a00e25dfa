/**
 * The one base class of errors etcd-ts raises on purpose. `code` is a stable kebab-case name
 * ('compacted', 'no-leader') that callers branch on; the message is for people (and, for errors
 * that reach clients, etcd's exact text, see api/rpctypes).
 */
export class EtcdError extends Error {
  /** Stable identifier of the error kind; never localised or reworded. */
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EtcdError';
    this.code = code;
  }
}

/** Whether `err` is an EtcdError, optionally of the given code. */
export function isEtcdError(err: unknown, code?: string): err is EtcdError {
  return err instanceof EtcdError && (code === undefined || err.code === code);
}
