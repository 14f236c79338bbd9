#!/usr/bin/env node
import { createRequire } from 'node:module';
import { Command } from 'commander';

// dist/bin.js -> ../package.json is this package's manifest, also when installed.
const require = createRequire(import.meta.url);
const { version } = require('../package.json') as { version: string };

const program = new Command()
  .name('kapspec')
  .description('Author, check, compile and simulate KAP session protocols')
  .version(version, '-V, --version', 'print the kapspec version');

await program.parseAsync(process.argv);
