/**
 * The text an interaction command produces: lines written by the harness and by the raft
 * logger, indented while a node's Ready or inbox is being handled so nested output reads as a tree.
 */
export class EnvOutput {
  private readonly buf: string[] = [];
  private indent = '';

  /** Appends one line (a trailing newline is added) at the current indentation. */
  line(s: string): void {
    for (const l of s.split('\n')) this.buf.push(this.indent + l + '\n');
  }

  /** Appends every line of a multi-line block, skipping a trailing empty line. */
  block(s: string): void {
    const body = s.endsWith('\n') ? s.slice(0, -1) : s;
    if (body !== '') this.line(body);
  }

  /** Runs `f` with output indented by two more spaces. */
  indented<T>(f: () => T): T {
    const prev = this.indent;
    this.indent += '  ';
    try {
      return f();
    } finally {
      this.indent = prev;
    }
  }

  /** Returns everything written since the last call and clears the buffer. */
  take(): string {
    const s = this.buf.join('');
    this.buf.length = 0;
    this.indent = '';
    return s;
  }
}
