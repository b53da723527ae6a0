// TypeScript shapes of the spec's schemas that the broker reads and writes.
import type { ExecutionPhase, LifecyclePhase } from './phases.js';
import type { MessageItem } from './messages.js';

export type NameValueMap = Record<string, string>;

export interface ComponentMetadata {
  uuid?: string;
  name?: string;
  url?: string;
  description?: string;
  created?: string;
  modified?: string;
  messages?: MessageItem[];
}

export interface AbstractComponent {
  kind: string;
  meta?: ComponentMetadata;
  [extra: string]: unknown;
}

export interface MinMax {
  min?: number;
  max?: number;
}

export interface LifecycleSchedule {
  preparing?: { start?: string; duration?: string };
  available?: { start?: string; duration?: string };
  releasing?: { start?: string; duration?: string };
}

export interface LifecycleComponent extends AbstractComponent {
  phase?: LifecyclePhase;
  schedule?: LifecycleSchedule;
}

export interface DockerNetworkPort {
  access?: boolean;
  internal?: { port?: number };
  external?: { port?: number; addresses?: string[] };
  protocol?: string;
  path?: string;
}

export interface DockerContainer extends LifecycleComponent {
  image?: { locations?: string[]; digest?: string; platform?: { architecture?: string; os?: string } };
  privileged?: boolean;
  command?: string[];
  entrypoint?: string;
  environment?: NameValueMap;
  network?: { ports?: DockerNetworkPort[] };
  /** Schema 1.0.8: labels for the container; names beginning `calycopis-broker-` are the service's. */
  labels?: NameValueMap;
}

export interface SimpleVolumeMount extends AbstractComponent {
  path?: string;
  mode?: 'READONLY' | 'READWRITE';
  resource?: string;
}

export interface SimpleComputeResource extends LifecycleComponent {
  cores?: MinMax;
  memory?: MinMax;
  volumes?: SimpleVolumeMount[];
}

export interface SimpleStorageResource extends LifecycleComponent {
  size?: MinMax;
  data?: string[];
}

export interface DataResource extends LifecycleComponent {
  storage?: string;
  location?: string;
}

export interface ExecutionRequest {
  executable?: LifecycleComponent;
  compute?: SimpleComputeResource;
  storage?: SimpleStorageResource[];
  data?: DataResource[];
  schedule?: { requested?: { duration?: string; start?: string } };
  costs?: AbstractComponent[];
  metrics?: AbstractComponent[];
}

export interface ScheduledExecutionSession extends AbstractComponent {
  phase: ExecutionPhase;
  expires?: string;
  executable?: LifecycleComponent;
  compute?: SimpleComputeResource;
  storage?: SimpleStorageResource[];
  data?: DataResource[];
  schedule?: LifecycleSchedule;
  connectors?: { kind?: string; status?: string; protocol?: string; location?: string }[];
}

export interface OfferSetResponse extends AbstractComponent {
  result: 'YES' | 'NO';
  description?: string;
  offers: ScheduledExecutionSession[];
}

export interface EnumValueUpdate {
  kind: 'uri:enum-value-update';
  path: string;
  value: string;
}

export type AbstractUpdate =
  | EnumValueUpdate
  | { kind: 'uri:string-value-update'; path: string; value: string }
  | { kind: 'uri:integer-value-update'; path: string; value: number; units?: string }
  | { kind: 'uri:integer-delta-update'; path: string; delta: number; units?: string };
