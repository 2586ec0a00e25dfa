/**
 * etcd's `simple` token provider: opaque tokens `<16 random letters>.<raft index>` mapped to a
 * user name, held in memory by each member (never persisted: a restarted member knows none).
 * Every member assigns the token when it applies the Authenticate entry, so a token works on any
 * member. A token lives 5 minutes from its last use.
 *
 * Deterministic: the caller passes the time (ms) and draws the random prefix.
 */

/** etcd's simpleTokenTTL: a token unused this long is forgotten. */
export const SIMPLE_TOKEN_TTL_MS = 5 * 60 * 1000;

/** Length of the random part of a token (etcd's defaultSimpleTokenLength). */
export const SIMPLE_TOKEN_PREFIX_LENGTH = 16;

/** The tokens of one member. */
export class SimpleTokens {
  /** token -> user name and expiry (ms). */
  private readonly tokens = new Map<string, { readonly username: string; expiresAt: number }>();

  constructor(private readonly ttlMs: number = SIMPLE_TOKEN_TTL_MS) {}

  /** Number of live tokens. */
  get size(): number {
    return this.tokens.size;
  }

  /** Whether `token` is known (without extending its life). */
  has(token: string): boolean {
    return this.tokens.has(token);
  }

  /** Whether a token starting with `prefix.` exists (a new prefix must not reuse one). */
  hasPrefix(prefix: string): boolean {
    const p = `${prefix}.`;
    for (const t of this.tokens.keys()) if (t.startsWith(p)) return true;
    return false;
  }

  /** Assigns token `<prefix>.<index>` to `username` at time `now`; returns the token. */
  assign(prefix: string, index: number, username: string, now: number): string {
    const token = `${prefix}.${index}`;
    this.tokens.set(token, { username, expiresAt: now + this.ttlMs });
    return token;
  }

  /** The user of `token` at time `now`, extending its life; undefined when unknown or expired. */
  info(token: string, now: number): string | undefined {
    const t = this.tokens.get(token);
    if (t === undefined) return undefined;
    if (t.expiresAt <= now) {
      this.tokens.delete(token);
      return undefined;
    }
    t.expiresAt = now + this.ttlMs;
    return t.username;
  }

  /** Forgets every token of `username` (deleted, or its password changed). */
  invalidateUser(username: string): void {
    for (const [token, t] of this.tokens) if (t.username === username) this.tokens.delete(token);
  }

  /** Forgets tokens unused for the TTL at time `now`. */
  expire(now: number): void {
    for (const [token, t] of this.tokens) if (t.expiresAt <= now) this.tokens.delete(token);
  }

  /** Forgets every token (authentication disabled). */
  clear(): void {
    this.tokens.clear();
  }
}

/** The raft index a well-formed simple token names, or undefined when it is malformed. */
export function simpleTokenIndex(token: string): number | undefined {
  const dot = token.indexOf('.');
  if (dot < 0 || token.indexOf('.', dot + 1) >= 0) return undefined;
  const index = token.slice(dot + 1);
  if (!/^[0-9]+$/.test(index)) return undefined;
  return Number(index);
}
