// Service registry: an HTTP service registers itself (host, port) under /services; a client discovers
// it through a ServiceProvider and calls it. The instance is ephemeral: it goes when its session does.
//
//   node --import tsx examples/service-registry.ts [host:port]
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { ServiceDiscovery } from '../recipes/index.js';
import { ensemble } from './support.js';

await using zk = await ensemble();

// The service: a tiny HTTP server on a free port, registered as 'greeter'.
const http = createServer((_request, response) => response.end('hello from greeter\n'));
http.listen(0, '127.0.0.1');
await once(http, 'listening');
const { port } = http.address() as AddressInfo;
await using registry = new ServiceDiscovery(await zk.connect(), { basePath: '/examples/services' });
const registered = await registry.register({ name: 'greeter', address: '127.0.0.1', port });
console.log(`registered greeter ${registered.id} at 127.0.0.1:${port}`);

// The client, in another session: discover an instance and call it.
await using discovery = new ServiceDiscovery(await zk.connect(), { basePath: '/examples/services' });
await using provider = await discovery.provider('greeter', { strategy: 'round-robin' });
const instance = provider.getInstance();
if (instance === undefined) throw new Error('no greeter instance found');
const response = await fetch(`http://${instance.address}:${instance.port}/`);
console.log(`client called ${instance.address}:${instance.port}: ${(await response.text()).trim()}`);

// The service goes away: it unregisters, and a fresh listing no longer shows it.
await registry.unregister(registered);
console.log(`after unregister: ${(await discovery.instances('greeter')).length} greeter instances`);
http.close();
await once(http, 'close');
