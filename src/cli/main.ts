// The `zk-cli` command. Until the shell lands it only explains itself.

export async function main(args: string[]): Promise<number> {
  if (args.includes('--help')) {
    process.stdout.write('usage: zk-cli -server host:port[,host:port][/chroot]\n');
    return 0;
  }
  process.stderr.write('zk-cli: not yet implemented in this build\n');
  return 0;
}
