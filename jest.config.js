// Tests must run on the Node 24 that the `node` devDependency puts in node_modules/.bin.
if (Number(process.versions.node.split('.')[0]) < 24) {
  throw new Error(`Node >= 24 required, got ${process.version}: node_modules/.bin/node is missing (run npm ci without --ignore-scripts)`);
}

// Two lanes. `unit`: pure code (engine, policy loading, remediation, report writers), no
// servers, sockets, child processes or browser: the inner loop, `npm run test:unit`.
// `integration`: everything else (webhook over TLS, the test API server, the CLI as a child
// process, Chromium, manifests). `npm test` runs both.
const UNIT = [
  'test/engine/',
  'test/remediate/',
  'test/reports/',
  'test/policy-load.test.ts',
  'test/architecture.test.ts',
  'test/rule-registry.test.ts',
  'test/html/html-writer.test.ts',
];

const shared = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2024', parser: { syntax: 'typescript' } } }] },
};

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** @type {import('jest').Config} */
export default {
  projects: [
    { ...shared, displayName: 'unit', testMatch: UNIT.map((p) => (p.endsWith('/') ? `<rootDir>/${p}**/*.test.ts` : `<rootDir>/${p}`)) },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', ...UNIT.map((p) => `<rootDir>/${escape(p)}`)],
    },
  ],
  // One worker per core: most integration suites wait on sockets and child processes, not the
  // CPU. On this 2-core machine under load average 8-10, 2 workers ran the suite in 157 s
  // against 270 s for jest's default (cores - 1).
  maxWorkers: '100%',
  testTimeout: 30000,
};
