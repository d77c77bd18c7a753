// Goal: digest passwords (a session's addauth and the super user's) never appear in four-letter-word
// output, on our server and Apache alike, nor in any line our server logs, down to trace level.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { it } from 'mocha';
import { pino } from 'pino';
import { OpCode, type ACL } from '../../../src/protocol/index.js';
import { startServer } from '../../../server/index.js';
import { FOUR_LETTER_WORDS } from '../../../server/config/index.js';
import { create, getData, ok } from '../../conformance/ops.js';
import { fourLetterWord } from '../../support/ports.js';
import { RawClient } from '../../support/raw-client.js';
import { describeBothServers } from '../../support/servers.js';

const ALICE_PASSWORD = 'Alice-Pa55word-7f3e';
const SUPER_PASSWORD = 'Super-Pa55word-91c2';
const WRONG_PASSWORD = 'Wrong-Pa55word-0b4d';
const SECRETS = [ALICE_PASSWORD, SUPER_PASSWORD, WRONG_PASSWORD];

function digestId(user: string, password: string): string {
  return `${user}:${createHash('sha1').update(`${user}:${password}`).digest('base64')}`;
}

const SUPER_DIGEST = digestId('super', SUPER_PASSWORD);
const ALICE_ONLY: ACL[] = [{ perms: 31, id: { scheme: 'digest', id: digestId('alice', ALICE_PASSWORD) } }];

/** Sessions that authenticate every way there is, hold watches and ephemerals: the 4lw have lots to show. */
async function authenticatedActivity(port: number, root: string): Promise<RawClient[]> {
  const alice = await RawClient.connect(port);
  ok(await alice.addAuth('digest', `alice:${ALICE_PASSWORD}`));
  ok(await create(alice, root, Buffer.from('x'), 0, ALICE_ONLY));
  ok(await create(alice, `${root}/e`, null, 1, ALICE_ONLY));
  ok(await getData(alice, root, true));
  const admin = await RawClient.connect(port);
  ok(await admin.addAuth('digest', `super:${SUPER_PASSWORD}`));
  ok(await getData(admin, root, true));
  const wrong = await RawClient.connect(port);
  ok(await wrong.addAuth('digest', `alice:${WRONG_PASSWORD}`));
  assert.equal((await getData(wrong, root)).header.err, -102);
  ok(await wrong.request(OpCode.whoAmI, {}));
  return [alice, admin, wrong];
}

function assertNoSecret(text: string, where: string): void {
  for (const secret of SECRETS) assert.ok(!text.includes(secret), `${where} shows a password`);
}

const SUPER = { 'DigestAuthenticationProvider.superDigest': SUPER_DIGEST };

describeBothServers('secrets in four-letter words', { config: SUPER }, (target) => {
  it('no four-letter word shows a digest password or the super digest', async () => {
    const clients = await authenticatedActivity(target().port, target().path());
    try {
      for (const word of FOUR_LETTER_WORDS) {
        if (word === 'stmk') continue; // needs an argument; it answers a number
        const answer = await target().fourLetterWord(word);
        assertNoSecret(answer, word);
        assert.ok(!answer.includes(SUPER_DIGEST.split(':')[1]!), `${word} shows the super digest`);
      }
    } finally {
      for (const client of clients) await client.close();
    }
  });
});

describe('secrets in our server log', function () {
  it('no log line, at trace level, holds a digest password', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = pino({ level: 'trace' }, sink);
    {
      const options = { logger, superDigest: SUPER_DIGEST, fourLetterWordsEnabled: '*' as const };
      await using server = await startServer(options);
      const clients = await authenticatedActivity(server.port, '/secrets');
      // A failed auth (unknown scheme) is logged by Apache and by us: the credentials must not be.
      const failing = await RawClient.connect(server.port);
      await failing.addAuth('nosuch', `alice:${ALICE_PASSWORD}`);
      await failing.connection.waitClosed();
      for (const word of ['cons', 'dump', 'wchc', 'conf']) await fourLetterWord(server.port, word);
      for (const client of clients) await client.close();
    }
    assert.ok(lines.length > 5, 'the server logged (the check is not vacuous)');
    assertNoSecret(lines.join(''), 'the log');
  });
});
