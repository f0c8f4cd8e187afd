#!/usr/bin/env node
// The on-device CLI of keras-nlpkit in TypeScript (built into ../dist by `npm run build`).
import {main} from '../dist/cli.js';

process.exitCode = await main(process.argv.slice(2));
