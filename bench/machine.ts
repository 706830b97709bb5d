/** The machine a run happened on, for the report. */
import { readFile } from 'node:fs/promises';
import os from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  /** 1-minute load average when asked: other work on the machine skews a benchmark. */
  loadAverage: number;
}

export async function machineInfo(): Promise<MachineInfo> {
  return {
    cpuModel: await cpuModel(),
    cores: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadAverage: currentLoadAverage(),
  };
}

export function currentLoadAverage(): number {
  return Math.round((os.loadavg()[0] ?? 0) * 100) / 100;
}

async function cpuModel(): Promise<string> {
  try {
    const text = await readFile('/proc/cpuinfo', 'utf8');
    return /^model name\s*:\s*(.+)$/m.exec(text)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
}
