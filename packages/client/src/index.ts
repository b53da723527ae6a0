export * from './client.js';
export * from './errors.js';
export * from './types.js';
export type { components, paths } from '@eb/schema';
export { main as cliMain } from './cli/main.js';
