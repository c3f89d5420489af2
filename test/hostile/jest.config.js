// `npm run test:hostile`: the timing and memory cases, outside `npm test` (they need the
// machine to themselves). The same transform as the suite's jest.config.js.
/** @type {import('jest').Config} */
export default {
  rootDir: '../..',
  testEnvironment: 'node',
  roots: ['<rootDir>/test/hostile'],
  testMatch: ['<rootDir>/test/hostile/*.hostile.ts', '<rootDir>/test/hostile/engine-*.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2024', parser: { syntax: 'typescript' } } }] },
  testTimeout: 120000,
};
