// Command lines split and parsed as zkCli.sh and commons-cli do, the command table's shape,
// completion targets, the -c splitter and the history file, all without a server.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { commandNames, commands, usageText } from '../../../src/cli/commands.js';
import { completeCommand, completePath, completionTarget } from '../../../src/cli/completion.js';
import { HISTORY_LINES_MAX, formatHistory, parseHistory } from '../../../src/cli/history-file.js';
import { splitCommandList } from '../../../src/cli/main.js';
import { OptionParseError, parseOptions, splitWords, type OptionSpec } from '../../../src/cli/words.js';

const specs: OptionSpec[] = [
  { name: 's', takesValue: false, description: 'stats' },
  { name: 'e', takesValue: false, description: 'ephemeral' },
  { name: 'v', takesValue: true, description: 'version' },
  { name: 'file', takesValue: true, description: 'file' },
];

describe('zk-cli command lines', () => {
  it('splits words, keeping quoted ones whole and dropping their quotes', () => {
    assert.deepEqual(splitWords('create  /a "hello world" \'x y\''), ['create', '/a', 'hello world', 'x y']);
    assert.deepEqual(splitWords('set /a it\'s'), ['set', '/a', "it's"]);
    assert.deepEqual(splitWords('   '), []);
    assert.deepEqual(splitWords('set /a ""'), ['set', '/a', '']);
  });

  it('reads options anywhere, combined flags, attached and negative values', () => {
    const parsed = parseOptions(['create', '-se', '/a', '-v', '-1', 'data'], specs);
    assert.deepEqual([...parsed.options], [
      ['s', true],
      ['e', true],
      ['v', '-1'],
    ]);
    assert.deepEqual(parsed.args, ['create', '/a', 'data']);
    assert.equal(parseOptions(['set', '-v3', '/a'], specs).options.get('v'), '3');
    assert.equal(parseOptions(['r', '-file', 'f.cfg'], specs).options.get('file'), 'f.cfg');
    assert.deepEqual(parseOptions(['x', '--', '-s'], specs).args, ['x', '-s']);
  });

  it('fails with commons-cli wording', () => {
    assert.throws(
      () => parseOptions(['ls', '-x', '/'], specs),
      new OptionParseError('org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -x'),
    );
    assert.throws(
      () => parseOptions(['set', '/a', '-v'], specs),
      new OptionParseError('org.apache.commons.cli.MissingArgumentException: Missing argument for option: v'),
    );
    assert.throws(
      () => parseOptions(['q', '/a'], specs, [{ names: ['s', 'e'], required: true }]),
      new OptionParseError(
        'org.apache.commons.cli.MissingOptionException: Missing required option: [-s stats, -e ephemeral]',
      ),
    );
    const group = [{ names: ['s', 'e'], required: false }];
    assert.throws(() => parseOptions(['q', '-s', '-e'], specs, group), /AlreadySelected/);
  });

  it('has every zkCli.sh 3.8 command and our introspection commands in one table, in Java order', () => {
    const expected = [
      'addWatch', 'addauth', 'close', 'config', 'connect', 'create', 'delete', 'deleteall', 'delquota', 'get',
      'getAcl', 'getAllChildrenNumber', 'getEphemerals', 'history', 'leader', 'listquota', 'locks', 'ls',
      'printwatches', 'quit', 'reconfig', 'redo', 'removewatches', 'services', 'set', 'setAcl', 'setquota',
      'stat', 'sync', 'version', 'whoami',
    ];
    assert.deepEqual(commandNames(), expected);
    for (const spec of commands.values()) assert.equal(typeof spec.run, 'function', spec.name);
    const header = 'ZooKeeper -server host:port -client-configuration properties-file cmd args\n\taddWatch';
    assert.ok(usageText().startsWith(header));
    assert.ok(usageText().includes('\tcreate [-s] [-e] [-c] [-t ttl] path [data] [acl]\n'));
    assert.ok(!usageText().includes('\tlocks '), "the usage block is zkCli.sh's own");
  });

  it('finds what to complete: a command first, a znode path anywhere', () => {
    assert.deepEqual(completionTarget('ge'), { kind: 'command', prefix: 'ge' });
    const root = { kind: 'path', word: '/zoo', parent: '/', prefix: 'zoo' };
    assert.deepEqual(completionTarget('ls -s /zoo'), root);
    const deep = { kind: 'path', word: '/a/b/c', parent: '/a/b', prefix: 'c' };
    assert.deepEqual(completionTarget('get /a/b/c'), deep);
    assert.deepEqual(completionTarget('get '), { kind: 'none' });
    assert.deepEqual(completeCommand('get'), ['get', 'getAcl', 'getAllChildrenNumber', 'getEphemerals']);
    assert.deepEqual(completePath('/a', 'x', ['y', 'xb', 'xa']), ['/a/xa', '/a/xb']);
    assert.deepEqual(completePath('/', '', ['b', 'a']), ['/a', '/b']);
  });

  it('splits -c lists at semicolons outside quotes', () => {
    const list = splitCommandList('create /a; ls / ;; set /a "x;y"');
    assert.deepEqual(list, ['create /a', 'ls /', 'set /a "x;y"']);
  });

  it('keeps the history file bounded, newest last on disk and first in memory', () => {
    assert.deepEqual(parseHistory('ls /\n\nget /a\n'), ['get /a', 'ls /']);
    assert.equal(formatHistory(['get /a', 'ls /']), 'ls /\nget /a\n');
    const many = Array.from({ length: HISTORY_LINES_MAX + 5 }, (_, i) => `ls /${i}`);
    const loaded = parseHistory(`${many.join('\n')}\n`);
    assert.equal(loaded.length, HISTORY_LINES_MAX);
    assert.equal(loaded[0], `ls /${HISTORY_LINES_MAX + 4}`);
  });
});
