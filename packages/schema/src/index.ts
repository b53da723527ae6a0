export * from './document.js';
export * from './kinds.js';
export * from './validate.js';
export * from './phases.js';
export * from './duration.js';
export * from './messages.js';
export * from './labels.js';
export type * from './types.js';
