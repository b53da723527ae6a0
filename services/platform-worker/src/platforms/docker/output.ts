import type Docker from 'dockerode';
import type { CapturedOutput, OutputStream } from '../adapter.js';
import { OutputTail } from '../output-tail.js';
import { FrameReader } from './frames.js';

// A log read that has not ended by then is cut short: what was read so far is kept.
const READ_LIMIT_MS = 30_000;

/** The container's log up to now, as a stream (dockerode buffers it whole unless it follows). */
function openLog(docker: Docker, containerId: string, stream: OutputStream): Promise<NodeJS.ReadableStream> {
  return new Promise((resolve, reject) => docker.modem.dial({
    path: `/containers/${containerId}/logs?`,
    method: 'GET',
    options: { stdout: stream === 'stdout', stderr: stream === 'stderr', follow: false },
    isStream: true,
    statusCodes: { 200: true, 404: 'no such container', 500: 'server error' },
  }, (err, source) => (err ? reject(err) : resolve(source as NodeJS.ReadableStream))));
}

/**
 * Streams one of a container's output streams, as it is now, through a bounded tail: memory stays at
 * `maxBytes` however much the program printed.
 */
export async function containerOutput(docker: Docker, containerId: string, stream: OutputStream, maxBytes: number): Promise<CapturedOutput> {
  const source = await openLog(docker, containerId, stream);
  const tail = new OutputTail(maxBytes);
  // Without a TTY the engine multiplexes frames (stream id, size, bytes); only the bytes are output.
  const frames = new FrameReader((bytes) => tail.push(bytes));
  source.on('data', (chunk: Buffer) => frames.push(chunk));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { (source as unknown as { destroy(): void }).destroy(); resolve(); }, READ_LIMIT_MS);
    source.on('end', () => { clearTimeout(timer); resolve(); });
    source.on('error', (err: Error) => { clearTimeout(timer); reject(err); });
  });
  return tail.result();
}
