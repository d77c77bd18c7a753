#!/usr/bin/env node
// zk-server: starts the bundled server from a zoo.cfg (compiled code in dist/).
import { main } from '../dist/server/cli.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
