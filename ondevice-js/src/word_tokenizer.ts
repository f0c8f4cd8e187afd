/**
 * `tokenizer.json` of kind "words", as `keras_nlpkit/ondevice/word_tokenizer.py`:
 * lower-cased, split on whitespace; 0 `<unk>`, 1 `<s>`, 2 `</s>`.
 */
import {UserInputError} from './errors.js';

export class WordTokenizer {
  static readonly unknownId = 0;
  static readonly startId = 1;
  static readonly endId = 2;
  private readonly index: Map<string, number>;

  constructor(readonly vocabulary: string[]) {
    this.index = new Map(vocabulary.map((word, i) => [word, i]));
  }

  static parse(data: Uint8Array, source: string): WordTokenizer {
    let config: {kind?: unknown; vocabulary?: unknown};
    try {
      config = JSON.parse(new TextDecoder('utf-8', {fatal: true}).decode(data));
    } catch (error) {
      throw new UserInputError(`${source}: not a tokenizer file (${(error as Error).message})`);
    }
    const vocabulary = config?.vocabulary;
    if (config?.kind !== 'words' || !Array.isArray(vocabulary)) {
      throw new UserInputError(
        `${source}: not a word tokenizer. Received: kind=${JSON.stringify(config?.kind)}`,
      );
    }
    if (vocabulary.slice(0, 3).join(' ') !== '<unk> <s> </s>' || vocabulary.length < 4) {
      throw new UserInputError(`${source}: the vocabulary must start with <unk>, <s>, </s>`);
    }
    return new WordTokenizer(vocabulary as string[]);
  }

  tokenId(word: string): number {
    return this.index.get(word) ?? WordTokenizer.unknownId;
  }
}
