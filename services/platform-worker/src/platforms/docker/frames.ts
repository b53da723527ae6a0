/**
 * Reads Docker's multiplexed log stream (frames of an 8-byte header, whose last four bytes are the
 * payload's size, then the payload) chunk by chunk, handing on each payload's bytes as they come.
 * Frames may be split anywhere across chunks. (docker-modem's demuxStream copies the rest of the
 * chunk for every frame, which is quadratic for logs of many short lines.)
 */
export class FrameReader {
  private header = Buffer.alloc(0);
  private left = 0;

  constructor(private readonly payload: (bytes: Buffer) => void) {}

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.left > 0) {
        const n = Math.min(this.left, chunk.length - i);
        this.payload(chunk.subarray(i, i + n));
        this.left -= n;
        i += n;
        continue;
      }
      if (this.header.length === 0 && chunk.length - i >= 8) {
        // The usual case: a whole header in this chunk, read in place.
        this.left = chunk.readUInt32BE(i + 4);
        i += 8;
        continue;
      }
      const part = chunk.subarray(i, i + 8 - this.header.length);
      this.header = Buffer.concat([this.header, part]);
      i += part.length;
      if (this.header.length === 8) {
        this.left = this.header.readUInt32BE(4);
        this.header = Buffer.alloc(0);
      }
    }
  }
}
