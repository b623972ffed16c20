#!/usr/bin/env node
// The nwd CLI. From a checkout, build first (`npm run build`), then `node bin/run.js ...`.
import {execute} from '@oclif/core';

await execute({dir: import.meta.url});
