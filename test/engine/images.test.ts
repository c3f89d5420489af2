// Image patterns of exemptions: normalised references, exact registry and repository, globs on
// the tag or digest only, never crossing '/', ':' or '@'.
import { compileImagePattern, parseImage } from '../../src/engine/policy/images.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('image references', () => {
  it.each([
    {
      name: 'a familiar name gets docker.io/library and :latest',
      text: 'busybox',
      want: { name: 'docker.io/library/busybox', tag: 'latest', digest: undefined },
    },
    { name: 'a familiar name with a tag', text: 'node-agent:1', want: { name: 'docker.io/library/node-agent', tag: '1', digest: undefined } },
    { name: 'a registry with a port', text: 'localhost:5000/team/agent:2.1', want: { name: 'localhost:5000/team/agent', tag: '2.1', digest: undefined } },
    { name: 'a digest only', text: `quay.io/cilium/cilium@${DIGEST}`, want: { name: 'quay.io/cilium/cilium', tag: undefined, digest: DIGEST } },
    { name: 'a tag and a digest', text: `quay.io/cilium/cilium:v1.18.2@${DIGEST}`, want: { name: 'quay.io/cilium/cilium', tag: 'v1.18.2', digest: DIGEST } },
    { name: 'upper case is no reference', text: 'Busybox', want: null },
    { name: 'empty is no reference', text: '', want: null },
  ])('$name', ({ text, want }) => {
    expect(parseImage(text)).toEqual(want);
  });

  it.each([
    { name: 'the familiar and the full name are one image', pattern: 'docker.io/library/node-agent:1', image: 'node-agent:1', want: true },
    { name: 'and the other way round', pattern: 'node-agent:1', image: 'docker.io/library/node-agent:1', want: true },
    { name: 'another tag', pattern: 'node-agent:1', image: 'node-agent:2', want: false },
    { name: 'a tag glob', pattern: 'quay.io/cilium/cilium:v1.18.*', image: 'quay.io/cilium/cilium:v1.18.2', want: true },
    { name: 'a tag glob does not reach another minor', pattern: 'quay.io/cilium/cilium:v1.18.*', image: 'quay.io/cilium/cilium:v1.19.0', want: false },
    { name: 'the repository is exact: no prefix match', pattern: 'quay.io/cilium/cilium:*', image: 'quay.io/cilium/cilium-evil:v1', want: false },
    { name: 'the registry is exact', pattern: 'quay.io/cilium/cilium:*', image: 'evil.io/cilium/cilium:v1', want: false },
    { name: 'no tag in the image reads as :latest', pattern: 'busybox:latest', image: 'busybox', want: true },
    { name: ':* matches any tag', pattern: 'busybox:*', image: 'busybox:1.36', want: true },
    { name: 'a digest pattern', pattern: `quay.io/cilium/cilium@${DIGEST}`, image: `quay.io/cilium/cilium@${DIGEST}`, want: true },
    { name: 'a digest pattern and a tag-only image', pattern: `quay.io/cilium/cilium@${DIGEST}`, image: 'quay.io/cilium/cilium:v1.18.2', want: false },
    { name: 'a digest glob after the algorithm', pattern: 'quay.io/cilium/cilium@sha256:*', image: `quay.io/cilium/cilium:v1@${DIGEST}`, want: true },
    { name: '* does not cross the digest\'s ":"', pattern: 'quay.io/cilium/cilium@*', image: `quay.io/cilium/cilium@${DIGEST}`, want: false },
    { name: 'an unparsable image never matches', pattern: 'busybox:*', image: 'Busybox:1', want: false },
  ])('$name', ({ pattern, image, want }) => {
    const m = compileImagePattern(pattern);
    if (typeof m === 'string') throw new Error(m);
    expect(m(image)).toBe(want);
  });

  it.each([
    { name: 'no tag or digest', pattern: 'quay.io/cilium/cilium', message: /names no tag or digest/ },
    { name: 'a glob in the repository', pattern: 'quay.io/cilium/*:v1', message: /only the tag or digest may be a glob/ },
    { name: 'a glob in the registry', pattern: '*.io/cilium/cilium:v1', message: /only the tag or digest may be a glob/ },
    { name: 'no image name', pattern: 'Not An Image:1', message: /is not an image reference/ },
  ])('refuses $name', ({ pattern, message }) => {
    expect(compileImagePattern(pattern)).toMatch(message);
  });
});
