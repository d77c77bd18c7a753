// Znode path rules, as Apache's PathUtils applies them: one function returns the reason a path is
// invalid, or undefined when it is fine, so callers can log, reply BadArguments, or throw.

/** Characters ZooKeeper refuses in a path (besides NUL): controls, surrogates, private use, specials. */
function isDisallowedCodeUnit(c: number): boolean {
  return (
    (c > 0x0000 && c <= 0x001f) ||
    (c >= 0x007f && c <= 0x009f) ||
    (c >= 0xd800 && c <= 0xf8ff) ||
    (c >= 0xfff0 && c <= 0xffff)
  );
}

/**
 * Why `path` is not a valid znode path, or undefined if it is. With `sequential`, the path is
 * checked as if a digit followed it, as Apache does, since the server appends the sequence number:
 * "/a/" (becomes "/a/0000000001") and "/a/." (becomes "/a/.0000000001") are then valid.
 */
export function pathProblem(path: string, options: { sequential?: boolean } = {}): string | undefined {
  if (typeof path !== 'string') return 'path must be a string';
  if (options.sequential) return pathProblem(`${path}1`);
  if (path.length === 0) return 'Path length must be > 0';
  if (path.charCodeAt(0) !== 0x2f) return 'Path must start with / character';
  if (path.length === 1) return undefined;
  if (path.charCodeAt(path.length - 1) === 0x2f) return 'Path must not end with / character';
  let previous = 0x2f;
  for (let i = 1; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0) return `null character not allowed @${i}`;
    if (c === 0x2f && previous === 0x2f) return `empty node name specified @${i}`;
    if (c === 0x2e && previous === 0x2e) {
      // ".." as a whole segment
      if (path.charCodeAt(i - 2) === 0x2f && (i + 1 === path.length || path.charCodeAt(i + 1) === 0x2f)) {
        return `relative paths not allowed @${i}`;
      }
    } else if (c === 0x2e && previous === 0x2f) {
      // "." as a whole segment
      if (i + 1 === path.length || path.charCodeAt(i + 1) === 0x2f) return `relative paths not allowed @${i}`;
    } else if (isDisallowedCodeUnit(c)) {
      return `invalid character @${i}`;
    }
    previous = c;
  }
  return undefined;
}

/** The parent of a valid path ("/" for a top-level node). */
export function parentPath(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

/** The last segment of a valid path ("" for "/"). */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Joins a parent path and a child name. */
export function joinPath(parent: string, child: string): string {
  return parent === '/' ? `/${child}` : `${parent}/${child}`;
}

/** The sequential suffix ZooKeeper appends: the parent's create counter, %010d of a signed int. */
export function sequenceSuffix(counter: number): string {
  const value = counter | 0;
  // Java's %010d: the sign counts towards the width.
  return value < 0 ? `-${String(-value).padStart(9, '0')}` : String(value).padStart(10, '0');
}
