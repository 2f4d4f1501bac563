#!/usr/bin/env node
// Launcher: the package ships TypeScript sources, run through tsx.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
