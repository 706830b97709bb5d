/**
 * Realistic Segment webhook traffic for the load generator: a track / identify / page mix
 * (65 / 20 / 15 %) over a population of users, shaped like the captured fixtures in
 * fixtures/segment (analytics.js context, page, user agent). Every message has a messageId
 * unique to the run, and each request is signed the way Segment signs it.
 */
import { createHmac } from 'node:crypto';

export interface SignedRequest {
  body: string;
  headers: Record<string, string>;
}

/** The userId of seeded profile number `index` (shared with seed-store.ts). */
export function benchUserId(index: number): string {
  return `user-${String(index).padStart(7, '0')}`;
}

const TRACK_EVENTS = ['Product Viewed', 'Report Exported', 'Invite Sent', 'Dashboard Opened', 'Plan Upgraded', 'Signed Up'] as const;
const PAGES = [
  { name: 'Pricing', path: '/pricing' },
  { name: 'Dashboard', path: '/app/dashboard' },
  { name: 'Settings', path: '/app/settings' },
] as const;
const PLANS = ['free', 'pro', 'enterprise'] as const;

const CONTEXT = {
  ip: '203.0.113.42',
  library: { name: 'analytics.js', version: 'next-1.70.0' },
  locale: 'en-US',
  userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36',
};

/**
 * Builds messages for users `0 .. users-1`, picked by a cheap deterministic PRNG so runs
 * are comparable. `runTag` keeps messageIds unique across runs against the same store.
 */
export class MessageFactory {
  readonly #users: number;
  readonly #runTag: string;
  #counter = 0;
  #seed: number;

  constructor(options: { users: number; runTag: string; seed?: number }) {
    this.#users = Math.max(1, options.users);
    this.#runTag = options.runTag;
    this.#seed = options.seed ?? 0x2545f491;
  }

  /** Messages built so far. */
  get count(): number {
    return this.#counter;
  }

  next(): Record<string, unknown> {
    this.#counter += 1;
    const roll = this.#random();
    const user = Math.floor(this.#random() * this.#users);
    const now = new Date().toISOString();
    const base = {
      messageId: `bench-${this.#runTag}-${this.#counter}`,
      userId: benchUserId(user),
      anonymousId: `anon-${user.toString(36)}-7c1e`,
      channel: 'client',
      context: CONTEXT,
      integrations: {},
      originalTimestamp: now,
      sentAt: now,
      receivedAt: now,
      timestamp: now,
      version: 2,
    };
    if (roll < 0.65) {
      const event = TRACK_EVENTS[Math.floor(this.#random() * TRACK_EVENTS.length)] ?? 'Product Viewed';
      return { ...base, type: 'track', event, properties: { plan: PLANS[user % 3], product_id: `sku-${user % 977}`, price: 49, currency: 'USD' } };
    }
    if (roll < 0.85) {
      return {
        ...base,
        type: 'identify',
        traits: { email: `${base.userId}@example.com`, plan: PLANS[Math.floor(this.#random() * 3)], company: { name: 'Acme Inc', id: `grp-${user % 101}` }, seats: 1 + (user % 40) },
      };
    }
    const page = PAGES[user % PAGES.length] ?? PAGES[0];
    return { ...base, type: 'page', name: page.name, properties: { path: page.path, url: `https://app.example.com${page.path}`, title: page.name } };
  }

  /** xorshift32 in [0, 1). */
  #random(): number {
    let x = this.#seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#seed = x >>> 0;
    return this.#seed / 0x1_0000_0000;
  }
}

/** One message, signed with `X-Signature` = hex HMAC-SHA1 of the exact body (Segment's scheme). */
export function signedSingle(factory: MessageFactory, secret: string): SignedRequest {
  const body = JSON.stringify(factory.next());
  const signature = createHmac('sha1', secret).update(body).digest('hex');
  return { body, headers: { 'content-type': 'application/json', 'x-signature': signature } };
}

/** An array body of `size` messages: Segment signs only element 0, so it carries the bearer token. */
export function bearerBatch(options: { factory: MessageFactory; secret: string; size: number }): SignedRequest {
  const items = Array.from({ length: options.size }, () => options.factory.next());
  return { body: JSON.stringify(items), headers: { 'content-type': 'application/json', authorization: `Bearer ${options.secret}` } };
}
