/**
 * The one place an ajv instance is made, with ajv-formats' formats. ajv-formats is
 * CommonJS: under NodeNext its default import is the module object, whose `default` is the
 * plugin. Each schema module still compiles its own validators once, at load.
 */
import { Ajv, type Options } from 'ajv';
import addFormatsModule, { type FormatName } from 'ajv-formats';

const addFormats = addFormatsModule.default;

/** A new Ajv with `options` and the named formats (all of ajv-formats' when omitted). */
export function createAjv(options: Options & { formatNames?: FormatName[] }): Ajv {
  const { formatNames, ...ajvOptions } = options;
  const ajv = new Ajv(ajvOptions);
  if (formatNames) addFormats(ajv, formatNames);
  else addFormats(ajv);
  return ajv;
}
