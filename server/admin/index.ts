// The HTTP AdminServer (Apache's /commands endpoints) and its commands.

export { AdminServer, jsonWithLongs, type AdminServerOptions } from './admin-server.js';
export { adminCommandNames, runAdminCommand } from './commands.js';
