from keras_nlpkit.models.bert.bert_backbone import BertBackbone  # noqa: F401
from keras_nlpkit.models.bert.bert_classifier import BertClassifier  # noqa: F401
from keras_nlpkit.models.bert.bert_masked_lm_head import BertMaskedLMHead  # noqa: F401
from keras_nlpkit.models.bert.bert_preprocessor import BertPreprocessor  # noqa: F401
from keras_nlpkit.models.bert.bert_pretrainer import BertPretrainer  # noqa: F401
from keras_nlpkit.models.bert.bert_question_answerer import BertQuestionAnswerer  # noqa: F401
from keras_nlpkit.models.bert.bert_token_classifier import BertTokenClassifier  # noqa: F401
from keras_nlpkit.models.bert.bert_token_classifier_preprocessor import (
    BertTokenClassifierPreprocessor,  # noqa: F401
)
