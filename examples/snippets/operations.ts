// The in-process server and ensemble code shown in docs/operations.md and docs/getting-started.md,
// type-checked (never run here; examples/getting-started.ts and examples/demo.ts are the runnable ones).
import {
  loadZooCfg, startEnsemble, startMemberFromConfig, startServer, startServerWithConfig,
} from '../../server/index.js';
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

export async function ensembleInProcess(): Promise<void> {
  const { config } = await loadZooCfg('zoo1.cfg'); // server.N lines, myid from dataDir
  await using member = await startMemberFromConfig(config);
  console.log(await member.serving()); // 'leader' | 'follower' | 'observer', once a quorum runs

  await using ensemble = await startEnsemble({ size: 3, transport: 'tcp' });
  const leader = await ensemble.settled(); // a leader serves, and every member
  await ensemble.stopMember(leader.myId); // the others elect a new leader
}
