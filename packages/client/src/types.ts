import type { components } from './generated/openapi.js';

// Types generated from the broker's OpenAPI document (src/generated, by openapi-typescript).
type Schemas = components['schemas'];
export type ExecutionRequest = Schemas['ExecutionRequest'] & Record<string, unknown>;
export type OfferSet = Schemas['OfferSetResponse'];
export type Execution = Schemas['ScheduledExecutionSession'];
export type ExecutionPhase = Schemas['SimpleExecutionSessionPhase'];
export type MessageItem = Schemas['MessageItem'];
export type Problem = Schemas['Problem'];

export const TERMINAL_PHASES: readonly ExecutionPhase[] = ['COMPLETED', 'FAILED', 'CANCELLED', 'REJECTED', 'EXPIRED'];
