export * from './client.js';
export * from './errors.js';
export * from './types.js';
export type { components, paths } from './generated/openapi.js';
export { main as cliMain } from './cli/main.js';
