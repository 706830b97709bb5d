/**
 * `tsx bench/delivery-only.ts`: only the delivery comparison of `npm run bench`
 * (bridge POST -> outbox -> Segment stand-in vs analytics-node alone), for quick A/B work.
 */
import { benchPlan } from './bench-config.ts';
import { measureDelivery } from './delivery.ts';

const delivery = await measureDelivery({ plan: benchPlan(), log: (line) => process.stderr.write(`${line}\n`) });
process.stdout.write(`${JSON.stringify(delivery, null, 2)}\n`);
