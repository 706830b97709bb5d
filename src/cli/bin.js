#!/usr/bin/env -S node --no-memory-reducer
// Node flags: see src/cli/node-flags.ts (env -S splits them; GNU coreutils 8.30+, macOS, BSD).
// The package's `bin`: loads the TypeScript CLI in this same process through tsx's loader
// (the project ships no build step), so signals reach the instance directly.
import { register } from 'tsx/esm/api';

register();
await import('./index.ts');
