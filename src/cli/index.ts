/** Entry point of the CLI: `npm run bridge -- <command>` and the package's `bin`. */
import { runCli } from './program.ts';

await runCli(process.argv);
