/**
 * `tokenizer.json` of kind "words", as `keras_nlpkit/ondevice/word_tokenizer.py`:
 * lower-cased, split on whitespace; 0 `<unk>`, 1 `<s>`, 2 `</s>`.
 */
import {UserInputError} from './errors.js';
import {readVocabulary} from './tokenizer_file.js';

export class WordTokenizer {
  static readonly unknownId = 0;
  static readonly startId = 1;
  static readonly endId = 2;
  private readonly index: Map<string, number>;

  constructor(readonly vocabulary: string[]) {
    this.index = new Map(vocabulary.map((word, i) => [word, i]));
  }

  static parse(data: Uint8Array, source: string): WordTokenizer {
    const vocabulary = readVocabulary(data, source, 'words');
    if (vocabulary.slice(0, 3).join(' ') !== '<unk> <s> </s>' || vocabulary.length < 4) {
      throw new UserInputError(`${source}: the vocabulary must start with <unk>, <s>, </s>`);
    }
    return new WordTokenizer(vocabulary);
  }

  tokenId(word: string): number {
    return this.index.get(word) ?? WordTokenizer.unknownId;
  }
}
