/**
 * The request side of a grpc-gateway stream (Watch, LeaseKeepAlive): a body that carries JSON
 * values one after another (`{...}{...}` or separated by whitespace), decoded as they arrive the
 * way Go's json.Decoder reads them, so a long-lived body is served request by request.
 */
import { parseJsonExact } from './exact-json.js';
import { scanGoJsonValue } from './go-json-scan.js';

/** The next item of the stream. */
export type GoJsonStreamItem =
  | { readonly kind: 'value'; readonly value: unknown }
  /** A syntax error (Go's text); the stream is done. */
  | { readonly kind: 'error'; readonly message: string }
  /** The body ended (Go's io.EOF). */
  | { readonly kind: 'eof' }
  /** Nothing complete yet: push more. */
  | { readonly kind: 'wait' };

/** Decodes a stream of JSON values pushed as text chunks; single consumer. */
export class GoJsonStream {
  private buf = '';
  private ended = false;
  private failed: string | undefined;

  /** Appends a chunk of the body (already decoded from UTF-8 with chunk borders respected). */
  push(chunk: string): void {
    this.buf += chunk;
  }

  /** Marks the end of the body. */
  end(): void {
    this.ended = true;
  }

  /** Bytes waiting in the buffer (to bound a value that never completes). */
  get buffered(): number {
    return this.buf.length;
  }

  /** Takes the next complete value, if any. */
  next(): GoJsonStreamItem {
    if (this.failed !== undefined) return { kind: 'error', message: this.failed };
    const scan = scanGoJsonValue(this.buf, 0, this.ended);
    switch (scan.kind) {
      case 'incomplete':
        return { kind: 'wait' };
      case 'eof':
        this.buf = '';
        return { kind: 'eof' };
      case 'error':
        this.failed = scan.message;
        this.buf = '';
        return { kind: 'error', message: scan.message };
      default: {
        const text = this.buf.slice(scan.start, scan.end);
        this.buf = this.buf.slice(scan.end);
        return { kind: 'value', value: parseJsonExact(text) };
      }
    }
  }
}
