// Writes manifests/crds/portpolicy.yaml from the compiled schema (run via `npm run generate:crd`,
// which builds dist/ first). Plain JS so it runs on the build output without a TS loader.
import { writeFile } from 'node:fs/promises';
import { portPolicyCrdYaml } from '../dist/k8s/crd.js';

const target = new URL('../manifests/crds/portpolicy.yaml', import.meta.url);
await writeFile(target, portPolicyCrdYaml());
process.stdout.write(`wrote ${target.pathname}\n`);
