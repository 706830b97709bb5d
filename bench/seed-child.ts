/**
 * Seeds a store in a process of its own (see seedInChild in seed-store.ts):
 *
 *   node --import tsx bench/seed-child.ts <dataDir> <users>   -> prints the SeedResult as JSON
 */
import { seedStore } from './seed-store.ts';

const [dataDir, users] = process.argv.slice(2);
if (dataDir === undefined || users === undefined || !(Number(users) >= 0)) throw new Error('usage: seed-child.ts <dataDir> <users>');
process.stdout.write(`${JSON.stringify(await seedStore({ dataDir, users: Number(users) }))}\n`);
