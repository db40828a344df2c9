/**
 * Components.js module discovery for CSS, restricted to CSS's own dependency tree.
 *
 * Why: by default Components.js (used by CSS to wire itself from its JSON configs) scans EVERY package under every
 * node_modules folder from the CSS package up to the file system root. This project also has shacl-engine, which
 * pulls Comunica 4/5 packages whose component files use the Components.js 6 context; CSS 7 ships Components.js 5,
 * which cannot find that context locally and tries to download it from linkedsoftwaredependencies.org. Offline the
 * server then fails to start ("Failed to load remote context …componentsjs/^6.0.0…: fetch failed"); online it
 * depends on a remote site at every start.
 *
 * Fix: a ModuleStateBuilder whose package list is the transitive dependency closure of @solid/community-server
 * (Node resolution from each package's folder), passed to CSS as `loaderProperties.moduleState`. Built once per
 * process and shared by every server started in it (it is only read), which also saves the scan on the second start.
 */
import { existsSync, realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { IModuleState, ModuleStateBuilder as ModuleStateBuilderType } from 'componentsjs';

const require = createRequire(import.meta.url);
/** Folder of the installed @solid/community-server package. */
const cssPackageDir = dirname(realpathSync(require.resolve('@solid/community-server/package.json')));
// The Components.js instance CSS itself loads (not whatever another package might hoist).
const cssRequire = createRequire(join(cssPackageDir, 'package.json'));
const { ModuleStateBuilder } = cssRequire('componentsjs') as { ModuleStateBuilder: typeof ModuleStateBuilderType };

function resolvePackageDir(fromDir: string, name: string): string | undefined {
  let dir = fromDir;
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Transitive dependency closure (dependencies, optional and peer dependencies) of `rootDir`, as real paths. */
async function dependencyClosure(rootDir: string): Promise<string[]> {
  const seen = new Set<string>();
  const queue = [realpathSync(rootDir)];
  while (queue.length > 0) {
    const dir = queue.pop()!;
    if (seen.has(dir)) continue;
    seen.add(dir);
    let pkg: Record<string, unknown>;
    try {
      pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    } catch {
      continue;
    }
    const names = new Set<string>();
    for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies']) {
      const deps = pkg[field];
      if (deps && typeof deps === 'object') for (const name of Object.keys(deps)) names.add(name);
    }
    for (const name of names) {
      const found = resolvePackageDir(dir, name);
      if (found && !seen.has(found)) queue.push(found);
    }
  }
  return [...seen];
}

class CssOnlyModuleStateBuilder extends ModuleStateBuilder {
  override async buildNodeModulePaths(): Promise<string[]> {
    return dependencyClosure(cssPackageDir);
  }
}

let cached: Promise<IModuleState> | undefined;

/** The Components.js module state for CSS, computed once per process. */
export function cssModuleState(): Promise<IModuleState> {
  cached ??= new CssOnlyModuleStateBuilder().buildModuleState(require, cssPackageDir);
  cached.catch(() => (cached = undefined));
  return cached;
}
