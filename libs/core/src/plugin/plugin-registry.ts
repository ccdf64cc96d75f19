import type { LoadedPlugin } from './media-plugin';

/** Which protocol plugins this process knows and which are enabled (the API lists them). */
export class PluginRegistry {
  constructor(readonly plugins: readonly LoadedPlugin[]) {}

  isEnabled(name: string): boolean {
    return this.plugins.some((p) => p.name === name && p.enabled);
  }
}
