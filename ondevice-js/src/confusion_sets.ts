/**
 * Real-word confusion sets ("by", "buy", "bye"): correctly spelled words typed for one
 * another, which only the context can tell apart (`SentenceCorrector`).
 *
 * The runtime keeps no copy of them: the export's manifest carries them
 * (`settings.context.confusion_sets`, written by `nlpkit train spelling
 * --context-corpus` from `keras_nlpkit/ondevice/confusion_sets.py`, their one
 * hand-kept copy), so both runtimes offer the same alternatives.
 */
import {UserInputError} from './errors.js';

/** Where the manifest holds them, under `settings.context`. */
export const CONFUSION_SETS_KEY = 'confusion_sets';

/** The manifest's value checked: a list of lists of two or more words. */
export function parseConfusionSets(value: unknown, source: string): string[][] {
  const valid =
    Array.isArray(value) &&
    value.every((members) => Array.isArray(members) && members.length > 1 && members.every((w) => typeof w === 'string' && w !== ''));
  if (!valid) {
    throw new UserInputError(
      `${source}: \`${CONFUSION_SETS_KEY}\` must be a list of lists of two or more words. Received: ${JSON.stringify(value)?.slice(0, 80)}`,
    );
  }
  return value as string[][];
}

/** word → the other words of its sets, in set order; a word in two sets gets both
 * (`confusion_index` in Python: the order of the alternatives is the lattice's). */
export function confusionIndex(sets: readonly (readonly string[])[]): Map<string, string[]> {
  const index = new Map<string, string[]>();
  for (const members of sets) {
    for (const word of members) {
      if (!index.has(word)) index.set(word, []);
      const others = index.get(word)!;
      for (const member of members) if (member !== word && !others.includes(member)) others.push(member);
    }
  }
  return index;
}
