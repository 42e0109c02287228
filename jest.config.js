/** Unit tests sit beside the code (*.spec.ts); workflow, integration and replay tests live in test/. */
/** @type {import('jest').Config} */
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/{apps,libs,workflows}/**/src/**/*.spec.ts', '<rootDir>/test/**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }] },
  moduleNameMapper: {
    '^@sop/(domain|db|temporal|engine|notify|wecom)$': '<rootDir>/libs/$1/src',
    '^@sop/workflows$': '<rootDir>/workflows/src',
    '^@sop/(api|worker)$': '<rootDir>/apps/$1/src',
  },
  setupFiles: ['<rootDir>/test/support/jest-setup.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  testTimeout: 60_000,
  maxWorkers: 2,
};
