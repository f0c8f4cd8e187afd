/**
 * `tokenizer.json` (`{"kind", "vocabulary"}`), read as `keras_nlpkit/ondevice/tokenizer_file.py`
 * reads it: one reader for every kind, each kind's own checks on top.
 */
import {UserInputError} from './errors.js';

/** The vocabulary of a `tokenizer.json` of the given kind; `source` names it in errors. */
export function readVocabulary(data: Uint8Array, source: string, kind: string): string[] {
  let config: {kind?: unknown; vocabulary?: unknown};
  try {
    config = JSON.parse(new TextDecoder('utf-8', {fatal: true}).decode(data));
  } catch (error) {
    throw new UserInputError(`${source}: not a tokenizer file (${(error as Error).message})`);
  }
  const vocabulary = config?.vocabulary;
  if (config?.kind !== kind || !Array.isArray(vocabulary) || vocabulary.some((t) => typeof t !== 'string')) {
    throw new UserInputError(`${source}: not a ${kind} tokenizer. Received: kind=${JSON.stringify(config?.kind)}`);
  }
  return vocabulary as string[];
}
