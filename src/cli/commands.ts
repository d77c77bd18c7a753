// Every zk-cli command as data: its name, options, usage text and handler, in one table. The
// handlers mirror zkCli.sh 3.8 (what they call, what they print, on which stream); the shell
// (shell.ts) parses a line, checks the session and calls them. Formatting lives in format.ts,
// the quota commands in quota-commands.ts.

import { readFile } from 'node:fs/promises';
import { Acls, op, type ZooKeeperClient } from '../client/index.js';
import { ErrorCode, KeeperError, TTL_MAX_MS, type ACL } from '../protocol/index.js';
import {
  checkPathJava,
  childPath,
  flag,
  parseJavaInt,
  usageOf,
  valued,
  type CommandContext,
  type CommandSpec,
} from './command-kit.js';
import { CommandError, ExitCode } from './errors.js';
import {
  cliErrorMessage,
  formatAcl,
  formatChildren,
  formatStat,
  javaCompare,
  javaKeeperMessage,
  javaList,
  parseAcl,
} from './format.js';
import { delQuotaCommand, listQuotaCommand, setQuotaCommand } from './quota-commands.js';
import { recipeCommands } from './recipe-commands.js';
import type { ParsedWords } from './words.js';

export { usageOf, type CommandContext, type CommandSpec, type ShellControl } from './command-kit.js';

function versionOption(parsed: ParsedWords): number {
  const text = parsed.options.get('v');
  return typeof text === 'string' ? parseJavaInt(text, '-v argument') : -1;
}

function aclArgument(text: string, context: CommandContext): ACL[] {
  const { acl, warnings } = parseAcl(text);
  for (const warning of warnings) context.err(`${warning}\n`);
  return acl;
}

/** ZKUtil.visitSubTreeDFS: the root, then each level's sorted children before descending. */
async function visitSubtree(
  context: CommandContext,
  root: string,
  watch: boolean,
  visit: (path: string) => Promise<void> | void,
): Promise<void> {
  checkPathJava(root);
  await context.client.getData(root, { watch: watch ? context.watcher() : undefined });
  await visit(root);
  const descend = async (path: string): Promise<void> => {
    let children: string[];
    try {
      const options = { watch: watch ? context.watcher() : undefined };
      ({ children } = await context.client.getChildren(path, options));
    } catch (error) {
      if (error instanceof KeeperError && error.code === ErrorCode.NO_NODE) return;
      throw error;
    }
    const paths = children.sort(javaCompare).map((child) => childPath(path, child));
    for (const child of paths) await visit(child);
    for (const child of paths) await descend(child);
  };
  await descend(root);
}

/** ZKUtil.listSubTreeBFS: the root and every descendant, breadth first. */
async function listSubtree(client: ZooKeeperClient, root: string): Promise<string[]> {
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    const node = tree[i]!;
    const { children } = await client.getChildren(node);
    for (const child of children) tree.push(childPath(node, child));
  }
  return tree;
}

const createCommand: CommandSpec = {
  name: 'create',
  usage: '[-s] [-e] [-c] [-t ttl] path [data] [acl]',
  options: [flag('e', 'ephemeral'), flag('s', 'sequential'), flag('c', 'container'), valued('t', 'ttl')],
  minWords: 2,
  async run(context, { options, args }) {
    const [ephemeral, sequential, container] = ['e', 's', 'c'].map((name) => options.has(name));
    const ttlText = options.get('t');
    if (container && (ephemeral || sequential)) {
      throw new CommandError(
        '-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.',
        ExitCode.USAGE,
      );
    }
    let ttlMs: bigint | undefined;
    if (typeof ttlText === 'string') {
      if (!/^[+-]?\d+$/.test(ttlText)) {
        throw new CommandError('-t argument must be a long value', ExitCode.USAGE);
      }
      ttlMs = BigInt(ttlText);
      if (ephemeral) throw new CommandError('TTLs cannot be used with Ephemeral znodes', ExitCode.USAGE);
      if (container) throw new CommandError('TTLs cannot be used with Container znodes', ExitCode.USAGE);
      if (ttlMs <= 0n || ttlMs > TTL_MAX_MS) {
        const message = `ttl must be positive and cannot be larger than: ${TTL_MAX_MS}`;
        throw new CommandError(message, ExitCode.USAGE);
      }
    }
    const mode =
      ephemeral && sequential
        ? 'EPHEMERAL_SEQUENTIAL'
        : ephemeral
          ? 'EPHEMERAL'
          : sequential
            ? ttlMs === undefined
              ? 'PERSISTENT_SEQUENTIAL'
              : 'PERSISTENT_SEQUENTIAL_WITH_TTL'
            : container
              ? 'CONTAINER'
              : ttlMs === undefined
                ? 'PERSISTENT'
                : 'PERSISTENT_WITH_TTL';
    const path = args[1]!;
    checkPathJava(path, sequential);
    const acl = args.length > 3 ? aclArgument(args[3]!, context) : Acls.OPEN_ACL_UNSAFE;
    if (acl.length === 0) {
      context.err(`${javaKeeperMessage(ErrorCode.INVALID_ACL, undefined)}\n`);
      throw new CommandError('Acl is not valid : null');
    }
    try {
      const created = await context.client.create(path, args[2] ?? null, {
        mode,
        acl,
        ttlMs: ttlMs === undefined ? undefined : Number(ttlMs),
        signal: context.signal,
      });
      context.err(`Created ${created.path}\n`);
    } catch (error) {
      if (error instanceof KeeperError && error.code === ErrorCode.INVALID_ACL) {
        context.err(`${javaKeeperMessage(error.code, error.path)}\n`);
      } else if (error instanceof KeeperError && error.code === ErrorCode.EPHEMERAL_ON_LOCAL_SESSION) {
        context.err('Unable to create ephemeral node on a local session\n');
      }
      throw error;
    }
  },
};

const lsOptions = [flag('?', 'help'), flag('s', 'stat'), flag('w', 'watch'), flag('R', 'recurse')];

const lsCommand: CommandSpec = {
  name: 'ls',
  usage: '[-s] [-w] [-R] path',
  options: lsOptions,
  legacyWatchWord: "'ls path [watch]' has been deprecated. Please use 'ls [-w] path' instead.",
  async run(context, { options, args }) {
    if (options.has('?')) {
      context.out(
        'usage: ls [options] path\n' +
          lsOptions
            .slice()
            .sort((a, b) => javaCompare(a.name.toLowerCase(), b.name.toLowerCase()))
            .map((o) => ` -${o.name}   ${o.description}\n`)
            .join(''),
      );
    }
    if (args.length < 2) throw new CommandError(usageOf(lsCommand), ExitCode.USAGE);
    const path = args[1]!;
    const watch = options.has('w');
    if (options.has('R')) {
      await visitSubtree(context, path, watch, (visited) => context.out(`${visited}\n`));
      return;
    }
    checkPathJava(path);
    const withStat = options.has('s');
    const result = await context.client.getChildren(path, {
      withStat,
      watch: watch ? context.watcher() : undefined,
      signal: context.signal,
    });
    context.out(formatChildren(result.children));
    if (withStat && result.stat !== undefined) context.out(formatStat(result.stat, context.timeZone));
  },
};

const getCommand: CommandSpec = {
  name: 'get',
  usage: '[-s] [-w] path',
  options: [flag('s', 'stats'), flag('w', 'watch')],
  minWords: 2,
  legacyWatchWord: "'get path [watch]' has been deprecated. Please use 'get [-s] [-w] path' instead.",
  async run(context, { options, args }) {
    const path = args[1]!;
    checkPathJava(path);
    const watch = options.has('w') ? context.watcher() : undefined;
    const { data, stat } = await context.client.getData(path, { watch, signal: context.signal });
    // zkCli 3.8 prints null data as "null" and empty data as an empty line.
    context.out(`${data === null ? 'null' : data.toString('utf8')}\n`);
    if (options.has('s')) context.out(formatStat(stat, context.timeZone));
  },
};

const setCommand: CommandSpec = {
  name: 'set',
  usage: '[-s] [-v version] path data',
  options: [flag('s', 'stats'), valued('v', 'version')],
  minWords: 3,
  async run(context, { options, args }) {
    const path = args[1]!;
    const version = versionOption({ options, args });
    checkPathJava(path);
    const stat = await context.client.setData(path, args[2]!, { version, signal: context.signal });
    if (options.has('s')) context.out(formatStat(stat, context.timeZone));
  },
};

const statCommand: CommandSpec = {
  name: 'stat',
  usage: '[-w] path',
  options: [flag('w', 'watch')],
  minWords: 2,
  legacyWatchWord: "'stat path [watch]' has been deprecated. Please use 'stat [-w] path' instead.",
  async run(context, { options, args }) {
    const path = args[1]!;
    checkPathJava(path);
    const watch = options.has('w') ? context.watcher() : undefined;
    const stat = await context.client.exists(path, { watch, signal: context.signal });
    if (stat === null) throw KeeperError.from(ErrorCode.NO_NODE, { path });
    context.out(formatStat(stat, context.timeZone));
  },
};

const deleteCommand: CommandSpec = {
  name: 'delete',
  usage: '[-v version] path',
  options: [valued('v', 'version')],
  minWords: 2,
  async run(context, parsed) {
    if (parsed.args.length > 2) {
      context.err(
        "'delete path [version]' has been deprecated. Please use 'delete [-v version] path' instead.\n",
      );
    }
    const path = parsed.args[1]!;
    const version = versionOption(parsed);
    checkPathJava(path);
    await context.client.delete(path, { version, signal: context.signal });
  },
};

const deleteAllCommand: CommandSpec = {
  name: 'deleteall',
  usage: 'path [-b batch size]',
  options: [valued('b', 'batch size')],
  minWords: 2,
  async run(context, { options, args }) {
    const batchText = options.get('b');
    const batchSize = typeof batchText === 'string' ? parseJavaInt(batchText, '-b argument') : 1000;
    const path = args[1]!;
    checkPathJava(path);
    const tree = await listSubtree(context.client, path);
    let failed = false;
    // Leaves first, the root last, in multis of batchSize deletes.
    for (let end = tree.length; end > 0 && !failed; end -= Math.max(1, batchSize)) {
      const batch = tree.slice(Math.max(0, end - Math.max(1, batchSize)), end).reverse();
      try {
        await context.client.multi(batch.map((node) => op.delete(node)), { signal: context.signal });
      } catch (error) {
        if (!(error instanceof KeeperError)) throw error;
        failed = true;
      }
    }
    if (failed) throw new CommandError('Failed to delete some node(s) in the subtree!');
  },
};

const getAclCommand: CommandSpec = {
  name: 'getAcl',
  usage: '[-s] path',
  options: [flag('s', 'stats')],
  minWords: 2,
  async run(context, { options, args }) {
    const path = args[1]!;
    checkPathJava(path);
    const { acl, stat } = await context.client.getACL(path, { signal: context.signal });
    context.out(formatAcl(acl));
    if (options.has('s')) context.out(formatStat(stat, context.timeZone));
  },
};

const setAclCommand: CommandSpec = {
  name: 'setAcl',
  usage: '[-s] [-v version] [-R] path acl',
  options: [flag('s', 'stats'), valued('v', 'version'), flag('R', 'recursive')],
  minWords: 3,
  async run(context, parsed) {
    const { options, args } = parsed;
    const path = args[1]!;
    const acl = aclArgument(args[2]!, context);
    const version = versionOption(parsed);
    if (acl.length === 0) throw new CommandError('Acl is not valid : null');
    if (options.has('R')) {
      await visitSubtree(context, path, false, async (node) => {
        try {
          await context.client.setACL(node, acl, { version, signal: context.signal });
        } catch (error) {
          if (!(error instanceof KeeperError)) throw error;
          context.out(javaKeeperMessage(error.code, error.path));
        }
      });
      return;
    }
    checkPathJava(path);
    const stat = await context.client.setACL(path, acl, { version, signal: context.signal });
    if (options.has('s')) context.out(formatStat(stat, context.timeZone));
  },
};

const syncCommand: CommandSpec = {
  name: 'sync',
  usage: 'path',
  minWords: 2,
  async run(context, { args }) {
    const path = args[1]!;
    checkPathJava(path);
    try {
      await context.client.sync(path, { signal: context.signal });
      context.out('Sync is OK\n');
    } catch (error) {
      if (!(error instanceof KeeperError) || error.code === ErrorCode.CONNECTION_LOSS) throw error;
      context.out(`Sync has failed. rc=${error.code}\n`);
      throw new CommandError(cliErrorMessage(error));
    }
  },
};

const addAuthCommand: CommandSpec = {
  name: 'addauth',
  usage: 'scheme auth',
  minWords: 2,
  async run(context, { args }) {
    try {
      await context.client.addAuth(args[1]!, args[2] ?? Buffer.alloc(0), { signal: context.signal });
    } catch (error) {
      // A refused credential ends the session; the watcher prints state:AuthFailed, as in Java.
      if (error instanceof KeeperError && error.code === ErrorCode.AUTH_FAILED) return;
      throw error;
    }
  },
};

const addWatchModes = ['PERSISTENT', 'PERSISTENT_RECURSIVE'] as const;

const addWatchCommand: CommandSpec = {
  name: 'addWatch',
  usage:
    `[-m mode] path # optional mode is one of [${addWatchModes.join(', ')}] - default is ` +
    'PERSISTENT_RECURSIVE',
  options: [valued('m', '')],
  async run(context, { options, args }) {
    if (args.length !== 2) throw new CommandError(usageOf(addWatchCommand), ExitCode.USAGE);
    const modeText = options.get('m');
    const modeName = typeof modeText === 'string' ? modeText.toUpperCase() : 'PERSISTENT_RECURSIVE';
    if (!(addWatchModes as readonly string[]).includes(modeName)) {
      throw new CommandError(usageOf(addWatchCommand), ExitCode.USAGE);
    }
    const path = args[1]!;
    checkPathJava(path);
    await context.client.addWatch(path, {
      mode: modeName === 'PERSISTENT' ? 'persistent' : 'persistentRecursive',
      listener: context.watcher(),
      signal: context.signal,
    });
  },
};

const removeWatchesCommand: CommandSpec = {
  name: 'removewatches',
  usage: 'path [-c|-d|-a] [-l]',
  options: [
    flag('c', 'child watcher type'),
    flag('d', 'data watcher type'),
    flag('a', 'any watcher type'),
    flag('l', 'remove locally when there is no server connection'),
  ],
  minWords: 2,
  async run(context, { options, args }) {
    const path = args[1]!;
    checkPathJava(path);
    const type = options.has('c') ? 'children' : options.has('d') ? 'data' : 'any';
    await context.client.removeWatches(path, type, { local: options.has('l'), signal: context.signal });
  },
};

const getEphemeralsCommand: CommandSpec = {
  name: 'getEphemerals',
  usage: 'path',
  async run(context, { args }) {
    const path = args[1] ?? '/';
    checkPathJava(path);
    const ephemerals = await context.client.getEphemerals(path, { signal: context.signal });
    context.out(`${javaList(ephemerals)}\n`);
  },
};

const getAllChildrenNumberCommand: CommandSpec = {
  name: 'getAllChildrenNumber',
  usage: 'path',
  async run(context, { args }) {
    if (args.length < 2) throw new CommandError(usageOf(getAllChildrenNumberCommand), ExitCode.USAGE);
    const path = args[1]!;
    checkPathJava(path);
    context.out(`${await context.client.getAllChildrenNumber(path, { signal: context.signal })}\n`);
  },
};

const whoAmICommand: CommandSpec = {
  name: 'whoami',
  usage: '',
  async run(context) {
    const identities = await context.client.whoAmI({ signal: context.signal });
    context.out('Auth scheme: User\n');
    for (const identity of identities) context.out(`${identity.authScheme}: ${identity.user}\n`);
  },
};

/** ConfigUtils.getClientConfigStr: the config version, a space, the members' client addresses. */
export function clientConfigString(config: string): string {
  let version = '';
  const addresses: string[] = [];
  for (const line of config.split('\n')) {
    const [key, value] = [line.slice(0, line.indexOf('=')).trim(), line.slice(line.indexOf('=') + 1).trim()];
    if (key === 'version') version = value;
    if (!key.startsWith('server.') || !value.includes(';')) continue;
    if (/:observer(;|$)/.test(value.split(';')[0]!)) continue;
    const client = value.slice(value.indexOf(';') + 1);
    addresses.push(client.includes(':') ? client : `0.0.0.0:${client}`);
  }
  return `${version} ${addresses.join(',')}`;
}

const configCommand: CommandSpec = {
  name: 'config',
  usage: '[-c] [-w] [-s]',
  options: [flag('s', 'stats'), flag('w', 'watch'), flag('c', 'client connection string')],
  async run(context, { options }) {
    const watch = options.has('w') ? context.watcher() : undefined;
    const { data, stat } = await context.client.getConfig({ watch, signal: context.signal });
    const text = data?.toString('utf8') ?? '';
    context.out(`${options.has('c') ? clientConfigString(text) : text}\n`);
    if (options.has('s')) context.out(formatStat(stat, context.timeZone));
  },
};

const reconfigCommand: CommandSpec = {
  name: 'reconfig',
  usage:
    '[-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;port3[,...]*]] | ' +
    '[-add serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]',
  options: [
    flag('s', 'stats'),
    valued('v', 'required current config version'),
    valued('file', 'path of config file to parse for membership'),
    valued('members', 'comma-separated list of config strings for non-incremental reconfig'),
    valued('add', 'comma-separated list of config strings for new servers'),
    valued('remove', 'comma-separated list of server IDs to remove'),
  ],
  async run(context, { options }) {
    const get = (name: string) => {
      const value = options.get(name);
      return typeof value === 'string' ? value : undefined;
    };
    const nonIncremental = options.has('file') || options.has('members');
    const incremental = options.has('add') || options.has('remove');
    if (!nonIncremental && !incremental) throw new CommandError(usageOf(reconfigCommand), ExitCode.USAGE);
    let fromConfig = -1n;
    const versionText = get('v');
    if (versionText !== undefined) {
      if (!/^[+-]?[0-9a-fA-F]+$/.test(versionText)) {
        throw new CommandError('-v must be followed by a long (configuration version)', ExitCode.USAGE);
      }
      fromConfig = BigInt.asIntN(64, BigInt(`0x${versionText.replace(/^\+/, '')}`));
    }
    if (nonIncremental && incremental) {
      throw new CommandError(
        "Can't use -file or -members together with -add or -remove (mixing incremental and " +
          'non-incremental modes is not allowed)',
        ExitCode.USAGE,
      );
    }
    if (options.has('file') && options.has('members')) {
      throw new CommandError(
        "Can't use -file and -members together (conflicting non-incremental modes)",
        ExitCode.USAGE,
      );
    }
    let members = get('members')?.toLowerCase();
    const file = get('file');
    if (file !== undefined) {
      try {
        const lines = (await readFile(file, 'utf8')).split('\n').map((line) => line.trim());
        members = lines.filter((line) => line.startsWith('server.')).join(',');
      } catch (error) {
        throw new CommandError(`Error processing ${file}${(error as Error).message}`, ExitCode.USAGE);
      }
    }
    const result = await context.client
      .reconfig({
        joining: get('add')?.toLowerCase(),
        leaving: get('remove')?.toLowerCase(),
        newMembers: members,
        fromConfig,
        signal: context.signal,
      })
      .catch((error: unknown) => {
        // Java's reconfig errors name no path.
        if (error instanceof KeeperError) throw KeeperError.from(error.code);
        throw error;
      });
    context.out(`Committed new configuration:\n${result.data?.toString('utf8') ?? ''}\n`);
    if (options.has('s')) context.out(formatStat(result.stat, context.timeZone));
  },
};

const versionCommand: CommandSpec = {
  name: 'version',
  usage: '',
  async run(context, { args }) {
    if (args.length > 1) throw new CommandError(usageOf(versionCommand), ExitCode.USAGE);
    context.out(`ZooKeeper CLI version: ${context.shell.version}\n`);
  },
};

const closeCommand: CommandSpec = {
  name: 'close',
  usage: '',
  async run(context) {
    await context.shell.close();
  },
};

// ----- the shell's own commands: they run whether or not a session is up -----

const shellCommands: CommandSpec[] = [
  {
    name: 'connect',
    usage: 'host:port',
    local: true,
    async run(context, { args }) {
      await context.shell.connect(args[1]);
    },
  },
  {
    name: 'history',
    usage: '',
    local: true,
    async run(context) {
      for (const line of context.shell.historyLines()) context.out(`${line}\n`);
    },
  },
  {
    name: 'redo',
    usage: 'cmdno',
    local: true,
    async run(context, { args }) {
      if (args.length < 2) return;
      const index = Number(args[1]);
      if (!Number.isInteger(index)) throw new CommandError(`For input string: "${args[1]}"`, ExitCode.USAGE);
      await context.shell.redo(index);
    },
  },
  {
    name: 'printwatches',
    usage: 'on|off',
    local: true,
    async run(context, { args }) {
      if (args.length === 1) context.out(`printwatches is ${context.shell.printWatches ? 'on' : 'off'}\n`);
      else context.shell.printWatches = args[1] === 'on';
    },
  },
  {
    name: 'quit',
    usage: '',
    local: true,
    async run(context) {
      await context.shell.quit();
    },
  },
];

/** The command table: every command zkCli.sh 3.8 knows, and our introspection commands. */
export const commands: ReadonlyMap<string, CommandSpec> = new Map(
  [
    ...shellCommands,
    closeCommand,
    createCommand,
    deleteCommand,
    deleteAllCommand,
    setCommand,
    getCommand,
    lsCommand,
    getAclCommand,
    setAclCommand,
    statCommand,
    syncCommand,
    setQuotaCommand,
    listQuotaCommand,
    delQuotaCommand,
    addAuthCommand,
    reconfigCommand,
    configCommand,
    removeWatchesCommand,
    getEphemeralsCommand,
    getAllChildrenNumberCommand,
    versionCommand,
    addWatchCommand,
    whoAmICommand,
    ...recipeCommands,
  ].map((spec) => [spec.name, spec]),
);

/** Command names in Java's sorted order (upper case before lower), as usage and completion list them. */
export function commandNames(): string[] {
  return [...commands.keys()].sort(javaCompare);
}

/** The usage block zkCli.sh prints on stderr for an unknown or empty command (its commands only). */
export function usageText(): string {
  const zkCliNames = commandNames().filter((name) => commands.get(name)!.extension !== true);
  const lines = zkCliNames.map((name) => `\t${usageOf(commands.get(name)!)}`);
  return `ZooKeeper -server host:port -client-configuration properties-file cmd args\n${lines.join('\n')}\n`;
}
