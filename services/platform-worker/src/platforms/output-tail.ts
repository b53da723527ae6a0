import type { CapturedOutput } from './adapter.js';

/**
 * Keeps the last `maxBytes` of a stream read in chunks, and counts all of it, so a program that prints
 * gigabytes costs no more memory than twice the part that is kept. Bytes are copied into one buffer
 * that is compacted when full, so the work per byte stays constant however small the chunks are.
 */
export class OutputTail {
  private buf = Buffer.alloc(0);
  private len = 0;
  private total = 0;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (chunk.length >= this.maxBytes) {
      this.reserve(this.maxBytes);
      chunk.copy(this.buf, 0, chunk.length - this.maxBytes);
      this.len = this.maxBytes;
      return;
    }
    if (this.len + chunk.length > this.buf.length) {
      if (this.buf.length < 2 * this.maxBytes) this.reserve(Math.min(2 * this.maxBytes, Math.max(4096, 2 * (this.len + chunk.length))));
      if (this.len + chunk.length > this.buf.length) {
        // Only the old bytes that can still be among the last maxBytes are kept.
        const keep = Math.min(this.len, this.maxBytes - chunk.length);
        this.buf.copy(this.buf, 0, this.len - keep, this.len);
        this.len = keep;
      }
    }
    chunk.copy(this.buf, this.len);
    this.len += chunk.length;
  }

  private reserve(size: number): void {
    if (this.buf.length >= size) return;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  result(): CapturedOutput {
    const start = Math.max(0, this.len - this.maxBytes);
    return { content: Buffer.from(this.buf.subarray(start, this.len)), totalBytes: this.total };
  }
}

/** The last `maxBytes` of a whole text or buffer. */
export function tailOf(whole: Buffer | string, maxBytes: number): CapturedOutput {
  const tail = new OutputTail(maxBytes);
  tail.push(Buffer.isBuffer(whole) ? whole : Buffer.from(whole, 'utf8'));
  return tail.result();
}
