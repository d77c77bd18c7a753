// Runs one recipe spec body twice: on virtual time (the test kit's InProcessServer and VirtualClock,
// a fresh server per spec, exact times) and on real time against Apache ZooKeeper 3.8 standalone
// (one server per describe block, a namespace per spec, times as bounds). The Apache side is skipped
// with a visible notice when Apache is not installed. Keep real-time specs short: session timeouts of
// 2-4 s, waits of about a second (Apache runs with tickTime 500, so sessions may be as short as 1 s).
//
//   describeOnClocks('barrier', (kit) => {
//     it('times out at its deadline', async () => { const k = kit(); ... });
//   });

import { after, afterEach, before, beforeEach, describe } from 'mocha';
import {
  RealClockKit,
  VirtualClockKit,
  type ClockKit,
  type VirtualClockKitOptions,
} from '../../server/testing/index.js';
import { apacheAvailable, startApache, type ApacheServer } from './apache.js';

export interface ClockKitsOptions {
  /** Options of the in-process server of the virtual side. */
  virtual?: VirtualClockKitOptions;
  /** zoo.cfg lines for Apache (tickTime 500 unless given). */
  apacheConfig?: Record<string, string | number | boolean>;
}

/** The tickTime both sides run with, so session timeouts are clamped alike (2 to 20 ticks). */
export const KIT_TICK_MS = 500;

export function describeOnClocks(
  title: string,
  body: (kit: () => ClockKit) => void,
  options: ClockKitsOptions = {},
): void {
  describe(`${title} (virtual time, in-process server)`, () => {
    let current: VirtualClockKit | undefined;
    beforeEach(() => {
      current = VirtualClockKit.start({ tickTimeMs: KIT_TICK_MS, ...options.virtual });
    });
    afterEach(async () => {
      await current?.close();
      current = undefined;
    });
    body(() => current ?? fail());
  });

  describe(`${title} (real time, Apache ZooKeeper 3.8)`, function () {
    let apache: ApacheServer | undefined;
    let current: RealClockKit | undefined;
    before(async function () {
      if (!apacheAvailable()) {
        console.warn(`    (skipped: Apache ZooKeeper is not installed)`);
        this.skip();
      }
      this.timeout(60_000);
      apache = await startApache({ config: { tickTime: KIT_TICK_MS, ...options.apacheConfig } });
    });
    after(async () => {
      await apache?.stop();
    });
    beforeEach(() => {
      current = RealClockKit.on(apache!.connectString, 'Apache ZooKeeper 3.8');
    });
    afterEach(async () => {
      await current?.close();
      current = undefined;
    });
    body(() => current ?? fail());
  });
}

function fail(): never {
  throw new Error('a clock kit is only there inside a spec (it / beforeEach)');
}
