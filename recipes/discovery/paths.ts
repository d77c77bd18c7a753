// Curator's service discovery layout: `<basePath>/<serviceName>/<instanceId>`, one node per instance.
// Names and ids must be single path segments: Curator would happily create nested nodes for an id with
// a '/', which no reader then finds.
import { InvalidArgumentError, joinPath, pathProblem } from '../../src/index.js';

/** Why `segment` cannot be a service name or instance id, or undefined. */
export function segmentProblem(segment: string, what = 'segment'): string | undefined {
  if (typeof segment !== 'string' || segment.length === 0) return `${what} must be a non-empty string`;
  if (segment.includes('/')) return `${what} must not contain '/': ${segment}`;
  if (segment === '.' || segment === '..') return `${what} must not be '.' or '..'`;
  const problem = pathProblem(`/${segment}`);
  return problem === undefined ? undefined : `${what} ${JSON.stringify(segment)}: ${problem}`;
}

function checked(basePath: string, ...segments: Array<[string, string]>): string {
  const problem = pathProblem(basePath);
  if (problem !== undefined) {
    throw new InvalidArgumentError(`bad discovery base path ${basePath}: ${problem}`);
  }
  let path = basePath;
  for (const [segment, what] of segments) {
    const segmentIssue = segmentProblem(segment, what);
    if (segmentIssue !== undefined) throw new InvalidArgumentError(segmentIssue);
    path = joinPath(path, segment);
  }
  return path;
}

/** `<basePath>/<name>`: the service's directory, whose children are its instances. */
export function servicePath(basePath: string, name: string): string {
  return checked(basePath, [name, 'service name']);
}

/** `<basePath>/<name>/<id>`: one instance's node. */
export function instancePath(basePath: string, name: string, id: string): string {
  return checked(basePath, [name, 'service name'], [id, 'instance id']);
}

/** The service name and instance id of an instance node path under `basePath`, or undefined. */
export function parseInstancePath(basePath: string, path: string): { name: string; id: string } | undefined {
  const prefix = basePath === '/' ? '/' : `${basePath}/`;
  if (!path.startsWith(prefix)) return undefined;
  const rest = path.slice(prefix.length).split('/');
  if (rest.length !== 2) return undefined;
  const [name, id] = rest as [string, string];
  if (segmentProblem(name) !== undefined || segmentProblem(id) !== undefined) return undefined;
  return { name, id };
}
