"""Training-side text preparation (TF-free): what recipes turn raw files into.

    queries          query logs → normalised queries, the train/dev split
    ngrams           n-gram counts (`ondevice.ngram_table` stores them for the device)
    lexicon          the lexicon file the device reads
    cooccurrence     GloVe's co-occurrence counts, in bounded memory
    misspellings     codespell's misspellings, symspell's frequencies, pair files
    synthetic_misspellings   keyboard/spelling/sound errors for training pairs
    typos            the typos evaluation injects into queries (a separate generator)
    documents        documents of sentences, next-sentence pairs
    wikitext         WikiText's tokenization and word count
    classification   SST-2 and TREC QC readers
    conll            CoNLL-2003 / word<TAB>tag files → tagged sentences, IOB1 → BIO
    corpora          the text that ships with Python (the main job's data)
    word_characters  words → character ids (UTF-8 bytes) for character-level encoders

The on-device readers of the same files live in `keras_nlpkit.ondevice`.
"""
