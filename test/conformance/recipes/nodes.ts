// What recipes left on the server: the ephemeral nodes under a path, for "no node left" assertions.
import { joinPath, type Framework } from '../../../src/index.js';

/** Every ephemeral node at or under `path` (contender and lease nodes), as paths. */
export async function ephemeralsUnder(fw: Framework, path: string): Promise<string[]> {
  const found: string[] = [];
  const visit = async (node: string): Promise<void> => {
    const stat = await fw.exists(node);
    if (stat === null) return;
    if (stat.ephemeralOwner !== 0n) found.push(node);
    const { children } = await fw.getChildren(node).catch(() => ({ children: [] as string[] }));
    for (const child of children) await visit(joinPath(node, child));
  };
  await visit(path);
  return found;
}
