// A typedoc plugin: the public entry points mark some `export * from` lines `/** @internal */` (the pure
// cores exported for tools and tests). typedoc does not carry a comment on `export *` to the symbols it
// re-exports, so this reads those lines and tags every top-level symbol declared in such a file as
// @internal, which `excludeInternal` then drops from the site.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Comment, Converter, ReflectionKind } from 'typedoc';

const INTERNAL_REEXPORT = /\/\*\*\s*@internal\s*\*\/\s*export\s*\*\s*from\s*'([^']+)'/g;

/** Absolute .ts paths of the modules an entry point re-exports under an @internal comment. */
function internalModules(entryPoint) {
  const text = readFileSync(entryPoint, 'utf8');
  const found = new Set();
  for (const match of text.matchAll(INTERNAL_REEXPORT)) {
    found.add(path.resolve(path.dirname(entryPoint), match[1].replace(/\.js$/, '.ts')));
  }
  return found;
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  let internal = new Set();
  app.converter.on(Converter.EVENT_BEGIN, () => {
    internal = new Set();
    for (const entry of app.options.getValue('entryPoints')) {
      for (const file of internalModules(path.resolve(entry))) internal.add(file);
    }
  });
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (!reflection.parent?.kindOf(ReflectionKind.Module | ReflectionKind.Project)) return;
    const symbol = context.getSymbolFromReflection(reflection);
    const files = (symbol?.declarations ?? []).map((d) => path.resolve(d.getSourceFile().fileName));
    if (files.length === 0 || !files.every((file) => internal.has(file))) return;
    reflection.comment ??= new Comment();
    reflection.comment.modifierTags.add('@internal');
  });
}
