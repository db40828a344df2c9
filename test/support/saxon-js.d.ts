// Minimal typings for saxon-js 2.x (the package ships none). Only what the e-invoice tests use.
declare module 'saxon-js' {
  interface TransformOptions {
    readonly stylesheetInternal: unknown;
    readonly sourceText: string;
    readonly destination: 'serialized';
  }
  const SaxonJS: {
    transform(options: TransformOptions, mode: 'async'): Promise<{ principalResult: string }>;
  };
  export default SaxonJS;
}
