/**
 * Layering rules (STYLE A.3), enforced by the test suite: `src/domain/**` is pure. It may
 * import other domain modules, ajv (schemas), node:crypto (deterministic hashing) and
 * standardwebhooks (signing), and nothing that does I/O or reads the process.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

const ROOT = new URL('../src/', import.meta.url).pathname;
const DOMAIN_ALLOWED = new Set(['ajv', 'ajv-formats', 'node:crypto', 'standardwebhooks']);
const FORBIDDEN_EVERYWHERE_IN_DOMAIN = [/\bprocess\./, /\bDate\.now\(\)/, /\bsetTimeout\(/, /\bfetch\(/];

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((entry) => (entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : Promise.resolve(entry.name.endsWith('.ts') ? [join(dir, entry.name)] : []))));
  return nested.flat();
}

function importsOf(text: string): string[] {
  return [...text.matchAll(/^\s*(?:import|export)\b[^'";]*?from\s+['"]([^'"]+)['"]/gm)].map((match) => match[1] ?? '');
}

// ---
const domain = suite('src/domain is pure');

domain('imports only domain modules and the allowed packages', async () => {
  const problems: string[] = [];
  for (const file of await sourceFiles(join(ROOT, 'domain'))) {
    const text = await readFile(file, 'utf8');
    for (const specifier of importsOf(text)) {
      const isTypeOnly = new RegExp(`import type [^;]*['"]${specifier.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}['"]`).test(text);
      if (specifier.startsWith('./') || isTypeOnly || DOMAIN_ALLOWED.has(specifier)) continue;
      problems.push(`${file.slice(ROOT.length)} imports ${specifier}`);
    }
    for (const pattern of FORBIDDEN_EVERYWHERE_IN_DOMAIN) {
      if (pattern.test(text)) problems.push(`${file.slice(ROOT.length)} uses ${pattern.source}`);
    }
  }
  assert.equal(problems, []);
});

domain.run();

// ---
const layers = suite('layers');

layers('only src/main.ts and the CLI build adapters; http and services never import the CLI', async () => {
  const problems: string[] = [];
  for (const file of await sourceFiles(ROOT)) {
    const relative = file.slice(ROOT.length);
    const text = await readFile(file, 'utf8');
    for (const specifier of importsOf(text)) {
      if ((relative.startsWith('http/') || relative.startsWith('services/') || relative.startsWith('domain/')) && specifier.includes('/cli/')) {
        problems.push(`${relative} imports ${specifier}`);
      }
    }
  }
  assert.equal(problems, []);
});

layers.run();
