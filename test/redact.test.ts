import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createRedactor } from '../src/config/redact.ts';

const SECRET = 'shared-secret-0123456789';

// ---
const Replace = suite('createRedactor: replaces secrets');

Replace('every occurrence of every secret', () => {
  const redact = createRedactor([SECRET, 'api-key-abcdef']);
  assert.is(redact(`a ${SECRET} b ${SECRET} c api-key-abcdef`), 'a [redacted] b [redacted] c [redacted]');
});

Replace('the forms secrets travel in: URL-encoded and Basic auth', () => {
  const secret = 'key with/slash+plus';
  const redact = createRedactor([secret]);
  const basic = Buffer.from(`${secret}:`).toString('base64');
  assert.is(redact(`?k=${encodeURIComponent(secret)} Authorization: Basic ${basic}`), '?k=[redacted] Authorization: Basic [redacted]');
});

Replace('regular-expression characters are taken literally', () => {
  const redact = createRedactor(['a.b*c(d)$']);
  assert.is(redact('x a.b*c(d)$ y aXbbc(d)$'), 'x [redacted] y aXbbc(d)$');
});

Replace('a secret containing another is replaced whole', () => {
  const redact = createRedactor(['abcdef', 'abcdef-ghijkl']);
  assert.is(redact('abcdef-ghijkl'), '[redacted]');
});

Replace.run();

// ---
const Keep = suite('createRedactor: leaves other text alone');

Keep('values shorter than 6 characters and empty lists', () => {
  assert.is(createRedactor(['abcde', ''])('abcde stays'), 'abcde stays');
  assert.is(createRedactor([])('nothing to hide'), 'nothing to hide');
});

Keep('text without secrets is unchanged', () => {
  assert.is(createRedactor([SECRET])('shared-secret-012345678 is not it'), 'shared-secret-012345678 is not it');
});

Keep.run();
