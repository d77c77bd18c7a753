// Our server in a process of its own for the server benchmarks (so start time and RSS are measured
// as for Apache's JVM): `node --import tsx our-server-child.ts zoo.cfg`. It takes the zoo.cfg path the
// way zk-server start-foreground does when the server exports that path, else startServer() with the
// port and dataDir from the file. It runs until killed.
import { readFile } from 'node:fs/promises';

interface ServerModule {
  startServer?: (options: Record<string, unknown>) => Promise<unknown>;
  loadZooCfg?: (file: string) => Promise<{ config: unknown }>;
  startServerWithConfig?: (config: unknown) => Promise<unknown>;
}

const configFile = process.argv[2];
if (configFile === undefined) throw new Error('usage: our-server-child.ts zoo.cfg');
const server = (await import('../server/index.js')) as ServerModule;
if (server.loadZooCfg !== undefined && server.startServerWithConfig !== undefined) {
  const { config } = await server.loadZooCfg(configFile);
  await server.startServerWithConfig(config);
} else if (server.startServer !== undefined) {
  const lines = (await readFile(configFile, 'utf8')).split('\n');
  const entries = lines.filter((l) => l.includes('=')).map((l) => l.split('=', 2) as [string, string]);
  const cfg = Object.fromEntries(entries);
  await server.startServer({
    clientPort: Number(cfg.clientPort),
    clientPortAddress: cfg.clientPortAddress,
    dataDir: cfg.dataDir,
  });
} else {
  throw new Error('server/index.ts exports no startServer yet');
}
