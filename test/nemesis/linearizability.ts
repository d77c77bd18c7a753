// A linearizability checker for histories of a versioned register (a znode's data and stat.version),
// Wing & Gong's search with Lowe's memoization (as in Porcupine and Knossos's WGL): operations are
// linearized one at a time in an order consistent with real time, a (set of linearized operations,
// register state) pair already explored is not explored again, and a dead end backtracks. Keys are
// independent registers, so each key's sub-history is checked on its own (P-compositionality).
// Operations whose outcome is unknown (the connection was lost) may take effect at any time after
// their invocation, or never.

/** What a znode register holds: its data and its stat.version. */
export interface RegisterState {
  readonly value: string;
  readonly version: number;
}

export type RegisterOp =
  /** getData: what was read. */
  | { readonly kind: 'read'; readonly value: string; readonly version: number }
  /** setData without a version: the version it got (ok) or unknown. */
  | { readonly kind: 'write'; readonly value: string; readonly newVersion?: number }
  /** setData with a version: ok (new version = expected + 1), badVersion, or unknown. */
  | { readonly kind: 'cas'; readonly expectedVersion: number; readonly value: string };

/**
 * ok: it happened as recorded; fail: the server refused it (a CAS's BadVersion), so it changed nothing;
 * unknown: it may have happened (the connection was lost, or we stopped waiting); unapplied: it
 * certainly never reached the register (refused before it was sent, or a read that failed).
 */
export type Outcome = 'ok' | 'fail' | 'unknown' | 'unapplied';

/** One completed or pending operation of one client, times in ms on a clock all clients share. */
export interface HistoryOp {
  readonly client: string;
  readonly key: string;
  readonly op: RegisterOp;
  readonly outcome: Outcome;
  readonly invokedAt: number;
  /** Infinity for unknown outcomes. */
  readonly completedAt: number;
}

export interface KeyVerdict {
  readonly key: string;
  readonly ops: number;
  readonly linearizable: boolean;
  /** When not linearizable: the operations of the longest prefix explored plus the one that failed. */
  readonly explanation?: string;
  /** The search gave up (too many states): neither proven nor refuted. */
  readonly inconclusive?: boolean;
  /** (linearized set, state) pairs explored. */
  readonly states: number;
}

export interface CheckOptions {
  /** Bound on explored (linearized set, state) pairs per key. Default 500 000. */
  statesMax?: number;
}

/**
 * Every successor state of `state` consistent with `op` having happened with `outcome`. An unknown
 * operation is offered only as having taken effect: "it never happened" needs no step, since the
 * search may leave it unlinearized to the end (exploring it as a no-op would double the states for
 * every pending operation).
 */
export function registerSteps(state: RegisterState, op: RegisterOp, outcome: Outcome): RegisterState[] {
  switch (op.kind) {
    case 'read':
      return state.value === op.value && state.version === op.version ? [state] : [];
    case 'write': {
      const next = { value: op.value, version: state.version + 1 };
      if (outcome === 'unknown') return [next];
      if (outcome !== 'ok') return [state];
      return op.newVersion === undefined || op.newVersion === next.version ? [next] : [];
    }
    case 'cas': {
      const matches = state.version === op.expectedVersion;
      const next = { value: op.value, version: state.version + 1 };
      if (outcome === 'ok') return matches ? [next] : [];
      if (outcome === 'fail') return matches ? [] : [state];
      if (outcome === 'unapplied') return [state];
      return matches ? [next] : [];
    }
  }
}

/** Checks every key's sub-history from `initial`; the history is linearizable iff every key's is. */
export function checkHistory(
  history: readonly HistoryOp[],
  initial: RegisterState,
  options: CheckOptions = {},
): KeyVerdict[] {
  const byKey = new Map<string, HistoryOp[]>();
  for (const op of history) {
    // A failed read, or a write that never reached a server, constrains nothing.
    if (op.outcome === 'unapplied') continue;
    if (op.outcome !== 'ok' && op.op.kind === 'read') continue;
    const list = byKey.get(op.key) ?? [];
    list.push(op);
    byKey.set(op.key, list);
  }
  return [...byKey.entries()].map(([key, ops]) => checkKey(key, ops, initial, options.statesMax ?? 500_000));
}

/** A doubly linked list of call and return entries in time order (returns first on ties). */
interface Entry {
  readonly opIndex: number;
  readonly isCall: boolean;
  readonly time: number;
  /** For a call: its return entry (undefined for an operation that never returned). */
  match?: Entry;
  prev?: Entry;
  next?: Entry;
}

function buildEntries(ops: readonly HistoryOp[]): Entry {
  const entries: Entry[] = [];
  ops.forEach((op, opIndex) => {
    const call: Entry = { opIndex, isCall: true, time: op.invokedAt };
    entries.push(call);
    if (Number.isFinite(op.completedAt)) {
      const ret: Entry = { opIndex, isCall: false, time: op.completedAt };
      call.match = ret;
      entries.push(ret);
    }
  });
  // On equal times a return goes first: the operations then did not overlap (the stricter reading).
  entries.sort((a, b) => a.time - b.time || Number(a.isCall) - Number(b.isCall));
  const head: Entry = { opIndex: -1, isCall: false, time: -Infinity };
  let last = head;
  for (const entry of entries) {
    last.next = entry;
    entry.prev = last;
    last = entry;
  }
  return head;
}

function lift(call: Entry): void {
  call.prev!.next = call.next;
  if (call.next) call.next.prev = call.prev;
  const ret = call.match;
  if (ret) {
    ret.prev!.next = ret.next;
    if (ret.next) ret.next.prev = ret.prev;
  }
}

function unlift(call: Entry): void {
  const ret = call.match;
  if (ret) {
    ret.prev!.next = ret;
    if (ret.next) ret.next.prev = ret;
  }
  call.prev!.next = call;
  if (call.next) call.next.prev = call;
}

interface Frame {
  readonly call: Entry;
  readonly stateBefore: RegisterState;
  /** The successor states of this call not tried yet. */
  readonly alternatives: RegisterState[];
}

function checkKey(
  key: string,
  ops: readonly HistoryOp[],
  initial: RegisterState,
  statesMax: number,
): KeyVerdict {
  const head = buildEntries(ops);
  const linearized = new Uint32Array(Math.ceil(ops.length / 32) + 1);
  const seen = new Set<string>();
  const stack: Frame[] = [];
  let state = initial;
  let entry = head.next;
  // Operations that returned and are not linearized yet; at 0 the rest are unknown ones left out.
  let remaining = ops.filter((op) => Number.isFinite(op.completedAt)).length;
  let deepest: readonly Frame[] = [];
  const memoKey = (s: RegisterState) => `${linearized.join(',')}|${s.version}|${s.value}`;
  const flip = (opIndex: number) => (linearized[opIndex >>> 5]! ^= 1 << (opIndex & 31));

  // Tries to linearize `call` into `next`; false when that (set, state) pair was explored before.
  const push = (call: Entry, next: RegisterState, alternatives: RegisterState[]): boolean => {
    flip(call.opIndex);
    const memo = memoKey(next);
    if (seen.has(memo)) {
      flip(call.opIndex);
      return false;
    }
    seen.add(memo);
    stack.push({ call, stateBefore: state, alternatives });
    if (stack.length > deepest.length) deepest = [...stack];
    state = next;
    lift(call);
    if (call.match) remaining--;
    return true;
  };

  while (remaining > 0) {
    if (seen.size > statesMax) {
      return { key, ops: ops.length, linearizable: false, inconclusive: true, states: seen.size };
    }
    if (entry !== undefined && entry.isCall) {
      const op = ops[entry.opIndex]!;
      const [first, ...rest] = registerSteps(state, op.op, op.outcome);
      const call = entry;
      const pushAlternative = (s: RegisterState, i: number) => push(call, s, rest.slice(i + 1));
      const placed = first !== undefined && (push(call, first, rest) || rest.some(pushAlternative));
      if (placed) {
        entry = head.next;
      } else {
        entry = entry.next;
      }
      continue;
    }
    // A return of an operation not linearized yet (or the end): undo the last choice.
    const frame = stack.pop();
    if (frame === undefined) {
      const explanation = explain(ops, deepest, entry);
      return { key, ops: ops.length, linearizable: false, explanation, states: seen.size };
    }
    unlift(frame.call);
    if (frame.call.match) remaining++;
    flip(frame.call.opIndex);
    state = frame.stateBefore;
    let retried = false;
    while (frame.alternatives.length > 0 && !retried) {
      const next = frame.alternatives.shift()!;
      retried = push(frame.call, next, frame.alternatives);
    }
    entry = retried ? head.next : frame.call.next;
  }
  return { key, ops: ops.length, linearizable: true, states: seen.size };
}

function describeOp(op: HistoryOp): string {
  const o = op.op;
  const what =
    o.kind === 'read'
      ? `read → ${o.value}@v${o.version}`
      : o.kind === 'write'
        ? `write ${o.value}`
        : `cas v${o.expectedVersion} → ${o.value}`;
  const end = Number.isFinite(op.completedAt) ? op.completedAt.toFixed(1) : '∞';
  return `${op.client} ${what} ${op.outcome} [${op.invokedAt.toFixed(1)}, ${end}]`;
}

function explain(ops: readonly HistoryOp[], deepest: readonly Frame[], stuck: Entry | undefined): string {
  const order = deepest.slice(-8).map((f) => `  ${describeOp(ops[f.call.opIndex]!)}`);
  const blocking = stuck !== undefined && stuck.opIndex >= 0 ? describeOp(ops[stuck.opIndex]!) : '(none)';
  const header = `longest linearizable prefix (${deepest.length} ops) ends with:`;
  return [header, ...order, `cannot place: ${blocking}`].join('\n');
}
