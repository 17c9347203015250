/** @type {import('jest').Config} */
const transform = { '^.+\\.ts$': ['@swc/jest'] };
// The in-repo packages, imported by name as tsconfig.json's paths map them.
const moduleNameMapper = {
  '^@parley/(protocol|client)$': '<rootDir>/packages/$1/src/index.ts',
  '^@parley/client/e2e$': '<rootDir>/packages/client/src/e2e/index.ts',
  // libsignal-client ships only ES modules, which Jest's CommonJS runtime cannot require.
  '^@signalapp/libsignal-client$': '<rootDir>/test/jest/libsignal-client.cjs',
};
const common = {
  transform,
  moduleNameMapper,
  moduleFileExtensions: ['ts', 'js', 'json'],
  testEnvironment: 'node',
};
module.exports = {
  testTimeout: 60000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      rootDir: '.',
      testMatch: ['<rootDir>/{src,packages}/**/*.spec.ts', '<rootDir>/test/lint/**/*.spec.ts'],
    },
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
    {
      ...common,
      displayName: 'browser',
      rootDir: '.',
      testMatch: ['<rootDir>/test/browser/**/*.browser-spec.ts'],
    },
  ],
};
