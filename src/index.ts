// menagerie's public surface: the client, the framework and the protocol types users see.
// Recipes import only from here, so they run unchanged against Apache ZooKeeper.

export * from './protocol/index.js';
export * from './client/index.js';
export * from './framework/index.js';
export * from './observability/index.js';
