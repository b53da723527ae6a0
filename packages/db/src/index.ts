export * from './connect.js';
export * from './migrate.js';
export type * from './schema.js';
export * from './queries/platforms.js';
export * from './queries/bookings.js';
export * from './queries/phase.js';
export * from './queries/offersets.js';
export * from './queries/executions.js';
export * from './queries/credentials.js';
