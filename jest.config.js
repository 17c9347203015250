/** @type {import('jest').Config} */
const transform = { '^.+\\.ts$': ['@swc/jest'] };
const common = {
  transform,
  moduleNameMapper: {
    '^@signalapp/libsignal-client$': '<rootDir>/test/jest/libsignal-client.cjs',
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testEnvironment: 'node',
};
module.exports = {
  testTimeout: 60000,
  projects: [
    { ...common, displayName: 'unit', rootDir: '.', testMatch: ['<rootDir>/src/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'contracts',
      rootDir: '.',
      testMatch: ['<rootDir>/test/contracts/**/*.contract-spec.ts'],
    },
    {
      ...common,
      displayName: 'e2e',
      rootDir: '.',
      testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'],
    },
  ],
};
