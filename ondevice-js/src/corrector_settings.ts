/**
 * Every knob of on-device spelling correction, read from the export's manifest
 * (`settings.decoding`), as `CorrectorSettings` in
 * `keras_nlpkit/ondevice/corrector_settings.py`, which documents each one.
 */
import {UserInputError} from './errors.js';

export interface CorrectorSettings {
  edit_distance: number;
  max_candidates: number;
  prior_weight: number;
  channel_weight: number;
  distance_weight: number;
  input_bonus: number;
  beam_width: number;
  search_prior_weight: number;
  length_penalty: number;
}

const DEFAULTS: CorrectorSettings = {
  edit_distance: 2,
  max_candidates: 8,
  prior_weight: 1.2,
  channel_weight: 2.5,
  distance_weight: 0.0,
  input_bonus: 1.0,
  beam_width: 3,
  search_prior_weight: 0.15,
  length_penalty: 0.0,
};
const INTEGERS = new Set(['edit_distance', 'max_candidates', 'beam_width']);

/** The settings of a manifest's `"decoding"` object over the defaults; unknown names are refused. */
export function correctorSettings(values: Record<string, unknown>, source: string): CorrectorSettings {
  const unknown = Object.keys(values).filter((name) => !(name in DEFAULTS)).sort();
  if (unknown.length) throw new UserInputError(`${source}: unknown decoding settings ${JSON.stringify(unknown)}`);
  const settings = {...DEFAULTS, ...values} as Record<string, unknown>;
  for (const [name, value] of Object.entries(settings)) {
    const ok = INTEGERS.has(name)
      ? Number.isInteger(value) && (value as number) >= (name === 'edit_distance' ? 0 : 1)
      : typeof value === 'number' && Number.isFinite(value) && value >= 0;
    if (!ok) throw new UserInputError(`${source}: \`${name}\` is out of range. Received: ${name}=${JSON.stringify(value)}`);
  }
  return settings as unknown as CorrectorSettings;
}
