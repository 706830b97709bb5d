#!/usr/bin/env node
// The package's `bin`: loads the TypeScript CLI in this same process through tsx's loader
// (the project ships no build step), so signals reach the instance directly.
import { register } from 'tsx/esm/api';

register();
await import('./index.ts');
