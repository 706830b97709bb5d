/**
 * Builds a complete EnvConfig for tests without reading environment files: a temp data dir,
 * known secrets, and overrides.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EnvConfig, EnvSecrets } from '../../src/config/types.ts';

export const TEST_SECRETS = {
  sharedSecret: 'test-shared-secret-0123456789',
  apiKey: 'test-api-key-0123456789abcdef',
  writeKey: 'test-write-key-staging',
} as const;

export async function tempDir(prefix = 'sb-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function testConfig(overrides: Partial<Omit<EnvConfig, 'secrets'>> & { secrets?: Partial<EnvSecrets> } = {}): Promise<EnvConfig> {
  const { secrets, ...rest } = overrides;
  const dataDir = rest.dataDir ?? (await tempDir());
  return {
    name: 'staging',
    source: 'test',
    host: '127.0.0.1',
    port: 0,
    dataDir,
    publicUrl: 'http://127.0.0.1:0',
    segment: { region: 'us', host: 'http://127.0.0.1:9', flushAt: 15, flushIntervalMs: 50 },
    events: {},
    triggers: [],
    dedupeWindowDays: 7,
    bodyLimitBytes: 512 * 1024,
    historyLimit: 50,
    isProduction: false,
    ...rest,
    secrets: {
      writeKey: TEST_SECRETS.writeKey,
      sharedSecret: TEST_SECRETS.sharedSecret,
      apiKey: TEST_SECRETS.apiKey,
      webhookSecrets: {},
      ...secrets,
    },
  };
}
