import type { components } from '@eb/schema';

// Types generated from the broker's OpenAPI document, the same ones the server uses (@eb/schema's
// src/generated, by openapi-typescript): only types are imported, nothing of @eb/schema runs here.
type Schemas = components['schemas'];
export type ExecutionRequest = Schemas['ExecutionRequest'] & Record<string, unknown>;
export type OfferSet = Schemas['OfferSetResponse'];
export type Execution = Schemas['ScheduledExecutionSession'];
export type ExecutionPhase = Schemas['SimpleExecutionSessionPhase'];
export type MessageItem = Schemas['MessageItem'];
export type Problem = Schemas['Problem'];

export const TERMINAL_PHASES: readonly ExecutionPhase[] = ['COMPLETED', 'FAILED', 'CANCELLED', 'REJECTED', 'EXPIRED'];
