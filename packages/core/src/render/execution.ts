import {
  Kinds, formatDuration, formatInstant, type ExecutionPhase, type MessageItem, type ScheduledExecutionSession,
  type LifecycleSchedule, type AbstractComponent,
} from '@eb/schema';
import type { ComponentRow, ExecutionRecord } from '@eb/db';
import { outputConnectors } from './connectors.js';
import { optionsFor } from './options.js';

function schedule(e: ExecutionRecord['execution']): LifecycleSchedule {
  return {
    preparing: { start: formatInstant(e.prepare_start.getTime()), duration: formatDuration(e.prepare_ms) },
    available: { start: `${formatInstant(e.available_start.getTime())}/PT0S`, duration: formatDuration(e.available_ms) },
    releasing: { start: formatInstant(e.release_start.getTime()), duration: formatDuration(e.release_ms) },
  };
}

function renderComponent(c: ComponentRow, sched: LifecycleSchedule, created: Date): AbstractComponent {
  const spec = c.spec as Record<string, unknown>;
  const meta = (spec.meta ?? {}) as Record<string, unknown>;
  const out: AbstractComponent = {
    ...spec,
    kind: c.kind,
    meta: {
      ...meta,
      uuid: c.uuid,
      ...(c.name ? { name: c.name } : {}),
      created: created.toISOString(),
      ...(c.messages.length ? { messages: c.messages } : {}),
    },
  };
  if (c.role !== 'volume') {
    out.phase = c.phase;
    out.schedule = sched;
  }
  return out;
}

function historyMessages(record: ExecutionRecord): MessageItem[] {
  return record.history
    .filter((h) => h.component_uuid === null)
    .map((h) => ({
      kind: 'urn:phase-change',
      time: h.at.toISOString(),
      level: 'INFO' as const,
      template: 'Phase changed to {phase}',
      values: { phase: h.phase, ...(h.note ? { note: h.note } : {}) },
      message: `Phase changed to ${h.phase}${h.note ? ` (${h.note})` : ''}`,
    }));
}

export interface AccessPoint {
  protocol: string;
  location: string;
  status?: 'PREPARING' | 'AVAILABLE' | 'FINISHED';
}

/** An execution as the spec's ScheduledExecutionSession. Phase history is given as `urn:phase-change` messages. */
export function renderExecution(record: ExecutionRecord, baseUrl: string): ScheduledExecutionSession {
  const e = record.execution;
  const sched = schedule(e);
  const byRole = (role: string) => record.components.filter((c) => c.role === role);
  const [executable] = byRole('executable');
  const [compute] = byRole('compute');
  const volumes = byRole('volume').map((v) => renderComponent(v, sched, e.created));
  const messages = [...historyMessages(record), ...e.messages];
  const access = ((e.platform_state as { access?: AccessPoint[] }).access ?? []);
  const options = optionsFor(e);
  const session: ScheduledExecutionSession = {
    kind: Kinds.scheduledSession,
    meta: {
      uuid: e.uuid,
      ...(e.name ? { name: e.name } : {}),
      url: `${baseUrl}/executions/${e.uuid}`,
      created: e.created.toISOString(),
      modified: e.modified.toISOString(),
      messages,
      ...(options.length ? { options } : {}),
    },
    phase: e.phase as ExecutionPhase,
    ...(e.phase === 'OFFERED' ? { expires: e.expires.toISOString() } : {}),
    ...(e.costs.length ? { costs: e.costs as AbstractComponent[] } : {}),
    ...(e.metrics.length ? { metrics: e.metrics as AbstractComponent[] } : {}),
    schedule: sched,
  };
  if (executable) session.executable = renderComponent(executable, sched, e.created) as ScheduledExecutionSession['executable'];
  if (compute) {
    session.compute = {
      ...renderComponent(compute, sched, e.created),
      cores: { min: e.cores, max: e.cores },
      memory: { min: e.memory_gib, max: e.memory_gib },
      ...(volumes.length ? { volumes } : {}),
    } as ScheduledExecutionSession['compute'];
  }
  const storage = byRole('storage');
  if (storage.length) session.storage = storage.map((s) => renderComponent(s, sched, e.created)) as ScheduledExecutionSession['storage'];
  const data = byRole('data');
  if (data.length) session.data = data.map((d) => renderComponent(d, sched, e.created)) as ScheduledExecutionSession['data'];
  const connectors = [
    ...access.map((a) => ({ kind: 'urn:access-url', protocol: a.protocol, location: a.location, status: a.status ?? 'AVAILABLE' })),
    ...outputConnectors(e, baseUrl),
  ];
  if (connectors.length) session.connectors = connectors;
  return session;
}
