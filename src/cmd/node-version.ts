// portcullis is built and tested on Node 24 (package.json "engines"). An older Node fails in
// confusing ways deep inside a dependency, so this says it plainly first. cli.ts imports it
// before anything else: ES modules run in import order, so this body runs first.
const REQUIRED_MAJOR = 24;

if (Number(process.versions.node.split('.')[0]) < REQUIRED_MAJOR) {
  process.stderr.write(
    `portcullis needs Node.js ${REQUIRED_MAJOR} or later; this is ${process.version}.\n` +
      `Install Node.js ${REQUIRED_MAJOR} (https://nodejs.org), or in a clone run it through npm (npx portcullis, npm start), which uses the Node ${REQUIRED_MAJOR} that npm ci installs.\n`,
  );
  process.exit(2);
}

export {};
