// setquota, listquota and delquota: quota records under /zookeeper/quota, laid out, checked and
// worded as zkCli.sh 3.8 does (the server reads the same nodes to enforce and count).

import type { ZooKeeperClient } from '../client/index.js';
import { ErrorCode, KeeperError, QUOTA_PATH } from '../protocol/index.js';
import { checkPathJava, flag, valued, type CommandContext, type CommandSpec } from './command-kit.js';
import { CommandError, ExitCode } from './errors.js';
import { formatStatsTrack, parseStatsTrack } from './format.js';

const LIMIT_NODE = 'zookeeper_limits';
const STAT_NODE = 'zookeeper_stats';

async function createIfMissing(client: ZooKeeperClient, path: string, data: string | null): Promise<boolean> {
  try {
    await client.create(path, data);
    return true;
  } catch (error) {
    if (error instanceof KeeperError && error.code === ErrorCode.NODE_EXISTS) return false;
    throw error;
  }
}

function warnQuotaBelowUsage(
  context: CommandContext,
  quota: Map<string, bigint>,
  usage: Map<string, bigint>,
): void {
  const get = (stats: Map<string, bigint>, key: string) => stats.get(key) ?? -1n;
  const below = (limit: bigint, used: bigint) => limit > -1n && limit < used;
  const count = get(usage, 'count');
  if (below(get(quota, 'count'), count) || below(get(quota, 'countHardLimit'), count)) {
    context.out(`[Warning]: the count quota you create is less than the existing count:${count}\n`);
  }
  const bytes = get(usage, 'bytes');
  if (below(get(quota, 'bytes'), bytes) || below(get(quota, 'byteHardLimit'), bytes)) {
    context.out(`[Warning]: the bytes quota you create is less than the existing bytes:${bytes}\n`);
  }
}

/** Refuses a quota when an ancestor or a descendant of `path` already has one (as zkCli.sh does). */
async function checkNestedQuotas(client: ZooKeeperClient, path: string): Promise<void> {
  const segments = path.split('/').slice(1);
  for (let i = 1; i < segments.length; i++) {
    const ancestor = `/${segments.slice(0, i).join('/')}`;
    const children = await client.getChildren(QUOTA_PATH + ancestor).then(
      (r) => r.children,
      () => undefined,
    );
    if (children === undefined || children.length === 0) return;
    if (children.includes(LIMIT_NODE)) {
      throw new CommandError(`${path} has a parent ${ancestor} which has a quota`, ExitCode.FAILED);
    }
  }
  const root = QUOTA_PATH + path;
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const children = await client.getChildren(node).then(
      (r) => r.children,
      () => [] as string[],
    );
    if (node !== root && children.includes(LIMIT_NODE)) {
      throw new CommandError(`${path} has a child ${node.slice(QUOTA_PATH.length)} which has a quota`);
    }
    for (const child of children) stack.push(`${node}/${child}`);
  }
}

const quotaLimitFlags = [
  ['n', 'count', 'num soft quota'],
  ['b', 'bytes', 'bytes soft quota'],
  ['N', 'countHardLimit', 'num hard quota'],
  ['B', 'byteHardLimit', 'bytes hard quota'],
] as const;

export const setQuotaCommand: CommandSpec = {
  name: 'setquota',
  usage: '-n|-b|-N|-B val path',
  options: quotaLimitFlags.map(([name, , description]) => valued(name, description)),
  groups: [{ names: ['n', 'b', 'N', 'B'], required: true }],
  minWords: 2,
  async run(context, { options, args }) {
    const path = args[1]!;
    if (path.startsWith(QUOTA_PATH)) {
      context.err(`cannot set a quota under the path: ${QUOTA_PATH}\n`);
      return;
    }
    const wanted = new Map<string, bigint>();
    for (const [name, key] of quotaLimitFlags) {
      const text = options.get(name);
      if (typeof text !== 'string') continue;
      if (!/^[+-]?\d+$/.test(text)) {
        throw new CommandError('NumberFormatException happens when parsing the option value');
      }
      const value = BigInt(text);
      const isCount = key === 'count' || key === 'countHardLimit';
      if (isCount ? value <= 0n : value < 0n) {
        throw new CommandError(
          isCount
            ? 'the num quota must be greater than zero'
            : 'the bytes quota must be greater than or equal to zero',
        );
      }
      wanted.set(key, value);
    }
    checkPathJava(path);
    const client = context.client;
    if ((await client.exists(path)) === null) {
      throw new CommandError(`${path} does not exist.`, ExitCode.USAGE);
    }
    await checkNestedQuotas(client, path);
    let quotaPath = QUOTA_PATH;
    await createIfMissing(client, '/zookeeper', null);
    await createIfMissing(client, QUOTA_PATH, null);
    for (const segment of path.split('/').slice(1)) {
      quotaPath += `/${segment}`;
      await createIfMissing(client, quotaPath, null);
    }
    const limitPath = `${quotaPath}/${LIMIT_NODE}`;
    const statPath = `${quotaPath}/${STAT_NODE}`;
    if ((await client.exists(limitPath)) === null) {
      const quota = new Map<string, bigint>([
        ['count', -1n],
        ['bytes', -1n],
        ['countHardLimit', -1n],
        ['byteHardLimit', -1n],
        ...wanted,
      ]);
      await client.create(limitPath, formatStatsTrack(quota));
      await client.create(statPath, formatStatsTrack(new Map([['count', 0n], ['bytes', 0n]])));
      const stored = parseStatsTrack((await client.getData(limitPath)).data?.toString('utf8') ?? '');
      const usage = parseStatsTrack((await client.getData(statPath)).data?.toString('utf8') ?? '');
      warnQuotaBelowUsage(context, stored, usage);
      return;
    }
    const quota = parseStatsTrack((await client.getData(limitPath)).data?.toString('utf8') ?? '');
    for (const [key, value] of wanted) quota.set(key, value);
    const usage = parseStatsTrack((await client.getData(statPath)).data?.toString('utf8') ?? '');
    warnQuotaBelowUsage(context, quota, usage);
    await client.setData(limitPath, formatStatsTrack(quota));
  },
};

export const listQuotaCommand: CommandSpec = {
  name: 'listquota',
  usage: 'path',
  minWords: 2,
  async run(context, { args }) {
    const path = args[1]!;
    const base = QUOTA_PATH + path;
    context.err(`absolute path is ${base}/${LIMIT_NODE}\n`);
    try {
      const limit = (await context.client.getData(`${base}/${LIMIT_NODE}`)).data?.toString('utf8') ?? '';
      const usage = (await context.client.getData(`${base}/${STAT_NODE}`)).data?.toString('utf8') ?? '';
      context.out(`Output quota for ${path} ${formatStatsTrack(parseStatsTrack(limit))}\n`);
      context.out(`Output stat for ${path} ${formatStatsTrack(parseStatsTrack(usage))}\n`);
    } catch (error) {
      if (!(error instanceof KeeperError && error.code === ErrorCode.NO_NODE)) throw error;
      context.err(`quota for ${path} does not exist.\n`);
    }
  },
};

export const delQuotaCommand: CommandSpec = {
  name: 'delquota',
  usage: '[-n|-b|-N|-B] path',
  options: quotaLimitFlags.map(([name, , description]) => flag(name, description)),
  groups: [{ names: ['n', 'b', 'N', 'B'], required: false }],
  minWords: 2,
  async run(context, { options, args }) {
    const path = args[1]!;
    const client = context.client;
    const parent = QUOTA_PATH + path;
    const limitPath = `${parent}/${LIMIT_NODE}`;
    try {
      if ((await client.exists(limitPath)) === null) {
        context.out(`Quota does not exist for ${path}\n`);
        return;
      }
      const quota = parseStatsTrack((await client.getData(limitPath)).data?.toString('utf8') ?? '');
      const chosen = quotaLimitFlags.filter(([name]) => options.has(name));
      if (chosen.length > 0) {
        for (const [, key] of chosen) quota.set(key, -1n);
        await client.setData(limitPath, formatStatsTrack(quota));
        return;
      }
      const { children } = await client.getChildren(parent);
      for (const child of children) await client.delete(`${parent}/${child}`);
      // Remove the now empty quota nodes up to /zookeeper/quota.
      for (let node = parent; node !== QUOTA_PATH; node = node.slice(0, node.lastIndexOf('/'))) {
        if ((await client.getChildren(node)).children.length > 0) break;
        await client.delete(node);
      }
    } catch (error) {
      if (!(error instanceof KeeperError && error.code === ErrorCode.NO_NODE)) throw error;
      context.err(`quota for ${path} does not exist.\n`);
    }
  },
};
