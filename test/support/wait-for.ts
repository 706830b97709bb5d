/**
 * Polls until a condition holds, for effects that happen in the background (workers,
 * deliveries). Fails with `what` after `timeoutMs`; the bound is generous because CI is a
 * 2-core machine running other suites too.
 */
export async function waitFor(check: () => boolean | Promise<boolean>, options: { what?: string; timeoutMs?: number; intervalMs?: number } = {}): Promise<void> {
  const { what = 'condition', timeoutMs = 10_000, intervalMs = 10 } = options;
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
