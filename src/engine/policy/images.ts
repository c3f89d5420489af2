// Image references for exemptions, parsed and normalised once at policy load with
// @swimlane/docker-reference (a port of the parser Docker's distribution/reference uses), so
// `node-agent:1` and `docker.io/library/node-agent:1` are the same image. Registry and
// repository must match exactly; only the tag or the digest may be a glob, and its `*` never
// crosses `/`, `:` or `@`, so `:v1.*` cannot reach into another repository's name.
import { parseFamiliarName } from '@swimlane/docker-reference';

interface ImageRef {
  readonly name: string;
  readonly tag: string | undefined;
  readonly digest: string | undefined;
}

/** The normalised reference, or null when the text is no image reference. No tag or digest reads as :latest, as the kubelet pulls it. */
export function parseImage(text: string): ImageRef | null {
  try {
    const ref = parseFamiliarName(text);
    const tag = ref.tag ?? (ref.digest === undefined ? 'latest' : undefined);
    return { name: `${ref.domain}/${ref.repository}`, tag, digest: ref.digest };
  } catch {
    return null;
  }
}

function globPart(glob: string): (value: string | undefined) => boolean {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/:@]*')
    .replace(/\?/g, '[^/:@]');
  const re = new RegExp(`^${body}$`);
  return (value) => value !== undefined && re.test(value);
}

/**
 * Compiles one exemption image pattern: `name:tag-glob`, `name@digest-glob` or both. Returns an
 * error message for a pattern without a tag or digest, or whose name is no image name.
 */
export function compileImagePattern(pattern: string): ((image: string) => boolean) | string {
  const at = pattern.indexOf('@');
  const beforeDigest = at < 0 ? pattern : pattern.slice(0, at);
  const digest = at < 0 ? undefined : pattern.slice(at + 1);
  const colon = beforeDigest.lastIndexOf(':');
  const hasTag = colon > beforeDigest.lastIndexOf('/');
  const name = hasTag ? beforeDigest.slice(0, colon) : beforeDigest;
  const tag = hasTag ? beforeDigest.slice(colon + 1) : undefined;
  if (tag === undefined && digest === undefined) return `"${pattern}" names no tag or digest: write ":tag", "@sha256:..." or ":*" for any tag`;
  if (/[*?]/.test(name)) return `"${pattern}": only the tag or digest may be a glob, the registry and repository are matched exactly`;
  const parsed = parseImage(`${name}:x`);
  if (parsed === null) return `"${pattern}" is not an image reference`;
  const tagMatches = tag === undefined ? null : globPart(tag);
  const digestMatches = digest === undefined ? null : globPart(digest);
  return (image) => {
    const ref = parseImage(image);
    if (ref === null || ref.name !== parsed.name) return false;
    return (tagMatches === null || tagMatches(ref.tag)) && (digestMatches === null || digestMatches(ref.digest));
  };
}
