// Row types of the broker's tables, as kysely sees them.
import type { ColumnType, Generated } from 'kysely';
import type { ExecutionPhase, LifecyclePhase, MessageItem } from '@eb/schema';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type DefaultedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export interface PlatformsTable {
  name: string;
  cores: number;
  memory_gib: number;
  storage_gib: number;
  /** The engine's own cores and memory (times the overcommit factor), as a worker reported them. */
  engine_cores: ColumnType<number | null, number | null | undefined, number | null>;
  engine_memory_gib: ColumnType<number | null, number | null | undefined, number | null>;
  updated_at: DefaultedTimestamp;
  /** What the platform's workers declared they can run (PlatformAbilities); null until one has. */
  abilities: ColumnType<unknown | null, string | null | undefined, string | null>;
}

export interface OffersetsTable {
  uuid: string;
  owner: string;
  name: string | null;
  created: DefaultedTimestamp;
  expires: Timestamp;
  result: 'YES' | 'NO';
  request: Json<unknown>;
  messages: Json<MessageItem[]>;
  readers: ColumnType<string[], string[] | undefined, string[]>;
}

export interface ExecutionsTable {
  uuid: string;
  offerset_uuid: string;
  owner: string;
  name: string | null;
  phase: ExecutionPhase;
  platform: string;
  created: DefaultedTimestamp;
  modified: DefaultedTimestamp;
  expires: Timestamp;
  prepare_start: Timestamp;
  prepare_ms: number;
  available_start: Timestamp;
  available_ms: number;
  release_start: Timestamp;
  release_ms: number;
  cores: number;
  memory_gib: number;
  storage_gib: number;
  interactive: boolean;
  platform_state: ColumnType<Record<string, unknown>, string | undefined, string>;
  messages: ColumnType<MessageItem[], string | undefined, string>;
  position: number;
  readers: ColumnType<string[], string[] | undefined, string[]>;
  /** The output streams the platform gives back (connectors): 'stdout', 'stderr'. */
  outputs: ColumnType<string[], string[] | undefined, string[]>;
  /** The offer's quoted costs and metrics (SimpleMinMaxFloatCost/Metric items). */
  costs: ColumnType<unknown[], string | undefined, string>;
  metrics: ColumnType<unknown[], string | undefined, string>;
  /** How early it may start if capacity frees up; null keeps the booked start. */
  earliest_start: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export type ComponentRole = 'executable' | 'compute' | 'storage' | 'data' | 'volume';

export interface ComponentsTable {
  uuid: string;
  execution_uuid: string;
  role: ComponentRole;
  position: number;
  name: string | null;
  kind: string;
  phase: LifecyclePhase;
  spec: Json<Record<string, unknown>>;
  messages: ColumnType<MessageItem[], string | undefined, string>;
}

export interface PhaseHistoryTable {
  id: Generated<string>;
  execution_uuid: string;
  component_uuid: string | null;
  phase: string;
  at: DefaultedTimestamp;
  note: string | null;
}

export interface BookingsTable {
  id: Generated<string>;
  execution_uuid: string;
  /** The offer set: bookings of one group are alternatives and count at their largest. */
  grp: string;
  platform: string;
  cores: number;
  memory_gib: number;
  storage_gib: number;
  /** tstzrange of the whole booked interval: preparing start to releasing end. */
  during: string;
  /** Set while the booking is only held by a live offer; null once accepted. */
  hold_until: Timestamp | null;
  released_at: Timestamp | null;
  /** False while its release is still counted in the capacity buckets (countReleases, migration 0013). */
  release_counted: Generated<boolean>;
}

/** Use of a platform per one-minute bucket, kept by triggers on `bookings` (migration 0003). */
export interface CapacityBucketsTable {
  platform: string;
  bucket: Timestamp;
  cores_cap: number;
  memory_cap: number;
  storage_cap: number;
  cores_used: number;
  memory_used: number;
  storage_used: number;
}

export interface CredentialsTable {
  execution_uuid: string;
  subject: string;
  access_token: Buffer;
  refresh_token: Buffer | null;
  expires_at: Timestamp | null;
  refreshed_at: Timestamp | null;
  refresh_failures: ColumnType<number, number | undefined, number>;
}

export interface ExecutionOutputsTable {
  execution_uuid: string;
  stream: 'stdout' | 'stderr' | 'notebook';
  /** The last part of the stream, as printed. */
  content: Buffer;
  /** Everything the stream printed so far, of which `content` is the end. */
  total_bytes: number;
  /** Captured after the executable ended: nothing more will come. */
  final: ColumnType<boolean, boolean | undefined, boolean>;
  captured_at: DefaultedTimestamp;
}

export interface TransferHistoryTable {
  id: Generated<string>;
  source: string;
  bytes: number;
  ms: number;
  at: DefaultedTimestamp;
}

export interface Database {
  transfer_history: TransferHistoryTable;
  execution_outputs: ExecutionOutputsTable;
  credentials: CredentialsTable;
  platforms: PlatformsTable;
  offersets: OffersetsTable;
  executions: ExecutionsTable;
  components: ComponentsTable;
  phase_history: PhaseHistoryTable;
  bookings: BookingsTable;
  capacity_buckets: CapacityBucketsTable;
}
