/**
 * Node (V8) flags every launch path of a long-running instance passes: the package.json
 * scripts (`npm start`, `npm run bridge`, `npm run cli`, `npm run dev`), the `segment-bridge`
 * bin's shebang, and the benchmarks' instance. test/node-flags.test.ts keeps them in step.
 *
 * `--no-memory-reducer`: when traffic drops after a burst, V8's memory reducer runs a
 * full mark-compact of the whole heap to hand memory back to the OS. With a store of 100k
 * profiles (a ~1 GB heap) that paused the event loop for ~0.5 s, and took the p99 of a
 * steady 1,000 req/s from 19 ms to 209 ms (bench/RESULTS.md). The heap still shrinks through
 * ordinary GCs; it is only the idle-time full collection that goes. V8 reads this flag when
 * it sets up the heap, so it cannot be set from code, and NODE_OPTIONS does not accept it.
 */
export const INSTANCE_NODE_FLAGS: readonly string[] = ['--no-memory-reducer'];
