// Which files of a policy directory load, and in which order: the order policies merge in
// (each policy's findings follow the one before) and which file a duplicate name is blamed on.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { formatPolicyError, loadPolicyPaths } from '../../src/sources/policy-files.js';

const policy = (name: string): string => `apiVersion: portcullis.dev/v1alpha1\nkind: PortPolicy\nmetadata:\n  name: ${name}\nspec: {}\n`;

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'portcullis-policy-order-'));
  await mkdir(path.join(tmp, 'outside'));
  await writeFile(path.join(tmp, 'outside', 'other.yaml'), policy('other'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('the policy files of a directory', () => {
  it.each<{ name: string; files: Record<string, string>; links?: Record<string, string>; policies: string[]; errors: string[] }>([
    {
      // localeCompare would give a-b-policy, a-policy, c-policy, z-policy: upper case last.
      name: 'load in code-unit order of names, a subdirectory in place of its name',
      files: { 'a.yaml': policy('a-policy'), 'Z.yaml': policy('z-policy'), 'a-b.yml': policy('a-b-policy'), 'sub/c.json': policy('c-policy') },
      policies: ['z-policy', 'a-b-policy', 'a-policy', 'c-policy'],
      errors: [],
    },
    {
      name: 'a duplicate name is blamed on the later file in that order',
      files: { 'b.yaml': policy('same'), 'B.yaml': policy('same') },
      policies: ['same'],
      errors: ['b.yaml:4: metadata.name: policy "same" is also defined in B.yaml'],
    },
    {
      name: 'a link named like a policy file that leads nowhere is an error, not a policy dropped',
      files: { 'ok.yaml': policy('ok') },
      links: { 'gone.yaml': 'missing.yaml' },
      policies: ['ok'],
      errors: ['gone.yaml: cannot read: ENOENT'],
    },
    {
      name: 'a link to a directory is not followed',
      files: { 'ok.yaml': policy('ok') },
      links: { linked: '../outside' },
      policies: ['ok'],
      errors: [],
    },
  ])('$name', async ({ files, links, policies, errors }) => {
    const dir = await mkdtemp(path.join(tmp, 'case-'));
    for (const [name, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
      await writeFile(path.join(dir, name), text);
    }
    for (const [name, target] of Object.entries(links ?? {})) await symlink(target, path.join(dir, name));
    const loaded = await loadPolicyPaths([dir]);
    expect({ policies: loaded.policies.map((p) => p.name), errors: loaded.errors.map((e) => formatPolicyError(e).replaceAll(`${dir}/`, '')) }).toEqual({
      policies,
      errors,
    });
  });
});
