/**
 * Printing for the CLI: `--json` output (one JSON document on stdout, nothing else there)
 * and compact aligned text tables for people. Secrets never reach these functions: callers
 * pass variable names, not values.
 */

/** Where a command writes; tests and commands may pass their own. */
export interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
}

export const processOutput: Output = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

/** One JSON document, 2-space indented, on its own line. */
export function printJson(output: Output, value: unknown): void {
  output.out(`${JSON.stringify(value, null, 2)}\n`);
}

export type Cell = string | number | boolean | null | undefined;

/**
 * Renders rows as columns separated by two spaces, padded to the widest cell; `undefined`
 * and `null` print as `-`. Cells are cut at `maxCellWidth` (default 60) so one long error
 * message does not wrap the whole table.
 */
export function formatTable(options: { headers: string[]; rows: Cell[][]; maxCellWidth?: number }): string {
  const maxCellWidth = options.maxCellWidth ?? 60;
  const text = (cell: Cell): string => {
    const value = cell === undefined || cell === null ? '-' : String(cell).replace(/\s+/g, ' ');
    return value.length > maxCellWidth ? `${value.slice(0, maxCellWidth - 1)}…` : value;
  };
  const lines = [options.headers.map((header) => header.toUpperCase()), ...options.rows.map((row) => row.map(text))];
  const widths = options.headers.map((_, column) => Math.max(...lines.map((line) => (line[column] ?? '').length)));
  return lines
    .map((line) => line.map((cell, column) => (column === line.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  ').trimEnd())
    .join('\n') + '\n';
}

/** `key  value` lines with the keys aligned (a two-column table without headers). */
export function formatPairs(pairs: Array<[string, Cell]>): string {
  const width = Math.max(0, ...pairs.map(([key]) => key.length));
  return pairs.map(([key, value]) => `${key.padEnd(width)}  ${value === undefined || value === null ? '-' : String(value)}`).join('\n') + '\n';
}
