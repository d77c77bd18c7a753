// Runs zk-cli from source (through tsx) for tests that need a real process, e.g. behind a pseudo-terminal.
import { main } from '../../../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
