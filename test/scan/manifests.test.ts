import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { KubeObject } from '../../src/engine/types.js';
import { collectNamespaces, itemsOfText, yamlDocuments } from '../../src/sources/manifest-text.js';
import { manifestSource } from '../../src/sources/manifests.js';
import type { SourceItem } from '../../src/sources/source-item.js';

const CHECKED = new Set(['Pod', 'Deployment', 'DaemonSet', 'Service', 'NetworkPolicy', 'CiliumNetworkPolicy', 'CiliumClusterwideNetworkPolicy']);
const opts = { defaultNamespace: 'default', isChecked: (o: KubeObject) => CHECKED.has(o.kind) };

/** One short string per item, so a row states the whole expected stream. */
function brief(item: SourceItem): string {
  switch (item.type) {
    case 'resource': {
      const r = item.resource;
      return `resource ${r.source?.line} ${r.object.kind}/${r.object.metadata.name ?? r.object.metadata.generateName} ns=${r.namespace}`;
    }
    case 'skipped':
      return `skipped ${item.source?.line} ${item.kind ?? '-'}`;
    case 'error':
      return `error ${item.error.line} ${item.error.message}`;
    case 'progress':
      return `progress ${item.done}`;
  }
}

const items = (text: string, file = 'm.yaml') => [...itemsOfText(text, file, opts)].map(brief);

describe('itemsOfText', () => {
  it.each([
    {
      name: 'multi-document YAML with a leading marker and comments',
      text: '---\n# a comment\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n  namespace: x\n',
      want: ['resource 3 Pod/a ns=default', 'resource 7 Service/b ns=x'],
    },
    {
      name: 'helm template output: "---" then "# Source:" comments, empty documents',
      text: '---\n# Source: chart/templates/a.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\n---\n# Source: chart/templates/empty.yaml\n---\n---\n# Source: chart/templates/b.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n',
      want: ['resource 3 Service/s ns=default', 'resource 12 Deployment/d ns=default'],
    },
    {
      name: 'kind: List with block items gets each item its own line',
      text: 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: a\n  spec:\n    ports:\n    - port: 80\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: b\nmetadata:\n  resourceVersion: ""\n',
      want: ['resource 4 Service/a ns=default', 'resource 11 Pod/b ns=default'],
    },
    {
      name: 'a *List kind with indented items',
      text: '# kubectl get -o yaml\napiVersion: v1\nkind: ServiceList\nitems:\n  - apiVersion: v1\n    kind: Service\n    metadata: {name: a}\n  - apiVersion: v1\n    kind: Service\n    metadata: {name: b}\n',
      want: ['resource 5 Service/a ns=default', 'resource 8 Service/b ns=default'],
    },
    {
      name: 'a flow-style List falls back to the List line',
      text: 'apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: Pod, metadata: {name: a}}, {apiVersion: v1, kind: Pod, metadata: {name: b}}]\n',
      want: ['resource 1 Pod/a ns=default', 'resource 1 Pod/b ns=default'],
    },
    {
      name: 'invalid YAML mid-stream is an error at its line and the scan goes on',
      text: 'apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: [b\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: c}\n',
      want: ['resource 1 Pod/a ns=default', expect.stringMatching(/^error 8 invalid YAML: .* \(in the document at line 5\)$/), 'resource 10 Pod/c ns=default'],
    },
    {
      name: 'an object with neither name nor generateName is an error; generateName alone is fine',
      text: 'apiVersion: v1\nkind: Pod\nmetadata: {namespace: x}\n---\napiVersion: v1\nkind: Pod\nmetadata: {generateName: job-}\n',
      want: ['error 1 Pod has neither metadata.name nor metadata.generateName', 'resource 5 Pod/job- ns=default'],
    },
    {
      name: 'non-Kubernetes documents and unchecked kinds are skipped, with no name check',
      text: 'replicaCount: 1\nimage: {tag: x}\n---\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n---\n- just\n- a list\n---\nplain scalar\n',
      want: ['skipped 1 -', 'skipped 4 Kustomization', 'skipped 8 -', 'skipped 11 -'],
    },
    {
      name: 'cluster-scoped kinds have no namespace, even when one is written',
      text: 'apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: c, namespace: ignored}\n---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: n}\n',
      want: ['resource 1 CiliumClusterwideNetworkPolicy/c ns=null', 'resource 5 CiliumNetworkPolicy/n ns=default'],
    },
    {
      name: 'a document marker with its root on the same line, and "..." document ends',
      text: '--- {apiVersion: v1, kind: Pod, metadata: {name: a}}\n...\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\n...\n',
      want: ['resource 1 Pod/a ns=default', 'resource 4 Pod/b ns=default'],
    },
    {
      name: '"---" inside an indented block scalar does not split the document',
      text: 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  annotations:\n    note: |\n      ---\n      text\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\n',
      want: ['resource 1 Pod/a ns=default', 'resource 10 Pod/b ns=default'],
    },
    {
      name: 'CRLF line endings',
      text: 'apiVersion: v1\r\nkind: Pod\r\nmetadata: {name: a}\r\n---\r\napiVersion: v1\r\nkind: Pod\r\nmetadata: {name: b}\r\n',
      want: ['resource 1 Pod/a ns=default', 'resource 5 Pod/b ns=default'],
    },
  ])('$name', ({ text, want }) => {
    expect(items(text)).toEqual(want);
  });

  it.each([
    {
      name: 'a JSON object',
      file: 'svc.json',
      text: '\n{\n  "apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}\n}\n',
      want: ['resource 2 Service/s ns=default'],
    },
    {
      name: 'a JSON List (kubectl get -o json)',
      file: 'list.json',
      text: JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a' } },
          { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e' } },
        ],
      }),
      want: ['resource 1 Pod/a ns=default', 'skipped 1 Event'],
    },
    {
      name: 'invalid JSON names its line',
      file: 'bad.json',
      text: '{\n  "apiVersion": "v1",\n  "kind": "Pod"\n  "metadata": {}\n}\n',
      want: [expect.stringMatching(/^error 4 invalid JSON: /)],
    },
    {
      name: 'JSON text in a .yaml file is read as JSON',
      file: 'x.yaml',
      text: '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}',
      want: ['resource 1 Pod/p ns=default'],
    },
    {
      name: 'a JSON file with a byte order mark',
      file: 'bom.json',
      text: '\uFEFF{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}',
      want: ['resource 1 Pod/p ns=default'],
    },
    {
      name: 'a YAML file with a byte order mark',
      file: 'bom.yaml',
      text: '\uFEFFapiVersion: v1\nkind: Pod\nmetadata: {name: p}\n',
      want: ['resource 1 Pod/p ns=default'],
    },
    {
      name: 'YAML flow mapping in a .yaml file that JSON cannot read',
      file: 'x.yaml',
      text: '{apiVersion: v1, kind: Pod, metadata: {name: p}}\n',
      want: ['resource 1 Pod/p ns=default'],
    },
  ])('$name', ({ text, file, want }) => {
    expect(items(text, file)).toEqual(want);
  });

  it('gives every error a single line', () => {
    const [e] = [...itemsOfText('{\n"a": }\n', 'x.json', opts)];
    expect(e.type).toBe('error');
    if (e.type === 'error') expect(e.error.message).not.toMatch(/\n/);
  });
});

describe('yamlDocuments', () => {
  it.each([
    { name: 'empty text', text: '', want: [] },
    { name: 'only comments and markers', text: '# x\n---\n# y\n---\n', want: [] },
    { name: 'directive before the marker', text: '%YAML 1.2\n---\na: 1\n', want: [3] },
    { name: 'indented --- is content', text: 'a: |\n  ---\nb: 1\n', want: [1] },
    { name: '---x is not a marker', text: '---x: 1\n', want: [1] },
  ])('$name', ({ text, want }) => {
    expect([...yamlDocuments(text)].map((c) => c.line)).toEqual(want);
  });
});

describe('yamlDocuments interleaved', () => {
  it('two streams read in turns keep their own places', () => {
    const a = yamlDocuments('a: 1\n---\nb: 2\n---\nc: 3\n');
    const b = yamlDocuments('x: a long first document, longer than all of the other stream\n---\n\ny: 2\n');
    const got = [a.next().value?.line, b.next().value?.line, a.next().value?.line, b.next().value?.line, a.next().value?.line];
    expect(got).toEqual([1, 1, 3, 4, 5]);
  });
});

describe('collectNamespaces', () => {
  it.each([
    {
      name: 'YAML with a Namespace among other documents',
      file: 'a.yaml',
      text: 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n  labels: {tenant: a}\n',
      want: { 'team-a': { tenant: 'a' } },
    },
    { name: 'a Namespace without labels', file: 'a.yaml', text: 'kind: Namespace\napiVersion: v1\nmetadata: {name: n}\n', want: { n: {} } },
    {
      name: 'a NamespaceList in JSON',
      file: 'a.json',
      text: JSON.stringify({
        apiVersion: 'v1',
        kind: 'NamespaceList',
        items: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x', labels: { t: 'b' } } }],
      }),
      want: { x: { t: 'b' } },
    },
    { name: 'text that never mentions a Namespace', file: 'a.yaml', text: 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\n', want: {} },
    { name: 'a broken document is left for the main pass', file: 'a.yaml', text: 'kind: Namespace\nmetadata: [\n', want: {} },
  ])('$name', ({ text, file, want }) => {
    const into = new Map();
    collectNamespaces(text, file, into);
    expect(Object.fromEntries(into)).toEqual(want);
  });
});

describe('manifestSource', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'portcullis-src-'));
    await mkdir(path.join(dir, 'app', 'nested'), { recursive: true });
    await mkdir(path.join(dir, '.git'));
    await mkdir(path.join(dir, 'node_modules'));
    await writeFile(path.join(dir, 'app', 'a.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: team-a}\n');
    await writeFile(path.join(dir, 'app', 'nested', 'b.yml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: b}\n');
    await writeFile(path.join(dir, 'app', 'nested', 'c.json'), '{"apiVersion":"v1","kind":"Service","metadata":{"name":"c"}}');
    await writeFile(path.join(dir, 'app', 'notes.txt'), 'apiVersion: v1\nkind: Pod\n');
    await writeFile(path.join(dir, '.git', 'x.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: {name: hidden}\n');
    await writeFile(path.join(dir, 'node_modules', 'x.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: {name: dep}\n');
    // The Namespace comes after the objects in it, in a later file.
    await writeFile(path.join(dir, 'z-namespaces.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n  labels: {tenant: a}\n');
    await symlink(path.join(dir, 'app'), path.join(dir, 'app-link'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const collect = async (paths: string[], extra: Partial<Parameters<typeof manifestSource>[1]> = {}) => {
    const src = manifestSource(paths, { ...opts, namespaceLabels: true, ...extra });
    const facts = await src.facts();
    const out: string[] = [];
    for await (const item of src.items()) {
      if (item.type === 'progress') continue;
      const file = item.type === 'resource' ? item.resource.source?.file : item.type === 'skipped' ? item.source?.file : item.error.file;
      out.push(`${path.relative(dir, file ?? '') || file} ${brief(item)}`);
    }
    return { facts, out };
  };

  it.each([
    {
      name: 'a directory, recursively, .yaml/.yml/.json only, without dot-dirs and node_modules, symlinked dirs once',
      paths: () => [dir],
      want: [
        'app/a.yaml resource 1 Pod/a ns=team-a',
        'app/nested/b.yml resource 1 Service/b ns=default',
        'app/nested/c.json resource 1 Service/c ns=default',
        'z-namespaces.yaml skipped 1 Namespace',
      ],
    },
    {
      name: 'a named file whatever its extension',
      paths: () => [path.join(dir, 'app', 'notes.txt')],
      want: ['app/notes.txt error 1 Pod has neither metadata.name nor metadata.generateName'],
    },
    {
      name: 'the same path twice is read once',
      paths: () => [path.join(dir, 'app', 'a.yaml'), path.join(dir, 'app', '..', 'app', 'a.yaml')],
      want: ['app/a.yaml resource 1 Pod/a ns=team-a'],
    },
    {
      name: 'an unreadable path is an error and the others are still read',
      paths: () => [path.join(dir, 'missing.yaml'), path.join(dir, 'app', 'a.yaml')],
      want: ['missing.yaml error null cannot read: no such file or directory (ENOENT)', 'app/a.yaml resource 1 Pod/a ns=team-a'],
    },
  ])('$name', async ({ paths, want }) => {
    expect((await collect(paths())).out).toEqual(want);
  });

  it('warns about a directory without manifest files, and reads nothing from it', async () => {
    const empty = path.join(dir, '.empty');
    await mkdir(empty, { recursive: true });
    const warnings: string[] = [];
    const { out } = await collect([empty], { warn: (m) => warnings.push(m) });
    expect({ out, warnings }).toEqual({ out: [], warnings: [`${empty}: no .yaml, .yml or .json files found`] });
  });

  it('reads the labels of a Namespace that comes after the objects in it', async () => {
    const { facts } = await collect([dir]);
    expect(facts.namespaceLabels('team-a')).toEqual({ tenant: 'a' });
    expect(facts.namespaceLabels('other')).toBeUndefined();
  });

  it('skips the first pass when no tenant needs labels', async () => {
    const { facts } = await collect([dir], { namespaceLabels: false });
    expect(facts.namespaceLabels('team-a')).toBeUndefined();
  });

  it('reads stdin once for both passes, named <stdin>', async () => {
    let reads = 0;
    const readStdin = async () => {
      reads++;
      return 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: n, labels: {t: x}}\n';
    };
    const src = manifestSource(['-'], { ...opts, namespaceLabels: true, readStdin });
    const facts = await src.facts();
    const got: string[] = [];
    for await (const item of src.items()) if (item.type === 'resource') got.push(`${item.resource.source?.file}:${item.resource.source?.line}`);
    expect({ reads, labels: facts.namespaceLabels('n'), got }).toEqual({ reads: 1, labels: { t: 'x' }, got: ['<stdin>:1'] });
  });

  it('reports progress per file', async () => {
    const src = manifestSource([path.join(dir, 'app')], { ...opts, namespaceLabels: true });
    await src.facts();
    const progress = [];
    for await (const item of src.items()) if (item.type === 'progress') progress.push([item.done, item.total]);
    expect(progress).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
  });
});
