// Types of build-cli.mjs, for the tests and benches that import it from TypeScript.
export const bundleFile: string;
export function isBuildFresh(): boolean;
export function buildCli(): Promise<void>;
/** `text` with every character outside ASCII written as a `\u` escape of the same meaning. */
export function asciiOnly(text: string): string;
