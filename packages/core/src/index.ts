export * from './queue/steps.js';
export * from './render/execution.js';
export * from './render/offerset.js';
export * from './actions/accept.js';
export * from './actions/update.js';
export * from './config/env.js';
export * from './config/platform.js';
