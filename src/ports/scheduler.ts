/**
 * Timers, injectable so tests drive the workers without waiting. `schedule` returns a
 * cancel function. The default adapter unrefs its timers: a pending retry never keeps the
 * process alive on its own.
 */
export interface Scheduler {
  schedule(callback: () => void, delayMs: number): () => void;
}

export const timerScheduler: Scheduler = {
  schedule(callback, delayMs) {
    const timer = setTimeout(callback, delayMs);
    timer.unref();
    return () => clearTimeout(timer);
  },
};
