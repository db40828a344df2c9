#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx: no build step for a new user to remember.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/entry.ts');
