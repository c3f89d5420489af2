// Writes docs/scan-output-v1.schema.json, the JSON Schema of `scan --format json`, from the
// object the tests validate the writer against (run via `npm run generate:schema`, which builds
// dist/ first). Plain JS so it runs on the build output without a TS loader.
import { writeFile } from 'node:fs/promises';
import { RULE_CATALOG } from '../dist/engine/rules/index.js';
import { scanOutputSchemaJson } from '../dist/sinks/reports/json-schema.js';

const target = new URL('../docs/scan-output-v1.schema.json', import.meta.url);
await writeFile(target, scanOutputSchemaJson(RULE_CATALOG));
process.stdout.write(`wrote ${target.pathname}\n`);
