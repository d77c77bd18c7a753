// In-process fuzzing of the pure paths, for speed: the request decoder (decodeRequest, the
// ConnectRequest, multi bodies) and parseZooCfg. Anything but a typed error is a finding.

import { DecodeError, MultiRequest, decodeRequest, JuteReader } from '../../src/protocol/index.js';
import { ConnectRequest } from '../../src/protocol/records.js';
import { ConfigError, parseZooCfg } from '../../server/config/index.js';
import { Prng, connectFrame, mutateFrame, validRequestFrame } from './inputs.js';

export interface Finding {
  readonly target: string;
  readonly input: string;
  readonly error: string;
}

export interface InProcessCounts {
  decoded: number;
  decodeErrors: number;
  configsParsed: number;
  configErrors: number;
  findings: Finding[];
}

export function newCounts(): InProcessCounts {
  return { decoded: 0, decodeErrors: 0, configsParsed: 0, configErrors: 0, findings: [] };
}

function attempt(counts: InProcessCounts, target: string, input: Buffer, run: () => void): void {
  try {
    run();
    counts.decoded++;
  } catch (error) {
    if (error instanceof DecodeError) {
      counts.decodeErrors++;
      return;
    }
    counts.findings.push({ target, input: input.toString('hex'), error: String((error as Error).stack) });
  }
}

/** One decoder input: a mutated request frame, ConnectRequest or multi body. */
export function fuzzDecoderOnce(rng: Prng, counts: InProcessCounts): void {
  const kind = rng.int(4);
  if (kind === 3) {
    const frame = mutateFrame(rng, connectFrame({ readOnly: rng.chance(0.5) ? true : undefined }), true);
    const body = frame.subarray(4);
    attempt(counts, 'ConnectRequest', body, () => ConnectRequest.decode(body));
    return;
  }
  const valid = validRequestFrame(rng, rng.int(1000));
  const body = (kind === 0 ? valid : mutateFrame(rng, valid, true)).subarray(4);
  if (kind === 2 && body.length > 8) {
    const multiBody = body.subarray(8);
    attempt(counts, 'MultiRequest', multiBody, () => MultiRequest.read(new JuteReader(multiBody)));
    return;
  }
  attempt(counts, 'decodeRequest', body, () => decodeRequest(body));
}

const CONFIG_SEEDS = [
  'tickTime=2000\ndataDir=/var/zk\nclientPort=2181\ninitLimit=5\nsyncLimit=2\n',
  'dataDir=/d\nclientPort=2181\nserver.1=a:2888:3888\nserver.2=b:2888:3888;2181\nserver.3=c:1:2:observer\n',
  'dataDir=/d\nclientPort=2181\n4lw.commands.whitelist=srvr, ruok, *\nmaxClientCnxns=0\n',
  'dataDir=/d\nclientPort=2181\nzookeeper.jute.maxbuffer=100\nDigestAuthenticationProvider.superDigest=' +
    'super:D/InIHSb7yEEbrWz8b9l71RjZJU=\nautopurge.purgeInterval=1\n',
  'dataDir = /d \\\n  more\nclientPort:2181\n! comment\n# comment\nkey\\u0041=\\t\n',
];
const CONFIG_TOKENS = ['=', ':', '\n', '\\', '\\u', '\\u00', ' ', '#', '-1', '99999999999', 'server.', ';',
  '|', 'true', 'yes', '0x10', '\r', '\u0000', 'é', 'clientPort', 'dataDir', 'standaloneEnabled=false'];

/** One zoo.cfg input: a mutated known-good file or random tokens; must parse or throw ConfigError. */
export function fuzzConfigOnce(rng: Prng, counts: InProcessCounts): void {
  let text = rng.pick(CONFIG_SEEDS);
  const edits = 1 + rng.int(6);
  for (let i = 0; i < edits; i++) {
    const at = rng.int(text.length + 1);
    const choice = rng.int(3);
    if (choice === 0) text = text.slice(0, at) + rng.pick(CONFIG_TOKENS) + text.slice(at);
    else if (choice === 1) text = text.slice(0, at) + text.slice(at + 1 + rng.int(8));
    else text = text.slice(0, at) + String.fromCharCode(rng.int(0x250)) + text.slice(at);
  }
  try {
    parseZooCfg(text);
    counts.configsParsed++;
  } catch (error) {
    if (error instanceof ConfigError) counts.configErrors++;
    else counts.findings.push({ target: 'parseZooCfg', input: JSON.stringify(text), error: String(error) });
  }
}

/** Runs `count` decoder inputs and `count / 4` config inputs from `seed`. */
export function fuzzInProcess(seed: number, count: number, counts = newCounts()): InProcessCounts {
  const rng = new Prng(seed);
  for (let i = 0; i < count; i++) {
    fuzzDecoderOnce(rng, counts);
    if (i % 4 === 0) fuzzConfigOnce(rng, counts);
  }
  return counts;
}
