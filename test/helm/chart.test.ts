// helm/weftkit without helm: values.yaml against values.schema.json, every .Values path a
// template reads exists in values.yaml, rendered manifests (default-ish and custom values)
// validate against the Kubernetes schemas (kubernetes-models), and the security settings hold.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parsePolicy } from '@weftkit/kernel';
import Ajv from 'ajv';
import { ConfigMap, Service, ServiceAccount } from 'kubernetes-models/v1';
import { StatefulSet } from 'kubernetes-models/apps/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { chartDir, defaultValues, type Manifest, mergeValues, render, templateFiles, templateSource, type Values } from './chart.js';
import { TemplateError } from './go-template.js';

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/StatefulSet': StatefulSet,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8')) as object;
const ajv = new Ajv.default({ allErrors: true, strict: false });
const validateValues = ajv.compile(schema);

/** The smallest install: a KEK Secret and a users Secret (both required by default). */
const MINIMAL: Values = {
  encryption: { existingSecret: 'weftkit-kek' },
  auth: { usersSecret: { name: 'weftkit-users' } },
};

const SCENARIOS: Record<string, Values> = {
  minimal: MINIMAL,
  'jwt + mtls + tls, kms key, custom roles, monitoring, restricted network': {
    auth: { methods: ['jwt', 'mtls'], jwt: { jwksUri: 'https://auth.example.com/.well-known/jwks.json', issuer: 'https://auth.example.com/', audience: 'weftkit' } },
    tls: { enabled: true, existingSecret: 'weftkit-tls', required: true },
    encryption: { keyProvider: 'kms', kms: { keyArn: 'arn:aws:kms:eu-west-1:111122223333:key/abc', region: 'eu-west-1' } },
    roles: {
      roles: [{ name: 'analyst', allow: ['SELECT', 'COPY TO'], deny: ['INSERT', 'UPDATE', 'DELETE'] }],
      users: { alice: { roles: ['analyst'], tenants: ['tenant-001'], default_tenant: 'tenant-001' } },
    },
    serviceMonitor: { enabled: true, labels: { release: 'prometheus' } },
    networkPolicy: {
      clients: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'apps' } } }],
      metricsFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
      egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }], ports: [{ port: 443, protocol: 'TCP' }] }],
    },
    relational: { env: { WEFTKIT_MAX_OPEN_TENANTS: '16' }, persistence: { storageClassName: 'fast-ssd', size: '50Gi' } },
  },
  'kv only, key file, password + mtls, no audit': {
    relational: { enabled: false },
    auth: { methods: ['password', 'mtls'], usersSecret: { name: 'weftkit-users' } },
    tls: { enabled: true, existingSecret: 'weftkit-tls' },
    encryption: { keyProvider: 'file', existingSecret: 'weftkit-kek' },
    audit: { enabled: false },
    podDisruptionBudget: { enabled: false },
    image: { registry: 'registry.example.com/', pullSecrets: [{ name: 'regcred' }] },
  },
  'vault key, jwt only': {
    auth: { methods: ['jwt'], jwt: { jwksUri: 'https://idp.example.com/jwks' } },
    encryption: { keyProvider: 'vault', vault: { addr: 'https://vault.example.com:8200', transitKey: 'weftkit', tokenSecret: { name: 'vault-token' } } },
    networkPolicy: { enabled: false },
    serviceAccount: { create: false, name: 'db' },
  },
};

function validateManifest(m: Manifest): void {
  const { source, ...body } = m;
  const key = `${m.apiVersion}/${m.kind}`;
  if (key === 'monitoring.coreos.com/v1/ServiceMonitor') {
    // A CRD outside the core schemas: checked for the fields Prometheus Operator needs.
    const spec = m.spec as { selector: { matchLabels: object }; endpoints: { port: string; path: string }[] };
    assert.ok(spec.selector.matchLabels);
    assert.equal(spec.endpoints[0]?.port, 'ops');
    assert.equal(spec.endpoints[0]?.path, '/metrics');
    return;
  }
  const Model = MODELS[key];
  assert.ok(Model, `${source}: no schema for ${key}`);
  new Model(body as never).validate();
}

type Container = {
  name: string;
  env: { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }[];
  securityContext: Record<string, unknown>;
  ports: { name: string; containerPort: number }[];
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  startupProbe: { httpGet: { path: string; port: string } };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
};
type PodSpec = {
  securityContext: Record<string, unknown>;
  containers: Container[];
  terminationGracePeriodSeconds: number;
  automountServiceAccountToken: boolean;
  volumes: { name: string; secret?: { secretName: string } }[];
};

const statefulSets = (ms: Manifest[]) => ms.filter((m) => m.kind === 'StatefulSet');
const podSpec = (ss: Manifest) => (ss.spec as { template: { spec: PodSpec } }).template.spec;
const envOf = (ss: Manifest) => new Map(podSpec(ss).containers[0]?.env.map((e) => [e.name, e]));

describe('helm/weftkit', () => {
  it('values.yaml satisfies values.schema.json; the schema refuses unsafe or malformed values', () => {
    assert.ok(validateValues(defaultValues()), JSON.stringify(validateValues.errors));
    for (const values of Object.values(SCENARIOS)) {
      assert.ok(validateValues(mergeValues(defaultValues(), values)), JSON.stringify(validateValues.errors));
    }
    const bad: Values[] = [
      { containerSecurityContext: { readOnlyRootFilesystem: false } },
      { containerSecurityContext: { allowPrivilegeEscalation: true } },
      { containerSecurityContext: { capabilities: { drop: ['NET_RAW'] } } },
      { podSecurityContext: { runAsNonRoot: false } },
      { podSecurityContext: { runAsUser: 0 } },
      { kv: { env: { NODE_OPTIONS: '--inspect' } } },
      { kv: { env: { WEFTKIT_KEY: 'in-values' } } },
      { relational: { env: { WEFTKIT_INSECURE_DEV: 'true' } } },
      { encryption: { keyProvider: 'plaintext' } },
      { auth: { methods: ['none'] } },
      { terminationGracePeriodSeconds: 5 },
      { kv: { port: 70000 } },
      { typo: true },
    ];
    for (const b of bad) {
      assert.equal(validateValues(mergeValues(defaultValues(), b)), false, JSON.stringify(b));
    }
  });

  it('every .Values path a template reads exists in values.yaml', () => {
    const values = defaultValues();
    const has = (path: string[]): boolean => {
      let cur: unknown = values;
      for (const k of path) {
        if (typeof cur !== 'object' || cur === null || !(k in cur)) return false;
        cur = (cur as Record<string, unknown>)[k];
      }
      return true;
    };
    // Aliases the templates use: $v = .Values, $np = .Values.networkPolicy, $e = .Values.<engine>.
    const aliases: Record<string, string[][]> = { $v: [[]], $np: [['networkPolicy']], $e: [['relational'], ['kv']] };
    let checked = 0;
    for (const file of templateFiles()) {
      const src = templateSource(file);
      for (const m of src.matchAll(/(\.Values|\$v|\$np|\$e)((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
        const bases = m[1] === '.Values' ? [[]] : (aliases[m[1] as string] as string[][]);
        const path = (m[2] as string).slice(1).split('.');
        for (const base of bases) {
          assert.ok(has([...base, ...path]), `${file}: ${m[0]} is not in values.yaml`);
          checked++;
        }
      }
    }
    assert.ok(checked > 80, `only ${checked} paths found`);
  });

  it('default values refuse to render without a key-encryption key Secret', () => {
    assert.throws(() => render(), (err: Error) => err instanceof TemplateError && /encryption\.existingSecret is required/.test(err.message));
    assert.throws(
      () => render({ encryption: { existingSecret: 'k' } }),
      (err: Error) => err instanceof TemplateError && /auth\.usersSecret\.name is required/.test(err.message),
    );
  });

  for (const [name, values] of Object.entries(SCENARIOS)) {
    it(`renders valid Kubernetes manifests: ${name}`, () => {
      const manifests = render(values);
      for (const m of manifests) validateManifest(m);
      const merged = mergeValues(defaultValues(), values) as { relational: { enabled: boolean }; kv: { enabled: boolean } };
      const engines = ['relational', 'kv'].filter((e) => (merged as unknown as Record<string, { enabled: boolean }>)[e]?.enabled);
      assert.deepEqual(
        statefulSets(manifests).map((s) => s.metadata.name),
        engines.map((e) => `weftkit-${e}`),
      );
      const names = manifests.map((m) => `${m.kind}/${m.metadata.name}`);
      assert.equal(new Set(names).size, names.length, 'no duplicate resources');
    });
  }

  it('every engine pod is locked down: non-root 10001, read-only root, no capabilities, RuntimeDefault seccomp', () => {
    for (const values of Object.values(SCENARIOS)) {
      for (const ss of statefulSets(render(values))) {
        const pod = podSpec(ss);
        assert.equal(pod.securityContext.runAsNonRoot, true);
        assert.equal(pod.securityContext.runAsUser, 10001);
        assert.deepEqual(pod.securityContext.seccompProfile, { type: 'RuntimeDefault' });
        assert.equal(pod.automountServiceAccountToken, false);
        for (const c of pod.containers) {
          const sc = c.securityContext;
          assert.equal(sc.runAsNonRoot, true);
          assert.equal(sc.runAsUser, 10001);
          assert.equal(sc.readOnlyRootFilesystem, true);
          assert.equal(sc.allowPrivilegeEscalation, false);
          assert.equal(sc.privileged, false);
          assert.deepEqual(sc.capabilities, { drop: ['ALL'] });
          assert.deepEqual(sc.seccompProfile, { type: 'RuntimeDefault' });
        }
        // Writable paths are volumes only: the data PVC, the audit PVC, a memory /tmp.
        const writable = pod.containers[0]?.volumeMounts.filter((v) => !v.readOnly).map((v) => v.mountPath) ?? [];
        for (const p of writable) assert.ok(['/var/lib/weftkit', '/var/log/weftkit', '/tmp'].includes(p), p);
        assert.ok(pod.terminationGracePeriodSeconds > 10, 'longer than the engines’ 10 s shutdown');
      }
    }
  });

  it('configures engines only through WEFTKIT_* variables; secrets come from Secrets, never values', () => {
    for (const values of Object.values(SCENARIOS)) {
      for (const ss of statefulSets(render(values))) {
        const env = envOf(ss);
        for (const [name, e] of env) {
          assert.match(name, /^WEFTKIT_[A-Z0-9_]+$/);
          if (name === 'WEFTKIT_KEY' || name === 'WEFTKIT_VAULT_TOKEN') {
            assert.equal(e.value, undefined, `${name} must come from a Secret`);
            assert.ok(e.valueFrom?.secretKeyRef.name);
          }
        }
        assert.equal(env.get('WEFTKIT_ENCRYPTION')?.value, 'aes-256-gcm');
        assert.equal(env.get('WEFTKIT_DATA_DIR')?.value, '/var/lib/weftkit');
      }
    }
    const [kv] = statefulSets(render(SCENARIOS['kv only, key file, password + mtls, no audit'] as Values));
    const env = envOf(kv as Manifest);
    assert.equal(env.get('WEFTKIT_KEY_FILE')?.value, '/etc/weftkit/key/kek');
    assert.equal(env.get('WEFTKIT_AUTH')?.value, 'password,mtls');
    assert.equal(env.get('WEFTKIT_MTLS_CA')?.value, '/etc/weftkit/tls/ca.crt');
    assert.equal(env.get('WEFTKIT_AUDIT')?.value, 'false');
    assert.deepEqual(
      podSpec(kv as Manifest).volumes.filter((v) => v.secret).map((v) => v.secret?.secretName),
      ['weftkit-users', 'weftkit-tls', 'weftkit-kek'],
    );
  });

  it('probes use the ops port; each engine has its PVC, Services, PDB and NetworkPolicy', () => {
    const manifests = render(SCENARIOS['jwt + mtls + tls, kms key, custom roles, monitoring, restricted network'] as Values);
    for (const ss of statefulSets(manifests)) {
      const engine = ss.metadata.name.replace('weftkit-', '');
      const c = podSpec(ss).containers[0] as Container;
      const ops = c.ports.find((p) => p.name === 'ops')?.containerPort;
      assert.equal(ops, engine === 'kv' ? 20005 : 20001);
      assert.deepEqual(c.livenessProbe.httpGet, { path: '/healthz', port: 'ops' });
      assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 'ops' });
      assert.deepEqual(c.startupProbe.httpGet, { path: '/healthz', port: 'ops' });
      const claims = (ss.spec as { volumeClaimTemplates: { metadata: { name: string } }[] }).volumeClaimTemplates.map((v) => v.metadata.name);
      assert.deepEqual(claims, ['data', 'audit']);
      const selector = (ss.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
      for (const kind of ['PodDisruptionBudget', 'NetworkPolicy']) {
        const m = manifests.find((x) => x.kind === kind && x.metadata.name === ss.metadata.name);
        assert.ok(m, `${kind} for ${engine}`);
        const sel = kind === 'NetworkPolicy' ? (m.spec as { podSelector: { matchLabels: object } }).podSelector : (m.spec as { selector: { matchLabels: object } }).selector;
        assert.deepEqual(sel.matchLabels, selector);
      }
      const svc = manifests.find((x) => x.kind === 'Service' && x.metadata.name === ss.metadata.name);
      assert.ok(svc);
      assert.deepEqual((svc.spec as { selector: object }).selector, selector);
      const np = manifests.find((x) => x.kind === 'NetworkPolicy' && x.metadata.name === ss.metadata.name);
      assert.ok(np);
      assert.deepEqual((np.spec as { policyTypes: string[] }).policyTypes, ['Ingress', 'Egress']);
    }
  });

  it('the roles ConfigMap holds a roles.yaml the kernel accepts, and the pod restarts when it changes', () => {
    const scenario = SCENARIOS['jwt + mtls + tls, kms key, custom roles, monitoring, restricted network'] as Values;
    for (const values of [MINIMAL, scenario]) {
      const cm = render(values).find((m) => m.kind === 'ConfigMap') as Manifest & { data: Record<string, string> };
      const text = cm.data['roles.yaml'] as string;
      const policy = parsePolicy(text, 'roles.yaml');
      assert.ok(policy);
    }
    const cm = render(scenario).find((m) => m.kind === 'ConfigMap') as Manifest & { data: Record<string, string> };
    assert.match(cm.data['roles.yaml'] as string, /analyst/);
    const checksum = (v: Values) => {
      const [ss] = statefulSets(render(v));
      assert.ok(ss);
      return (ss.spec as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata.annotations['checksum/roles'];
    };
    assert.notEqual(checksum(MINIMAL), checksum(scenario));
  });
});
