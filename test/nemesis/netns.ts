// Network namespaces for the nemesis: each member in its own namespace with its own address on one
// bridge in the root namespace, where the test and its worker processes stay (they reach every member
// through the bridge). Partitions are blackhole routes inside the members' namespaces: a cut link
// drops member-to-member traffic silently both ways while clients still reach both sides, as in
// Jepsen. No iptables needed, only iproute2 and root. Every name carries the creating process's pid
// (`mn<pid>-<id>`, `mnb<pid>`, `mnv<pid>-<id>`), so a run removes what it made, also at exit, and
// clears what a crashed earlier run left behind (its pid is gone) without touching a run still going.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { firstLine, processAlive as alive } from './host.js';

const run = promisify(execFile);
const IP = 'ip';
const PREFIX = 'mn';

export interface NetnsSupport {
  readonly supported: boolean;
  readonly reason: string;
}

let probed: Promise<NetnsSupport> | undefined;

/** Whether namespaces can be made here (root, iproute2, a kernel that allows them); cached. */
export function netnsSupport(): Promise<NetnsSupport> {
  probed ??= (async () => {
    if (process.platform !== 'linux') return { supported: false, reason: 'not Linux' };
    if (process.getuid?.() !== 0) return { supported: false, reason: 'not root' };
    if (process.env.NEMESIS_NETNS === '0') return { supported: false, reason: 'NEMESIS_NETNS=0' };
    try {
      await run(IP, ['-V']);
    } catch {
      return { supported: false, reason: "iproute2's `ip` is not installed" };
    }
    const name = `${PREFIX}${process.pid}-probe`;
    try {
      await run(IP, ['netns', 'add', name]);
      await run(IP, ['-n', name, 'link', 'set', 'lo', 'up']);
      return { supported: true, reason: 'ip netns add works' };
    } catch (error) {
      return { supported: false, reason: `ip netns add failed: ${firstLine(error)}` };
    } finally {
      await run(IP, ['netns', 'del', name]).catch(() => {});
    }
  })();
  return probed;
}

/** Removes namespaces and links of earlier runs whose process is gone (a crash, a kill -9). */
export async function removeLeftovers(): Promise<string[]> {
  const removed: string[] = [];
  const namespaces = (await run(IP, ['netns', 'list']).catch(() => ({ stdout: '' }))).stdout;
  for (const line of namespaces.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const pid = new RegExp(`^${PREFIX}(\\d+)-`).exec(name)?.[1];
    if (pid === undefined || alive(Number(pid))) continue;
    // Members a crashed run left in there (its exit handler never ran) go with it.
    const pids = (await run(IP, ['netns', 'pids', name]).catch(() => ({ stdout: '' }))).stdout;
    for (const p of pids.split('\n').filter(Boolean)) killQuietly(Number(p));
    await run(IP, ['netns', 'del', name]).catch(() => {});
    removed.push(name);
  }
  const links = (await run(IP, ['-o', 'link', 'show']).catch(() => ({ stdout: '' }))).stdout;
  for (const line of links.split('\n')) {
    const name = /^\d+: ([^:@]+)/.exec(line)?.[1] ?? '';
    const pid = new RegExp(`^${PREFIX}[bv](\\d+)`).exec(name)?.[1];
    if (pid === undefined || alive(Number(pid))) continue;
    await run(IP, ['link', 'del', name]).catch(() => {});
    removed.push(name);
  }
  return removed;
}

/** A bridge and one namespace per member; partitions between members; dispose removes it all. */
export class NetworkLab implements AsyncDisposable {
  readonly bridge: string;
  readonly #subnet: string;
  readonly #namespaces: string[] = [];
  readonly #links: string[] = [];
  /** Blackhole routes in place: [namespace, address]. */
  #cuts: [string, string][] = [];
  #disposed = false;

  private constructor(
    readonly size: number,
    subnet: string,
  ) {
    this.bridge = `${PREFIX}b${process.pid}`;
    this.#subnet = subnet;
    liveLabs.add(this);
  }

  /** Makes the bridge and `size` member namespaces (member ids 1..size). */
  static async create(size: number): Promise<NetworkLab> {
    await removeLeftovers();
    const lab = new NetworkLab(size, await freeSubnet());
    try {
      await lab.#build();
      return lab;
    } catch (error) {
      await lab.dispose();
      throw error;
    }
  }

  /** The namespace of member `id`. */
  namespace(id: number): string {
    return `${PREFIX}${process.pid}-${id}`;
  }

  /** The address member `id` listens on. */
  host(id: number): string {
    return `${this.#subnet}.${10 + id}`;
  }

  /** The command prefix that runs a program inside member `id`'s namespace. */
  commandPrefix(id: number): string[] {
    return [IP, 'netns', 'exec', this.namespace(id)];
  }

  /**
   * Cuts every link between a member of one group and a member of another (members in no group keep
   * all their links: a member in two groups' view is a bridge). Replaces any earlier partition.
   */
  async partition(groups: readonly (readonly number[])[]): Promise<void> {
    await this.heal();
    const cuts: [string, string][] = [];
    groups.forEach((group, g) => {
      for (const other of groups.slice(g + 1)) {
        for (const a of group) {
          for (const b of other) {
            cuts.push([this.namespace(a), this.host(b)], [this.namespace(b), this.host(a)]);
          }
        }
      }
    });
    for (const [ns, address] of cuts) {
      await run(IP, ['-n', ns, 'route', 'add', 'blackhole', `${address}/32`]);
      this.#cuts.push([ns, address]);
    }
  }

  /** Removes every cut. */
  async heal(): Promise<void> {
    const cuts = this.#cuts;
    this.#cuts = [];
    for (const [ns, address] of cuts) {
      await run(IP, ['-n', ns, 'route', 'del', 'blackhole', `${address}/32`]).catch(() => {});
    }
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    liveLabs.delete(this);
    for (const ns of this.#namespaces) await run(IP, ['netns', 'del', ns]).catch(() => {});
    for (const link of this.#links) await run(IP, ['link', 'del', link]).catch(() => {});
  }

  /** Synchronous removal, for process exit. */
  disposeNow(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const ns of this.#namespaces) quietSync(['netns', 'del', ns]);
    for (const link of this.#links) quietSync(['link', 'del', link]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  async #build(): Promise<void> {
    this.#links.push(this.bridge);
    await run(IP, ['link', 'add', this.bridge, 'type', 'bridge']);
    await run(IP, ['addr', 'add', `${this.#subnet}.1/24`, 'dev', this.bridge]);
    await run(IP, ['link', 'set', this.bridge, 'up']);
    for (let id = 1; id <= this.size; id++) {
      const ns = this.namespace(id);
      const outside = `${PREFIX}v${process.pid}-${id}`;
      const inside = `${PREFIX}i${process.pid}-${id}`;
      this.#namespaces.push(ns);
      await run(IP, ['netns', 'add', ns]);
      this.#links.push(outside); // deleting the namespace deletes the pair; this is for a half-made one
      await run(IP, ['link', 'add', outside, 'type', 'veth', 'peer', 'name', inside]);
      await run(IP, ['link', 'set', inside, 'netns', ns]);
      await run(IP, ['link', 'set', outside, 'master', this.bridge]);
      await run(IP, ['link', 'set', outside, 'up']);
      await run(IP, ['-n', ns, 'link', 'set', 'lo', 'up']);
      await run(IP, ['-n', ns, 'addr', 'add', `${this.host(id)}/24`, 'dev', inside]);
      await run(IP, ['-n', ns, 'link', 'set', inside, 'up']);
    }
  }
}

/** A 10.213.N.0/24 no interface here uses, starting from one the pid picks (runs may overlap). */
async function freeSubnet(): Promise<string> {
  const routes = (await run(IP, ['-4', 'route', 'show'])).stdout;
  for (let i = 0; i < 256; i++) {
    const n = (process.pid + i) % 250;
    const subnet = `10.213.${n}`;
    if (!routes.includes(`${subnet}.`)) return subnet;
  }
  throw new Error('no free 10.213.N.0/24 subnet for the nemesis network');
}

const liveLabs = new Set<NetworkLab>();
process.once('exit', () => {
  for (const lab of liveLabs) lab.disposeNow();
});

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function quietSync(args: string[]): void {
  try {
    execFileSync(IP, args, { stdio: 'ignore' });
  } catch {
    // already gone
  }
}
