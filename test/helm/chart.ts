// Renders helm/weftkit like `helm template` does: values.yaml deep-merged with overrides, every
// template except `_*.tpl` rendered with .Values/.Release/.Chart, output split into YAML documents.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { Renderer } from './go-template.js';

export const chartDir: string = new URL('../../helm/weftkit', import.meta.url).pathname;

export type Values = Record<string, unknown>;

export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { name: string; labels?: Record<string, string>; [k: string]: unknown };
  readonly spec?: Record<string, unknown>;
  readonly [k: string]: unknown;
  /** Template the document came from. */
  readonly source: string;
}

const isMap = (v: unknown): v is Values => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Helm's coalescing: maps merge, anything else (lists too) replaces; null removes a key. */
export function mergeValues(base: Values, over: Values): Values {
  const out: Values = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else if (isMap(v) && isMap(out[k])) out[k] = mergeValues(out[k] as Values, v);
    else out[k] = v;
  }
  return out;
}

export function defaultValues(): Values {
  return parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as Values;
}

export function templateFiles(): string[] {
  return readdirSync(join(chartDir, 'templates'))
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.tpl'))
    .sort();
}

export function templateSource(file: string): string {
  return readFileSync(join(chartDir, 'templates', file), 'utf8');
}

export function render(overrides: Values = {}, release = { Name: 'weftkit', Namespace: 'db' }): Manifest[] {
  const chart = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as Record<string, string>;
  const renderer = new Renderer();
  const parsed = templateFiles().map((file) => ({ file, nodes: renderer.parse(templateSource(file), file) }));
  const data = {
    Values: mergeValues(defaultValues(), overrides),
    Release: { ...release, Service: 'Helm', IsInstall: true, IsUpgrade: false, Revision: 1 },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
  };
  const manifests: Manifest[] = [];
  for (const { file, nodes } of parsed) {
    if (file.startsWith('_')) continue;
    const text = renderer.render(nodes, data);
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}\n${text}`);
      const value = doc.toJS() as Record<string, unknown> | null;
      if (value === null) continue;
      manifests.push({ ...(value as object), source: file } as Manifest);
    }
  }
  return manifests;
}
