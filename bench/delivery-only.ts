/**
 * `tsx bench/delivery-only.ts`: only the delivery comparison of `npm run bench`
 * (bridge POST -> outbox -> Segment stand-in vs analytics-node alone), for quick A/B work.
 * `BENCH_DELIVERY_ROUNDS` / `BENCH_DELIVERY_EVENTS` override the plan's rounds and events
 * (e.g. one round while profiling).
 */
import { benchPlan } from './bench-config.ts';
import { measureDelivery } from './delivery.ts';

const plan = benchPlan();
const rounds = Number(process.env['BENCH_DELIVERY_ROUNDS'] ?? plan.deliveryRounds);
const events = Number(process.env['BENCH_DELIVERY_EVENTS'] ?? plan.deliveryEvents);
const delivery = await measureDelivery({ plan: { ...plan, deliveryRounds: rounds, deliveryEvents: events }, log: (line) => process.stderr.write(`${line}\n`) });
process.stdout.write(`${JSON.stringify(delivery, null, 2)}\n`);
