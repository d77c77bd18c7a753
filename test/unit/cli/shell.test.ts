// The shell's own behaviour without a server: zkCli's numbered history and redo, printwatches,
// unknown commands with the usage list, "Not connected" before any session, and the exit codes.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { ExitCode } from '../../../src/cli/errors.js';
import { Shell } from '../../../src/cli/shell.js';

function offlineShell() {
  const printed = { out: '', err: '' };
  const shell = new Shell({
    host: '127.0.0.1:1',
    sessionTimeoutMs: 1000,
    readOnly: false,
    version: 'test',
    output: {
      out: (text) => (printed.out += text),
      err: (text) => (printed.err += text),
      event: (text) => (printed.out += text),
    },
  });
  return { shell, printed };
}

describe('zk-cli shell without a session', () => {
  it('numbers commands, redoes them in place and refuses to redo a redo', async () => {
    const { shell, printed } = offlineShell();
    await using _ = shell;
    assert.equal(await shell.executeLine('printwatches off'), ExitCode.OK);
    assert.equal(await shell.executeLine('   '), undefined, 'blank lines are not numbered');
    assert.equal(await shell.executeLine('redo 0'), ExitCode.OK);
    assert.equal(shell.printWatches, false);
    assert.equal(await shell.executeLine('redo 99'), ExitCode.USAGE);
    assert.equal(await shell.executeLine('redo 2'), ExitCode.USAGE, 'entry 2 is "redo 99"');
    assert.equal(printed.err, 'Command index out of range\nNo redoing redos\n');
    printed.out = '';
    await shell.executeLine('history');
    const history = ['0 - printwatches off', '1 - printwatches off', '2 - redo 99', '3 - redo 2', '4 - history'];
    assert.equal(printed.out, `${history.join('\n')}\nNot connected\n`);
    assert.equal(shell.prompt, '[zk: 127.0.0.1:1(NOT_CONNECTED) 5] ');
  });

  it('prints history lines and "Not connected" as zkCli.sh does', async () => {
    const { shell, printed } = offlineShell();
    await using _ = shell;
    await shell.executeLine('printwatches');
    await shell.executeLine('history');
    assert.equal(
      printed.out,
      'printwatches is on\nNot connected\n0 - printwatches\n1 - history\nNot connected\n',
    );
    assert.equal(shell.exitCode, ExitCode.OK, 'session-less commands succeed');
  });

  it('fails commands that need a session, and unknown ones with the usage list', async () => {
    const { shell, printed } = offlineShell();
    await using _ = shell;
    assert.equal(await shell.executeLine('ls /'), ExitCode.CONNECTION);
    assert.equal(printed.out, 'Not connected\n');
    assert.equal(await shell.executeLine('frobnicate x'), ExitCode.NOT_FOUND);
    assert.match(printed.err, /^ZooKeeper -server host:port .*\n\taddWatch /);
    assert.ok(printed.err.endsWith('\twhoami \nCommand not found: Command not found frobnicate\n'));
    assert.equal(shell.exitCode, ExitCode.NOT_FOUND, 'the last failure decides the exit code');
  });
});
