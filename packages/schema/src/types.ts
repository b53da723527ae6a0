// The API's types, as generated from the OpenAPI document (src/generated/openapi.ts, by
// openapi-typescript: `pnpm --filter @eb/schema generate`; a test fails when it is stale). The names
// the broker uses are aliases of the generated schemas, so a new kind or field is typed everywhere at
// once. Two adaptations only:
//  - A component's `kind` is a string, not the literal of one subclass: the broker reads components of
//    any kind (alias kinds are mapped, unknown ones refused) and narrows by comparing `kind` itself.
//  - The request's components are typed by the one concrete schema each place has in 1.0.7 (the simple
//    compute, storage and data resources), whose fields the broker reads.
import type { components } from './generated/openapi.js';

type Schemas = components['schemas'];

/** A generated component schema whose `kind` is any string, with room for fields of other kinds. */
type Component<T> = Omit<T, 'kind'> & { kind: string; [extra: string]: unknown };

export type { components, paths, operations } from './generated/openapi.js';

export type NameValueMap = Schemas['NameValueMap'];
export type ComponentMetadata = Schemas['ComponentMetadata'];
export type MinMax = Schemas['SimpleComputeCores'];
export type LifecycleSchedule = Schemas['LifecycleSchedule'];
export type DockerNetworkPort = Schemas['DockerNetworkPort'];

export type AbstractComponent = Component<Schemas['AbstractComponent']>;
export type LifecycleComponent = AbstractComponent & Schemas['LifecycleComponent'];
export type DockerContainer = Component<Schemas['DockerContainer']>;
export type SimpleVolumeMount = Component<Schemas['SimpleVolumeMount']>;
export type SimpleComputeResource = Component<Omit<Schemas['SimpleComputeResource'], 'volumes'>> & { volumes?: SimpleVolumeMount[] };
export type SimpleStorageResource = Component<Schemas['SimpleStorageResource']>;
export type DataResource = Component<Schemas['SimpleDataResource']>;

export type ExecutionRequest = Omit<Schemas['ExecutionRequest'], 'executable' | 'compute' | 'storage' | 'data'> & {
  executable?: LifecycleComponent;
  compute?: SimpleComputeResource;
  storage?: SimpleStorageResource[];
  data?: DataResource[];
};

export type ScheduledExecutionSession = Component<Schemas['ScheduledExecutionSession']>;
export type OfferSetResponse = Component<Schemas['OfferSetResponse']>;

export type EnumValueUpdate = Schemas['EnumValueUpdate'];
export type AbstractUpdate = Schemas['StringValueUpdate'] | Schemas['EnumValueUpdate'] | Schemas['IntegerValueUpdate'] | Schemas['IntegerDeltaUpdate'];
export type AbstractOption = Schemas['StringValueOption'] | Schemas['EnumValueOption'] | Schemas['IntegerValueOption'] | Schemas['IntegerDeltaOption'];
