/**
 * Creates Community Solid Server apps, reading each config once per process.
 *
 * Why: most of a server's start (several CPU-seconds on a 2-core machine) is Components.js parsing CSS's component
 * descriptions and the config's JSON-LD files; instantiating the parsed config is a fraction of it. A process that
 * starts several servers with the same config (the test pods, `npm start`'s businesses, a pod that restarts) keeps
 * the parsed config and builds each server's objects anew from it.
 *
 * Components.js caches the objects it built per config IRI, so a kept manager is reset before each app, and apps
 * are created one at a time: two creations sharing one manager at once would share objects.
 */
import { AppRunner, type App } from '@solid/community-server';
import type { ComponentsManager, IComponentsManagerBuilderOptions } from 'componentsjs';
import { cssModuleState } from './css-modules.ts';

const managers = new Map<string, Promise<ComponentsManager<unknown>>>();
let queue: Promise<unknown> = Promise.resolve();

/** An AppRunner that reuses the components manager kept for its config. */
class ReusingAppRunner extends AppRunner {
  /** Forgets what building this app added to the kept manager's graph (see `createComponentsManager`). */
  forgetApp: () => void = () => undefined;

  constructor(private readonly keep: boolean) {
    super();
  }

  override async createComponentsManager<T>(
    loaderProperties: IComponentsManagerBuilderOptions<T>,
    configs: string[],
  ): Promise<ComponentsManager<T>> {
    if (!this.keep) return super.createComponentsManager(loaderProperties, configs);
    const key = configs.join('\n');
    let manager = managers.get(key);
    if (manager === undefined) {
      manager = super.createComponentsManager(loaderProperties, configs);
      managers.set(key, manager);
      manager.catch(() => managers.delete(key));
    }
    const ready = (await manager) as ComponentsManager<T>;
    ready.configConstructorPool.reset();
    // Building an app adds ~2,000 resources (its variables and the objects made of them) to the manager's graph,
    // which keeps them: 1.5 MB and a slower start with every server a process starts (60 starts: heap 83 → 170 MB,
    // a start 465 → 748 ms). They serve that one app alone.
    const resources = ready.objectLoader.resources;
    const before = new Set(Object.keys(resources));
    this.forgetApp = () => {
      for (const key of Object.keys(resources)) if (!before.has(key)) delete resources[key];
    };
    return ready;
  }
}

export interface CssAppOptions {
  readonly config: string;
  readonly shorthand: Record<string, unknown>;
  /** Keep the parsed config for later servers in this process (false for a one-off config file). */
  readonly keep: boolean;
}

/** A new, not yet started CSS app. */
export function createCssApp(options: CssAppOptions): Promise<App> {
  const create = async (): Promise<App> => {
    const runner = new ReusingAppRunner(options.keep);
    try {
      return await runner.create({
        config: options.config,
        loaderProperties: { logLevel: 'warn', moduleState: await cssModuleState() },
        shorthand: options.shorthand,
      });
    } finally {
      runner.forgetApp();
    }
  };
  const created = queue.then(create, create);
  queue = created.catch(() => undefined);
  return created;
}
