// Every template in deploy/templates through every check: each template is its own test, so a
// failure names the template and lists its findings.
import { readdirSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadResourceSpec, type ResourceSpec } from '../src/resource-spec.ts';
import { loadTemplate } from '../src/template-file.ts';
import { validateTemplate } from '../src/validate-template.ts';

const templates = new URL('../templates/', import.meta.url);
const files = readdirSync(templates)
  .filter((file) => file.endsWith('.yaml'))
  .sort();

let spec: ResourceSpec;
beforeAll(async () => {
  spec = await loadResourceSpec();
}, 60_000);

describe('deploy/templates', () => {
  it('holds the five stacks of the deploy contract', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'batch.yaml',
        'clusters.yaml',
        'compile-farm.yaml',
        'fossa.yaml',
        'network.yaml',
      ]),
    );
  });

  it.each(files)('%s passes every check', (file) => {
    const findings = validateTemplate(file, loadTemplate(new URL(file, templates)), {
      spec,
      network: loadTemplate(new URL('network.yaml', templates)),
      readme: readFileSync(new URL('../README.md', import.meta.url), 'utf8'),
    });
    expect(findings.map((f) => `${f.path}: ${f.message}`)).toEqual([]);
  });
});
