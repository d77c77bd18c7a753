// zk-cli's introspection commands, beyond zkCli.sh: `locks ls|inspect`, `leader`, `services ls`.
// They read the recipes' node layouts (introspection.ts) and print a table, or JSON with -j for
// scripts. Ages are measured from each node's ctime (the server's clock) to this machine's clock.

import {
  checkPathJava,
  flag,
  usageOf,
  valued,
  type CommandContext,
  type CommandSpec,
} from './command-kit.js';
import { CommandError, ExitCode } from './errors.js';
import { javaHex } from './format.js';
import {
  inspectElection,
  inspectLockAt,
  listInstances,
  listLocks,
  listServices,
  type ContenderView,
  type LockKind,
  type LockView,
} from './introspection.js';
import type { ParsedWords } from './words.js';

const LOCK_KINDS: readonly LockKind[] = ['mutex', 'read-write', 'latch', 'semaphore'];
/** Where Curator's examples (and ours) keep services when -b is not given. */
export const SERVICES_BASE_PATH_DEFAULT = '/services';

/** "12.3s", "4m05s", "2h03m": how long ago `sinceMs` was. */
export function formatAge(sinceMs: number | undefined, nowMs: number): string {
  if (sinceMs === undefined) return '-';
  const ms = Math.max(0, nowMs - sinceMs);
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  const m = Math.floor(s / 60);
  if (m < 48 * 60) return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(m / 1440)}d${String(Math.floor((m % 1440) / 60)).padStart(2, '0')}h`;
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '))
    .map((line) => `${line.trimEnd()}\n`)
    .join('');
}

/** Session ids and zxids as zkCli's stat prints them: 0x and Long.toHexString. */
export function hex(value: bigint): string {
  return `0x${javaHex(value)}`;
}

/** Bigints as hex strings (as zkCli prints session ids and zxids) so JSON.stringify can take the view. */
function jsonText(value: unknown): string {
  return `${JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? hex(v) : v), 2)}\n`;
}

function who(c: ContenderView): string {
  if (!c.present) return '(gone)';
  if (c.unread === true) return '(not read)';
  const parts = [c.owner, c.text].filter((p): p is string => p !== undefined && p !== '');
  return parts.length > 0 ? parts.join(' ') : '-';
}

const CONTENDER_HEADER = [
  ...['POS', 'STATE', 'SEQ', 'OWNER', 'HOST', 'PID'],
  ...['SESSION', 'CZXID', 'SINCE', 'WAITS ON'],
];

const seqText = (c: ContenderView) => `${c.marker}${String(c.sequence)}`;

function contenderRow(c: ContenderView, state: string, nowMs: number, byName: Map<string, ContenderView>) {
  const waitsOn = c.waitsOn === undefined ? undefined : byName.get(c.waitsOn);
  return [
    String(c.position),
    c.revokeRequested ? `${state}(revoke asked)` : state,
    seqText(c),
    who(c),
    c.host ?? '-',
    c.pid === undefined ? '-' : String(c.pid),
    c.sessionId === undefined ? '-' : hex(c.sessionId),
    c.czxid === undefined ? '-' : hex(c.czxid),
    formatAge(c.ctimeMs, nowMs),
    waitsOn === undefined ? '' : seqText(waitsOn),
  ];
}

/** The text `locks inspect` prints for one lock. */
export function formatLockView(view: LockView, nowMs: number): string {
  const waiting = view.kind === 'semaphore' ? 'queued for the internal mutex' : 'waiting';
  const holderWord = view.kind === 'semaphore' ? 'lease' : 'holder';
  const plural = view.holders.length === 1 ? '' : 's';
  let text = `${view.path} (${view.kind}): ${view.holders.length} ${holderWord}${plural}, `;
  text += `${view.queue.length} ${waiting}\n`;
  if (view.holders.length + view.queue.length === 0) return text;
  const rows = [CONTENDER_HEADER];
  const byName = new Map([...view.holders, ...view.queue].map((c) => [c.nodeName, c]));
  const holding = view.kind === 'semaphore' ? 'LEASE' : 'HOLDS';
  for (const c of view.holders) rows.push(contenderRow(c, holding, nowMs, byName));
  for (const c of view.queue) rows.push(contenderRow(c, 'WAITS', nowMs, byName));
  text += formatTable(rows);
  const traced = [...view.holders, ...view.queue].filter((c) => c.traceId !== undefined);
  for (const c of traced) text += `trace ${c.traceId} for ${c.nodeName}\n`;
  return text;
}

/** One line per lock: `locks ls`. */
export function formatLockList(locks: readonly LockView[], nowMs: number): string {
  if (locks.length === 0) return '';
  const rows = [['LOCK', 'KIND', 'HOLDERS', 'WAITING', 'HOLDER', 'HOST', 'HELD/QUEUED', 'LONGEST WAIT']];
  for (const lock of locks) {
    const first = lock.holders[0];
    const oldestWait = lock.queue.reduce<number | undefined>(
      (oldest, c) => (c.ctimeMs === undefined ? oldest : Math.min(oldest ?? c.ctimeMs, c.ctimeMs)),
      undefined,
    );
    rows.push([
      lock.path,
      lock.kind,
      String(lock.holders.length),
      String(lock.queue.length),
      first === undefined ? '-' : who(first),
      first?.host ?? '-',
      formatAge(first?.ctimeMs, nowMs),
      formatAge(oldestWait, nowMs),
    ]);
  }
  return formatTable(rows);
}

function lockKindOption(parsed: ParsedWords): LockKind | undefined {
  const text = parsed.options.get('k');
  if (typeof text !== 'string') return undefined;
  if (!(LOCK_KINDS as readonly string[]).includes(text)) {
    throw new CommandError(`-k must be one of ${LOCK_KINDS.join(', ')}`, ExitCode.USAGE);
  }
  return text as LockKind;
}

function pathArgument(spec: CommandSpec, args: readonly string[], index: number): string {
  const path = args[index];
  if (path === undefined) throw new CommandError(usageOf(spec), ExitCode.USAGE);
  checkPathJava(path);
  return path;
}

const locksCommand: CommandSpec = {
  name: 'locks',
  extension: true,
  usage: 'ls|inspect [-j] [-k mutex|read-write|latch|semaphore] path',
  options: [flag('j', 'json'), valued('k', 'lock kind')],
  minWords: 3,
  async run(context, parsed) {
    const sub = parsed.args[1];
    const path = pathArgument(this, parsed.args, 2);
    const json = parsed.options.has('j');
    const nowMs = Date.now();
    if (sub === 'ls') {
      const listing = await listLocks(context.client, path, { signal: context.signal });
      if (json) return context.out(jsonText(listing));
      context.out(formatLockList(listing.locks, nowMs));
      const note = '(the walk stopped at its node or depth limit; list a deeper path)\n';
      if (listing.truncated) context.err(note);
      return;
    }
    if (sub === 'inspect') {
      const kind = lockKindOption(parsed);
      const options = { signal: context.signal, ...(kind && { kind }) };
      const view = await inspectLockAt(context.client, path, options);
      context.out(json ? jsonText(view) : formatLockView(view, nowMs));
      return;
    }
    throw new CommandError(usageOf(this), ExitCode.USAGE);
  },
};

const leaderCommand: CommandSpec = {
  name: 'leader',
  extension: true,
  usage: '[-j] path',
  options: [flag('j', 'json')],
  minWords: 2,
  async run(context, parsed) {
    const path = pathArgument(this, parsed.args, 1);
    const view = await inspectElection(context.client, path, { signal: context.signal });
    if (parsed.options.has('j')) return context.out(jsonText(view));
    const nowMs = Date.now();
    const leader = view.participants[0];
    if (leader === undefined) {
      context.out(`${path} (${view.recipe}): no leader, no participants\n`);
      return;
    }
    const idText = leader.id === '' ? '(no id)' : leader.id;
    context.out(`${path} (${view.recipe}): leader ${idText}, ${view.participants.length} participant(s)\n`);
    const rows = [['POS', 'ROLE', 'ID', 'SEQ', 'SESSION', 'TERM(CZXID)', 'SINCE']];
    for (const p of view.participants) {
      rows.push([
        String(p.position),
        p.isLeader ? 'LEADER' : 'waiting',
        p.id === '' ? '-' : p.id,
        `${p.marker}${String(p.sequence)}`,
        p.sessionId === undefined ? '-' : hex(p.sessionId),
        p.czxid === undefined ? '-' : hex(p.czxid),
        formatAge(p.ctimeMs, nowMs),
      ]);
    }
    context.out(formatTable(rows));
  },
};

async function printServices(context: CommandContext, basePath: string, json: boolean): Promise<void> {
  const services = await listServices(context.client, basePath, { signal: context.signal });
  if (json) return context.out(jsonText(services));
  const rows = [['SERVICE', 'INSTANCES']];
  for (const s of services) rows.push([s.name, String(s.instances)]);
  if (services.length > 0) context.out(formatTable(rows));
}

async function printInstances(context: CommandContext, basePath: string, name: string, json: boolean) {
  const views = await listInstances(context.client, basePath, name, { signal: context.signal });
  if (json) return context.out(jsonText(views));
  const nowMs = Date.now();
  const rows = [['ID', 'ADDRESS', 'PORT', 'SSL', 'STATUS', 'TYPE', 'SESSION', 'REGISTERED']];
  const broken: string[] = [];
  for (const v of views) {
    if (!v.ok) {
      broken.push(`${v.id}: ${v.problem}`);
      continue;
    }
    const i = v.instance;
    rows.push([
      v.id,
      i.address ?? '-',
      i.port === null ? '-' : String(i.port),
      i.sslPort === null ? '-' : String(i.sslPort),
      i.status,
      i.serviceType,
      v.sessionId === 0n ? '(persistent)' : hex(v.sessionId),
      `${formatAge(i.registrationTimeUTC || v.ctimeMs, nowMs)} ago`,
    ]);
  }
  if (rows.length > 1) context.out(formatTable(rows));
  for (const line of broken) context.err(`broken instance ${line}\n`);
}

const servicesCommand: CommandSpec = {
  name: 'services',
  extension: true,
  usage: `ls [-j] [-b basePath (default ${SERVICES_BASE_PATH_DEFAULT})] [name]`,
  options: [flag('j', 'json'), valued('b', 'base path')],
  minWords: 2,
  async run(context, parsed) {
    if (parsed.args[1] !== 'ls') throw new CommandError(usageOf(this), ExitCode.USAGE);
    const base = parsed.options.get('b');
    const basePath = typeof base === 'string' ? base : SERVICES_BASE_PATH_DEFAULT;
    checkPathJava(basePath);
    const name = parsed.args[2];
    const json = parsed.options.has('j');
    if (name === undefined) return printServices(context, basePath, json);
    if (name.includes('/')) throw new CommandError(`a service name has no '/': ${name}`, ExitCode.USAGE);
    return printInstances(context, basePath, name, json);
  },
};

/** The introspection commands, added to zkCli.sh's table. */
export const recipeCommands: readonly CommandSpec[] = [locksCommand, leaderCommand, servicesCommand];

/** Their usage lines, for --help. */
export function recipeCommandsHelp(): string {
  return recipeCommands.map((spec) => `  ${usageOf(spec)}\n`).join('');
}
