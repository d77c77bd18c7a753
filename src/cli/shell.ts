// The shell behind zk-cli: one session (replaced by `connect`), zkCli's numbered command history,
// and the default watcher that prints every event as zkCli.sh does. It runs one line at a time
// and returns the line's exit code; the REPL and the script runner (main.ts) drive it.

import { ZooKeeperClient, type ConnectionState, type WatchedEvent } from '../client/index.js';
import { TimeoutError } from '../protocol/index.js';
import { commands, usageOf, usageText, type CommandContext, type CommandSpec } from './commands.js';
import { CommandError, ExitCode, describeFailure, type ExitCodeValue } from './errors.js';
import { formatWatcherBlock, javaEventType, type KeeperStateName } from './format.js';
import { OptionParseError, parseOptions, splitWords, type ParsedWords } from './words.js';

export interface ShellOutput {
  /** What zkCli.sh prints on stdout. */
  out(text: string): void;
  /** What zkCli.sh prints on stderr (errors, "Created /x"). */
  err(text: string): void;
  /** Output that arrives by itself (watch events); a REPL redraws its prompt around it. */
  event(text: string): void;
}

export interface ShellOptions {
  /** The connect string: host:port[,host:port][/chroot]. */
  host: string;
  /** Requested session timeout (zkCli's -timeout). */
  sessionTimeoutMs: number;
  /** Accept a read-only server (zkCli's -r). */
  readOnly: boolean;
  output: ShellOutput;
  /** Longest wait of one command (Ctrl-C ends one sooner); none when absent. */
  commandTimeoutMs?: number;
  /** IANA zone for printed times; the process's zone when absent. */
  timeZone?: string;
  /** What `version` prints. */
  version: string;
}

/** zkCli's `history` shows this many commands before the current one. */
const HISTORY_SHOWN = 10;
/** Numbered commands kept for `history` and `redo`; older ones are forgotten. */
const HISTORY_KEPT_MAX = 1000;

/** How long close and quit wait for a session that is still connecting. */
const CLOSE_CONNECT_WAIT_MS = 1_000;

/** A failure whose message was printed already (by the command `redo` ran). */
class ReportedFailure extends CommandError {}

export class Shell implements AsyncDisposable {
  printWatches = true;
  /** The code of the last command that failed; OK while none has. */
  exitCode: ExitCodeValue = ExitCode.OK;
  /** Set by `quit`: the caller stops reading lines. */
  quitRequested = false;
  private host: string;
  private client: ZooKeeperClient | undefined;
  private clientState: ConnectionState['type'] | 'none' = 'none';
  private commandCount = 0;
  private readonly history = new Map<number, string>();
  private running: AbortController | undefined;
  private nextWatcherId = 0;
  private readonly tickEvents = new Map<string, { printed: number; counts: Map<number, number> }>();
  private silent = false;
  private removals: WatchedEvent[] = [];

  constructor(private readonly options: ShellOptions) {
    this.host = options.host;
  }

  /** The JLine prompt of zkCli.sh: "[zk: host(CONNECTED) 3] ". */
  get prompt(): string {
    return `[zk: ${this.host}(${this.stateName}) ${this.commandCount}] `;
  }

  /** Java's ZooKeeper.States name for the current session. */
  get stateName(): string {
    switch (this.clientState) {
      case 'none':
        return 'NOT_CONNECTED';
      case 'connected':
        return 'CONNECTED';
      case 'connectedReadOnly':
        return 'CONNECTEDREADONLY';
      case 'disconnected':
        return 'CONNECTING';
      case 'authFailed':
        return 'AUTH_FAILED';
      default:
        return 'CLOSED';
    }
  }

  get isAlive(): boolean {
    const ended = ['closed', 'expired', 'authFailed', 'none'].includes(this.clientState);
    return this.client !== undefined && !ended;
  }

  /** The live client, for completion. */
  get session(): ZooKeeperClient | undefined {
    return this.isAlive ? this.client : undefined;
  }

  /** Opens a session to `host` (the current one when absent), closing the previous session first. */
  async connect(host: string | undefined = this.host, options: { wait?: boolean } = {}): Promise<void> {
    if (this.client !== undefined && this.isAlive) await this.client.close();
    let client: ZooKeeperClient;
    try {
      client = new ZooKeeperClient({
        connectString: host,
        sessionTimeoutMs: this.options.sessionTimeoutMs,
        canBeReadOnly: this.options.readOnly,
        onListenerError: (error) => this.options.output.err(`${String(error)}\n`),
      });
    } catch (error) {
      throw new CommandError(describeFailure(error).message, ExitCode.USAGE);
    }
    this.host = host;
    this.client = client;
    this.clientState = 'disconnected';
    client.onStateChange((state) => this.onState(client, state));
    const connected = client.connect({ timeoutMs: this.options.sessionTimeoutMs });
    connected.catch(() => undefined); // the client keeps trying; commands wait for it
    if (options.wait) await connected;
  }

  /** Runs one line; undefined for a blank line (not numbered, as in zkCli.sh). */
  async executeLine(line: string): Promise<ExitCodeValue | undefined> {
    const words = splitWords(line);
    if (words.length === 0) return undefined;
    this.history.set(this.commandCount, line);
    this.history.delete(this.commandCount - HISTORY_KEPT_MAX);
    const code = await this.runWords(words);
    this.commandCount++;
    if (code !== ExitCode.OK) this.exitCode = code;
    return code;
  }

  /** Aborts the running command (Ctrl-C in the REPL). */
  interrupt(): boolean {
    if (this.running === undefined) return false;
    this.running.abort(new CommandError('Interrupted', ExitCode.FAILED));
    return true;
  }

  /** Closes the session without printing its Closed event (end of input, as zkCli.sh exits). */
  async [Symbol.asyncDispose](): Promise<void> {
    this.silent = true;
    await this.client?.close();
  }

  private async runWords(words: string[]): Promise<ExitCodeValue> {
    const name = words[0]!;
    const spec = commands.get(name);
    const output = this.options.output;
    if (spec === undefined) {
      output.err(usageText());
      output.err(`Command not found: Command not found ${name}\n`);
      return ExitCode.NOT_FOUND;
    }
    const controller = new AbortController();
    const timeoutMs = this.options.commandTimeoutMs;
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            controller.abort(new TimeoutError(`no reply from ZooKeeper within ${timeoutMs} ms`));
          }, timeoutMs);
    this.running = controller;
    try {
      if (spec.local) {
        await spec.run(this.context(controller.signal), { options: new Map(), args: words });
        if (!this.isAlive && !this.quitRequested) output.out('Not connected\n');
        return ExitCode.OK;
      }
      if (!this.isAlive) {
        output.out('Not connected\n');
        return ExitCode.CONNECTION;
      }
      await spec.run(this.context(controller.signal), this.parse(spec, words));
      return ExitCode.OK;
    } catch (error) {
      const failure = describeFailure(error);
      if (!(error instanceof ReportedFailure)) output.err(`${failure.message}\n`);
      return failure.exitCode;
    } finally {
      clearTimeout(timer);
      if (this.running === controller) this.running = undefined;
    }
  }

  private parse(spec: CommandSpec, words: string[]): ParsedWords {
    const read = (list: string[]) => {
      try {
        return parseOptions(list, spec.options ?? [], spec.groups);
      } catch (error) {
        if (error instanceof OptionParseError) throw new CommandError(error.message, ExitCode.USAGE);
        throw error;
      }
    };
    let parsed = read(words);
    if (spec.minWords !== undefined && parsed.args.length < spec.minWords) {
      throw new CommandError(usageOf(spec), ExitCode.USAGE);
    }
    if (spec.legacyWatchWord !== undefined && parsed.args.length > 2) {
      this.options.output.err(`${spec.legacyWatchWord}\n`);
      const rewritten = [...words];
      rewritten[2] = '-w';
      parsed = read(rewritten);
    }
    return parsed;
  }

  private context(signal: AbortSignal): CommandContext {
    const output = this.options.output;
    const shell = this;
    return {
      get client() {
        if (shell.client === undefined) throw new CommandError('Not connected', ExitCode.CONNECTION);
        return shell.client;
      },
      out: (text) => output.out(text),
      err: (text) => output.err(text),
      watcher: () => this.newWatcher(),
      signal,
      timeZone: this.options.timeZone,
      shell: {
        connect: (host) => this.connect(host),
        close: () => this.closeSession(),
        quit: async () => {
          this.quitRequested = true;
          await this.closeSession();
        },
        historyLines: () => this.historyLines(),
        redo: (index) => this.redo(index),
        get printWatches() {
          return shell.printWatches;
        },
        set printWatches(on: boolean) {
          shell.printWatches = on;
        },
        version: this.options.version,
      },
    };
  }

  /**
   * Closes the session. Like Java's close, which sends closeSession once connected, a session
   * still connecting gets a moment to connect first, so its events print as zkCli's do.
   */
  private async closeSession(): Promise<void> {
    const client = this.client;
    if (client === undefined) return;
    if (this.clientState === 'disconnected') {
      await client.connect({ timeoutMs: CLOSE_CONNECT_WAIT_MS }).catch(() => undefined);
    }
    await client.close();
  }

  private historyLines(): string[] {
    const lines: string[] = [];
    for (let i = Math.max(0, this.commandCount - HISTORY_SHOWN); i <= this.commandCount; i++) {
      lines.push(`${i} - ${this.history.get(i) ?? 'null'}`);
    }
    return lines;
  }

  private async redo(index: number): Promise<void> {
    const line = this.history.get(index);
    if (this.commandCount <= index || index < 0 || line === undefined) {
      throw new CommandError('Command index out of range', ExitCode.USAGE);
    }
    const words = splitWords(line);
    if (words[0] === 'redo') throw new CommandError('No redoing redos', ExitCode.USAGE);
    this.history.set(this.commandCount, line);
    const code = await this.runWords(words);
    if (code !== ExitCode.OK) throw new ReportedFailure('', code);
  }

  /**
   * A callback for one watch registration. Java keeps the default watcher once per path, so one
   * notification that reaches several of our registrations prints once: within a tick, a
   * registration prints only events beyond those another registration printed already.
   */
  private newWatcher(): (event: WatchedEvent) => void {
    const id = this.nextWatcherId++;
    return (event) => {
      const key = `${event.type}\0${event.path}`;
      let entry = this.tickEvents.get(key);
      if (entry === undefined) {
        if (this.tickEvents.size === 0) queueMicrotask(() => this.tickEvents.clear());
        entry = { printed: 0, counts: new Map() };
        this.tickEvents.set(key, entry);
      }
      const count = (entry.counts.get(id) ?? 0) + 1;
      entry.counts.set(id, count);
      if (count <= entry.printed) return;
      entry.printed = count;
      if (event.type.endsWith('WatchRemoved')) this.queueRemoval(event);
      else this.printEvent('SyncConnected', javaEventType(event.type), event.path);
    };
  }

  /** One removewatches reports its removals as Java does: child, then data, then persistent. */
  private queueRemoval(event: WatchedEvent): void {
    if (this.removals.length === 0) {
      queueMicrotask(() => {
        const rank = ['childWatchRemoved', 'dataWatchRemoved', 'persistentWatchRemoved'];
        const removals = this.removals.splice(0);
        removals.sort((a, b) => rank.indexOf(a.type) - rank.indexOf(b.type));
        for (const removal of removals) {
          this.printEvent('SyncConnected', javaEventType(removal.type), removal.path);
        }
      });
    }
    this.removals.push(event);
  }

  private printEvent(state: KeeperStateName, type: string, path: string | null): void {
    if (this.printWatches && !this.silent) this.options.output.event(formatWatcherBlock(state, type, path));
  }

  private onState(client: ZooKeeperClient, state: ConnectionState): void {
    const previous = client === this.client ? this.clientState : undefined;
    if (client === this.client) this.clientState = state.type;
    const names: Partial<Record<ConnectionState['type'], KeeperStateName>> = {
      connected: 'SyncConnected',
      connectedReadOnly: 'ConnectedReadOnly',
      expired: 'Expired',
      authFailed: 'AuthFailed',
    };
    let name = names[state.type];
    if (state.type === 'disconnected' && (previous === 'connected' || previous === 'connectedReadOnly')) {
      name = 'Disconnected';
    }
    if (state.type === 'closed' && previous !== 'expired' && previous !== 'authFailed') name = 'Closed';
    if (name !== undefined) this.printEvent(name, 'None', null);
  }
}
