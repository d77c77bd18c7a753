// The `zk-server` command. Until the standalone server lands it only explains itself.

export async function main(args: string[]): Promise<number> {
  const [command] = args;
  if (command === undefined || command === '--help' || command === 'help') {
    process.stdout.write('usage: zk-server start-foreground <zoo.cfg>\n');
    return 0;
  }
  process.stderr.write(`zk-server ${command}: not yet implemented in this build\n`);
  return 0;
}
