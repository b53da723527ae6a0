/**
 * Splits Docker's multiplexed log stream (8-byte frame headers: stream, 0, 0, 0, size) into lines.
 * Containers without a TTY answer in this format.
 */
export function demuxLogLines(buf: Buffer): string[] {
  const chunks: string[] = [];
  let i = 0;
  while (i + 8 <= buf.length && (buf[i] === 1 || buf[i] === 2) && buf[i + 1] === 0) {
    const size = buf.readUInt32BE(i + 4);
    chunks.push(buf.subarray(i + 8, i + 8 + size).toString('utf8'));
    i += 8 + size;
  }
  const text = i === 0 ? buf.toString('utf8') : chunks.join('');
  return text.split('\n').filter((l) => l.length > 0);
}
