"""The training utterances of Concierge's own intent classifier (agents/offline/data)."""

import csv
import re
from collections import Counter
from functools import cache

from agents.offline.intents import INTENTS
from tests.support import ROOT

CSV_PATH = ROOT / "agents" / "offline" / "data" / "utterances.csv"

MIN_PER_INTENT = 50
MIN_FAQ = 200
MIN_MISSPELT_ROWS = 30
MIN_CV_ACCURACY = 0.80

# Misspellings written into the utterances on purpose, as customers type them.
MISSPELLINGS = frozenset(
    """
    trasnfer tranfer transfr balanse ballance balanses recieve recieved acount acounts accout
    paymnet paymnets shedule scheduel cancle cancell frezze freez unfrezze unfreez unlcok
    replacment stolne disput transacton transacitons trasnactions transactoins recongize
    savigns savign goel goels progess creat purchse notificaitons notifcations alret alrets
    emial adress agnet humna hlep helo hellow goodby goodbey thnks thnx yuo yse comfirm
    nevermnd forgt ment sry internatinal excahnge mortage overdarft withdrawl withdrawls
    identiy refnud intrest electricty electic recomendations recomend ofers spendng spnd spnt
    unusal anythign anyhting upcomng bils comming checkin cheking bil tommorow monthy reccuring
    evning wether jok wat chrismas mvoe verison crad tody insurence studnet hospitel evry debti
    temporarly untill agian trun brokn ammount charg vacaton paychek automaticaly chnage
    finaces finacial ther afternon mornin thaks apreciated latr dya aks persn servise
    representive representitive ahaed procede thinkso scrach recipie wrold numbr verfiy wrok
    compund insurred authentification febuary catagory
    """.split()
)


@cache
def read_csv() -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    with CSV_PATH.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = tuple((row["text"], row["category"]) for row in reader)
        return tuple(reader.fieldnames or ()), rows


def rows() -> tuple[tuple[str, str], ...]:
    return read_csv()[1]


def test_header_is_exactly_text_and_category() -> None:
    header, _ = read_csv()
    assert header == ("text", "category")
    with CSV_PATH.open(newline="", encoding="utf-8") as f:
        assert all(len(record) == 2 for record in csv.reader(f))


def test_every_intent_has_enough_utterances() -> None:
    counts = Counter(intent for _, intent in rows())
    short = {
        intent: counts[intent]
        for intent in INTENTS
        if counts[intent] < (MIN_FAQ if intent == "faq" else MIN_PER_INTENT)
    }
    assert short == {}


def test_faq_has_at_least_two_hundred_utterances() -> None:
    assert sum(intent == "faq" for _, intent in rows()) >= MIN_FAQ


def test_no_label_outside_the_intents() -> None:
    assert {intent for _, intent in rows()} <= set(INTENTS)


def test_no_empty_texts() -> None:
    assert [intent for text, intent in rows() if not text.strip()] == []
    assert all(text == text.strip() for text, _ in rows())


def test_no_duplicate_texts() -> None:
    normalised = Counter(" ".join(text.lower().split()) for text, _ in rows())
    assert [text for text, n in normalised.items() if n > 1] == []


def test_enough_rows_carry_a_realistic_misspelling() -> None:
    misspelt = [
        text for text, _ in rows() if set(re.findall(r"[a-z0-9']+", text.lower())) & MISSPELLINGS
    ]
    assert len(misspelt) >= MIN_MISSPELT_ROWS


def test_intents_are_learnable_by_a_quick_char_ngram_model() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    texts = [text for text, _ in rows()]
    labels = [intent for _, intent in rows()]
    model = make_pipeline(TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)), LinearSVC())
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    scores = cross_val_score(model, texts, labels, cv=folds, scoring="accuracy")
    assert scores.mean() >= MIN_CV_ACCURACY
