// Error mapping: every code of Apache 3.8's KeeperException.Code (listed here from the 3.8 jar, as
// the reference) has our table entry and a KeeperError subclass carrying code, name, path and
// cause; unknown codes give the base class; our own errors are never KeeperErrors.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import {
  ClosedError,
  DecodeError,
  ErrorCode,
  errorClassFor,
  FrameTooLargeError,
  InvalidArgumentError,
  KeeperError,
  MenagerieError,
  NoNodeError,
  TimeoutError,
} from '../../../src/protocol/index.js';

/** KeeperException.Code of Apache ZooKeeper 3.8.0, name → code. */
const apacheCodes: Record<string, number> = {
  OK: 0, SYSTEMERROR: -1, RUNTIMEINCONSISTENCY: -2, DATAINCONSISTENCY: -3, CONNECTIONLOSS: -4,
  MARSHALLINGERROR: -5, UNIMPLEMENTED: -6, OPERATIONTIMEOUT: -7, BADARGUMENTS: -8, NEWCONFIGNOQUORUM: -13,
  RECONFIGINPROGRESS: -14, UNKNOWNSESSION: -12, APIERROR: -100, NONODE: -101, NOAUTH: -102, BADVERSION: -103,
  NOCHILDRENFOREPHEMERALS: -108, NODEEXISTS: -110, NOTEMPTY: -111, SESSIONEXPIRED: -112,
  INVALIDCALLBACK: -113, INVALIDACL: -114, AUTHFAILED: -115, SESSIONMOVED: -118, NOTREADONLY: -119,
  EPHEMERALONLOCALSESSION: -120,
  NOWATCHER: -121, REQUESTTIMEOUT: -122, RECONFIGDISABLED: -123, SESSIONCLOSEDREQUIRESASLAUTH: -124,
  QUOTAEXCEEDED: -125, THROTTLEDOP: -127,
};

describe('KeeperError mapping', () => {
  it('has exactly Apache 3.8’s codes', () => {
    const ours = Object.fromEntries(
      Object.entries(ErrorCode).map(([name, code]) => [name.replaceAll('_', ''), code]),
    );
    assert.deepEqual(ours, apacheCodes);
  });

  for (const [name, code] of Object.entries(ErrorCode).filter(([, code]) => code !== 0)) {
    it(`maps ${name} (${code}) to its own subclass`, () => {
      const cause = new Error('underneath');
      const error = KeeperError.from(code, { path: '/a/b', cause });
      const Class = errorClassFor(code);
      assert.ok(Class, 'a registered class');
      assert.ok(error instanceof Class);
      assert.ok(error instanceof KeeperError);
      assert.ok(error instanceof Error);
      assert.notEqual(error.constructor, KeeperError);
      assert.equal(error.code, code);
      assert.equal(error.path, '/a/b');
      assert.equal(error.cause, cause);
      assert.equal(error.name, Class.name);
      assert.match(error.name, /Error$/);
      assert.equal(error.codeName, name.replaceAll('_', ''));
      assert.match(error.message, new RegExp(`\\(${code}\\) for /a/b$`));
    });
  }

  it('gives every code a different class and name', () => {
    const codes = Object.values(ErrorCode).filter((code) => code !== 0);
    assert.equal(new Set(codes.map((code) => errorClassFor(code))).size, codes.length);
    assert.equal(new Set(codes.map((code) => KeeperError.from(code).name)).size, codes.length);
  });

  it('builds the base class for an unknown code, and for OK', () => {
    for (const code of [-9, -126, -200, 42, 0]) {
      const error = KeeperError.from(code, { path: '/x' });
      assert.equal(error.constructor, KeeperError);
      assert.equal(error.name, 'KeeperError');
      assert.equal(error.code, code);
      assert.equal(error.path, '/x');
    }
    assert.equal(KeeperError.from(-9).codeName, 'UNKNOWN(-9)');
    assert.equal(KeeperError.from(-101).path, undefined);
    assert.ok(KeeperError.from(-101) instanceof NoNodeError);
  });

  it('keeps our own errors apart from server codes', () => {
    for (const error of [
      new DecodeError('bad'),
      new FrameTooLargeError(2 ** 20, 0xfffff),
      new ClosedError('closed'),
      new TimeoutError('late'),
      new InvalidArgumentError('wrong'),
    ]) {
      assert.ok(error instanceof MenagerieError);
      assert.ok(!(error instanceof KeeperError));
      assert.equal(error.name, error.constructor.name);
    }
    assert.ok(new FrameTooLargeError(-1, 10) instanceof DecodeError);
  });
});
