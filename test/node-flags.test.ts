/**
 * Every launch path of a long-running instance passes INSTANCE_NODE_FLAGS to node: the
 * package.json scripts and the bin's shebang. A flag added to one place only would leave
 * `npm start` and `segment-bridge serve` running differently from what was benchmarked.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { INSTANCE_NODE_FLAGS } from '../src/cli/node-flags.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const LAUNCH_SCRIPTS = ['start', 'dev', 'bridge', 'cli'];

const flags = suite('instance node flags');

flags('the flag list is not empty (the memory-reducer pause is what it prevents)', () => {
  assert.ok(INSTANCE_NODE_FLAGS.includes('--no-memory-reducer'));
});

flags('every npm script that launches the CLI passes every flag before the entry point', async () => {
  const pkg = JSON.parse(await readFile(`${ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> };
  for (const name of LAUNCH_SCRIPTS) {
    const script = pkg.scripts[name] ?? '';
    const beforeEntry = script.split('src/cli/index.ts')[0] ?? '';
    assert.ok(script.includes('src/cli/index.ts'), `script ${name} does not launch src/cli/index.ts`);
    for (const flag of INSTANCE_NODE_FLAGS) assert.ok(beforeEntry.includes(` ${flag} `), `script ${name} lacks ${flag} before the entry point: ${script}`);
  }
});

flags('the bin passes every flag in its shebang, and node accepts them', async () => {
  const shebang = (await readFile(`${ROOT}src/cli/bin.js`, 'utf8')).split('\n')[0] ?? '';
  assert.ok(shebang.startsWith('#!/usr/bin/env -S node '), shebang);
  for (const flag of INSTANCE_NODE_FLAGS) assert.ok(shebang.split(' ').includes(flag), `bin shebang lacks ${flag}`);
  const { stdout } = await promisify(execFile)(process.execPath, [...INSTANCE_NODE_FLAGS, '-p', 'process.execArgv.join(" ")']);
  for (const flag of INSTANCE_NODE_FLAGS) assert.ok(stdout.trim().split(' ').includes(flag), `node did not take ${flag}: ${stdout}`);
});

flags.run();
