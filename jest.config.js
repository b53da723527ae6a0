// Tests are compiled by `tsc -b` and run as native ES modules, so no transform is needed.
export default {
  testEnvironment: 'node',
  transform: {},
  roots: ['<rootDir>/packages', '<rootDir>/services', '<rootDir>/tests'],
  testMatch: ['**/dist/test/**/*.test.js', '**/dist/e2e/**/*.test.js'],
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: '<rootDir>/tests/dist/support/global-setup.js',
  testTimeout: 60000,
  maxWorkers: 2,
};
