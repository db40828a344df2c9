/**
 * The official e-invoice rules, run in-process from `../shared/einvoice/` (never copied into the repo): CEN's
 * EN 16931 schematron for UBL and Peppol BIS Billing 3.0, compiled for SaxonJS, and the UBL 2.1 XSD through
 * xmllint-wasm. Each stylesheet is loaded once per process and shared by every validation.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import SaxonJS from 'saxon-js';
import { validateXML, type XMLFileInfo } from 'xmllint-wasm';

export const EINVOICE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/einvoice');
const RULE_FILES = { cen: 'cen-en16931-ubl-1.3.16.sef.json', peppol: 'peppol-bis3-3.0.19.sef.json' } as const;
export type RuleSet = keyof typeof RULE_FILES;

export interface FailedAssert {
  readonly id: string;
  readonly flag: string;
  readonly text: string;
}
export interface Verdict {
  /** Failed asserts flagged fatal, per rule set: each is a defect of the document. */
  readonly fatal: Record<RuleSet, FailedAssert[]>;
  readonly warnings: Record<RuleSet, FailedAssert[]>;
  /** XSD errors (empty when valid against UBL-Invoice-2.1.xsd); null when the XSD was not asked for. */
  readonly xsd: string[] | null;
}

const stylesheets = new Map<RuleSet, Promise<unknown>>();
function stylesheet(set: RuleSet): Promise<unknown> {
  let loaded = stylesheets.get(set);
  if (!loaded) stylesheets.set(set, (loaded = readFile(path.join(EINVOICE_DIR, 'rules', RULE_FILES[set]), 'utf8').then((text) => JSON.parse(text))));
  return loaded;
}

let schemaFiles: Promise<{ schema: XMLFileInfo; preload: XMLFileInfo[] }> | undefined;
function schema() {
  schemaFiles ??= (async () => {
    const common = path.join(EINVOICE_DIR, 'xsd', 'common');
    const preload = await Promise.all(
      (await readdir(common)).map(async (name) => ({ fileName: `common/${name}`, contents: await readFile(path.join(common, name), 'utf8') })),
    );
    const main = await readFile(path.join(EINVOICE_DIR, 'xsd', 'maindoc', 'UBL-Invoice-2.1.xsd'), 'utf8');
    return { schema: { fileName: 'maindoc/UBL-Invoice-2.1.xsd', contents: main }, preload };
  })();
  return schemaFiles;
}

const ASSERT = /<svrl:failed-assert\b([^>]*)>([\s\S]*?)<\/svrl:failed-assert>/g;
const attribute = (attributes: string, name: string) => new RegExp(`${name}="([^"]*)"`).exec(attributes)?.[1] ?? '';

/** The failed asserts of one rule set on one document. */
export async function failedAsserts(set: RuleSet, xml: string): Promise<FailedAssert[]> {
  const result = await SaxonJS.transform({ stylesheetInternal: await stylesheet(set), sourceText: xml, destination: 'serialized' }, 'async');
  const asserts: FailedAssert[] = [];
  for (const [, attributes, body] of result.principalResult.matchAll(ASSERT)) {
    const text = /<svrl:text>([\s\S]*?)<\/svrl:text>/.exec(body!)?.[1]?.trim() ?? '';
    asserts.push({ id: attribute(attributes!, 'id'), flag: attribute(attributes!, 'flag'), text });
  }
  return asserts;
}

/** The XSD's errors on one document (empty: valid). */
export async function xsdErrors(xml: string): Promise<string[]> {
  const { schema: main, preload } = await schema();
  const result = await validateXML({ xml: [{ fileName: 'invoice.xml', contents: xml }], schema: [main], preload });
  return result.valid ? [] : result.errors.map((error) => error.rawMessage);
}

/** Both rule sets (and, unless skipped, the XSD) on one document. */
export async function validateUbl(xml: string, options: { xsd?: boolean } = {}): Promise<Verdict> {
  const [cen, peppol, xsd] = await Promise.all([
    failedAsserts('cen', xml),
    failedAsserts('peppol', xml),
    options.xsd === false ? null : xsdErrors(xml),
  ]);
  const split = (asserts: FailedAssert[], fatal: boolean) => asserts.filter((a) => (a.flag === 'fatal') === fatal);
  return {
    fatal: { cen: split(cen, true), peppol: split(peppol, true) },
    warnings: { cen: split(cen, false), peppol: split(peppol, false) },
    xsd,
  };
}
