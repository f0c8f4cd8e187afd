export {UserInputError} from './errors.js';
export {ensureLiteRt, compileModel} from './litert.js';
export {findExportFolder, readListedFile, type ExportFolder, type Manifest} from './model_folder.js';
export {Lexicon, parseLexicon, compareCodePoints} from './lexicon.js';
export {InterpolatedNgram, parseNgrams} from './interpolated_ngram.js';
export {WordTokenizer} from './word_tokenizer.js';
export {OnDeviceModel, logSoftmax, type State} from './on_device_model.js';
export {QueryCompleter, normalizeQuery, topInRange, type QueryCompleterOptions} from './query_completer.js';
