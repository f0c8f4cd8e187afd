"""WikiText's tokenization and word count."""

from keras_nlpkit.text.wikitext import count_words
from keras_nlpkit.text.wikitext import first_words
from keras_nlpkit.text.wikitext import wikitext_style


def test_raw_text_in_wikitext_style_and_its_word_count():
    assert (
        wikitext_style("Asia's well-known 1,000 ``cats''.")
        == 'Asia \'s well @-@ known 1 @,@ 000 " cats " .'
    )
    assert wikitext_style("He left the U.S. in 3.5 days; (really)!") == (
        "He left the U.S. in 3 @.@ 5 days ; ( really ) !"
    )
    lines = ["the cat runs , the dog", "", "runs oog ."]
    assert count_words(lines) == 6 + 1 + 0 + 1 + 3 + 1  # words + one end of line per line
    assert first_words(lines, 7) == lines[:1] and first_words(lines, 8) == lines[:2]
