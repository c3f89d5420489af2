// The benchmark's API server, in its own process so its memory and CPU are not the
// controller's: seeds the simulated cluster, prints `READY <url> <pods>` and serves until killed.
import { FakeApiServer } from '../test/support/fake-apiserver.js';
import { clusterObjects, FULL_SCALE, podCount, type ClusterShape } from './audit-cluster.js';

const shape: ClusterShape = process.argv[2] ? { ...FULL_SCALE, ...JSON.parse(process.argv[2]) } : FULL_SCALE;
const server = await FakeApiServer.start();
server.quiet();
let objects = 0;
server.seed(
  (function* () {
    for (const o of clusterObjects(shape)) {
      objects++;
      yield o;
    }
  })(),
);
process.stdout.write(`READY ${server.url} ${podCount(shape)} ${objects}\n`);
process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
