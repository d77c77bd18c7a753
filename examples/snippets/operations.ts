// The in-process server code shown in docs/operations.md and docs/getting-started.md, type-checked
// (never run here; examples/getting-started.ts is the runnable one).
import { loadZooCfg, startServer, startServerWithConfig } from '../../server/index.js';
import { TestingServer } from '../../server/testing/index.js';

export async function fromZooCfg(): Promise<void> {
  const { config, warnings } = await loadZooCfg('zoo.cfg');
  await using server = await startServerWithConfig(config); // durable when the config has a dataDir
  console.log(warnings, server.connectString);
}

export async function embedded(): Promise<void> {
  await using server = await startServer(); // loopback, a free port, data in memory
  console.log(server.connectString); // e.g. 127.0.0.1:40123
  await using testing = await TestingServer.start();
  testing.dropConnections();
}
