// Tests must run on the Node 24 that the `node` devDependency puts in node_modules/.bin.
if (Number(process.versions.node.split('.')[0]) < 24) {
  throw new Error(`Node >= 24 required, got ${process.version}: node_modules/.bin/node is missing (run npm ci without --ignore-scripts)`);
}
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2024', parser: { syntax: 'typescript' } } }] },
  testTimeout: 30000,
};
