// menagerie/server: the bundled ZooKeeper-compatible server.

export {};
