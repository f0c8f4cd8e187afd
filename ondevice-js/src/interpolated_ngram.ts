/**
 * `ngrams.tsv.gz` and the count model mixed into the network, as
 * `keras_nlpkit/ondevice/interpolated_ngram.py`: interpolated absolute discounting
 * (D = 0.75) down to Kneser-Ney's continuation unigram. docs/ONDEVICE.md has the formula.
 */
import {UserInputError} from './errors.js';
import type {Lexicon} from './lexicon.js';

export const NGRAM_FILE = 'ngrams.tsv.gz';
const START = '<s>';

/** The bytes of a gzip file, unpacked with the Compression Streams API (browsers, Node 20). */
async function gunzip(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** `{"w1 w2[ w3]": count}` from the bytes of an `ngrams.tsv.gz` file. */
export async function parseNgrams(data: Uint8Array, source: string): Promise<Map<string, number>> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', {fatal: true}).decode(await gunzip(data));
  } catch {
    throw new UserInputError(`${source}: not a gzipped UTF-8 n-gram file`);
  }
  const counts = new Map<string, number>();
  const lines = text.split(/\r\n|\n|\r/);
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, i) => {
    const tab = line.lastIndexOf('\t');
    const gram = tab < 0 ? '' : line.slice(0, tab);
    const count = tab < 0 ? '' : line.slice(tab + 1);
    const words = gram.split(' ');
    if (tab < 0 || !/^[0-9]+$/.test(count) || ![2, 3].includes(words.length) || words.some((w) => !w)) {
      throw new UserInputError(
        `${source}: line ${i + 1} is not \`w1 w2[ w3]<TAB>count\`. Received: ${JSON.stringify(line.slice(0, 60))}`,
      );
    }
    counts.set(gram, Number(count)); // a repeated n-gram: the last line wins, as in Python
  });
  if (counts.size === 0) throw new UserInputError(`${source}: holds no n-gram`);
  return counts;
}

interface Table {
  index: number[];
  shares: number[];
  backoff: number;
}

export class InterpolatedNgram {
  readonly unigram: Float64Array;
  private readonly followers = new Map<string, Map<string, number>>();

  constructor(
    private readonly lexicon: Lexicon,
    counts: Map<string, number>,
    private readonly discount = 0.75,
  ) {
    const leftContexts = new Float64Array(lexicon.size);
    for (const [gram, count] of counts) {
      const words = gram.split(' ');
      const context = words.slice(0, -1).join(' ');
      const word = words[words.length - 1];
      if (!this.followers.has(context)) this.followers.set(context, new Map());
      this.followers.get(context)!.set(word, count);
      const i = lexicon.index.get(word);
      if (words.length === 2 && i !== undefined) leftContexts[i] += 1;
    }
    let total = 0;
    for (let i = 0; i < leftContexts.length; i++) {
      leftContexts[i] += 1e-3; // every lexicon word keeps a little mass
      total += leftContexts[i];
    }
    this.unigram = leftContexts.map((v) => v / total);
  }

  private table(context: string): Table {
    const followers = this.followers.get(context)!;
    let total = 0;
    for (const c of followers.values()) total += c;
    const index: number[] = [];
    const shares: number[] = [];
    for (const [word, c] of followers) {
      const i = this.lexicon.index.get(word);
      if (i !== undefined) {
        index.push(i);
        shares.push((c - this.discount) / total);
      }
    }
    return {index, shares, backoff: (this.discount * followers.size) / total};
  }

  /** P(· | the last two previous words) over the lexicon's words. */
  probabilities(previousWords: readonly string[]): Float64Array {
    const context = [START, START, ...previousWords];
    const p = Float64Array.from(this.unigram);
    for (const order of [1, 2]) {
      const key = context.slice(context.length - order).join(' ');
      if (this.followers.has(key)) {
        const {index, shares, backoff} = this.table(key);
        for (let i = 0; i < p.length; i++) p[i] *= backoff;
        for (let j = 0; j < index.length; j++) p[index[j]] += shares[j];
      }
    }
    return p;
  }
}
