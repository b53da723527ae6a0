export * from './problem.js';
export * from './body.js';
export * from './negotiate.js';
export * from './logger.js';
export * from './metrics.js';
export * from './service.js';
export * from './openapi.js';
export * from './base-url.js';
