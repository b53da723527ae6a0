import { Kinds, type ExecutionPhase } from '@eb/schema';
import type { ExecutionRow } from '@eb/db';

export type ConnectorStatus = 'PREPARING' | 'AVAILABLE' | 'FINISHED';

export interface SessionConnector {
  kind: string;
  status: ConnectorStatus;
  protocol: string;
  location?: string;
}

export const OUTPUT_STREAMS = ['stdout', 'stderr', 'notebook'] as const;
export type OutputStreamName = (typeof OUTPUT_STREAMS)[number];

const KIND: Record<OutputStreamName, string> = { stdout: Kinds.stdoutConnector, stderr: Kinds.stderrConnector, notebook: Kinds.notebookConnector };

/** The path of an output under a session: upstream's for stdout and stderr, the same pattern for the executed notebook. */
export function outputPath(stream: OutputStreamName): string {
  return stream === 'notebook' ? 'jupyter/notebook-get' : `docker/${stream}-get`;
}

/** Where an execution's output stream is read (upstream's path, served on /executions too). */
export function outputLocation(baseUrl: string, uuid: string, stream: OutputStreamName): string {
  return `${baseUrl}/sessions/${uuid}/${outputPath(stream)}`;
}

/** PREPARING until the executable runs (no location yet), AVAILABLE while it does, FINISHED after. */
function statusIn(phase: ExecutionPhase): ConnectorStatus {
  if (phase === 'AVAILABLE' || phase === 'RUNNING') return 'AVAILABLE';
  if (['INITIAL', 'OFFERED', 'ACCEPTED', 'WAITING', 'PREPARING'].includes(phase)) return 'PREPARING';
  return 'FINISHED';
}

/** One connector per output stream the platform gives back for this execution. */
export function outputConnectors(e: ExecutionRow, baseUrl: string): SessionConnector[] {
  const status = statusIn(e.phase);
  return e.outputs
    .filter((s): s is OutputStreamName => (OUTPUT_STREAMS as readonly string[]).includes(s))
    .map((stream) => ({
      kind: KIND[stream], status, protocol: 'HTTP',
      ...(status === 'PREPARING' ? {} : { location: outputLocation(baseUrl, e.uuid, stream) }),
    }));
}
