"""Label suggestions: quoted / editorial / reported, each with a reason."""

import pytest

from annotator.text.outlets import default_registry
from annotator.text.reading import read
from annotator.text.suggest import LABELS, suggest_claim, suggest_sentence

REGISTRY = default_registry()

QUOTED = [
    "The minister said the talks would resume next week.",
    '"We will not give up an inch," the general told reporters.',
    "Officials accused the company of hiding the losses.",
    "The mayor called on residents to stay indoors.",
    'Protesters, who called it "Operation Clean Sweep", blocked the road.',
    "Prices will rise again, according to a senior central bank official.",
    'He referred to the strikers as "a small noisy minority."',
    '"This is only the beginning of a long fight for fair pay."',
    'The plan drew complaints of "waste" from the opposition.',
    "These ships were turned away at the border, she added.",
    '"I agree with every word," the minister said.',
    '"Is this the end?" she asked.',
    "The general said this seemed to be a trap.",
    "Kyiv has repeatedly warned that the dam could fail.",
    'Moscow\'s goal is a "swift victory", Medvedev said.',
    "Kyiv says it will keep shipping grain, Ukrainska Pravda reports.",
]
REPORTED = [
    "The ship docked in Rotterdam on Tuesday.",
    "Turnout rose to 41 percent, according to official figures.",
    "According to a report in the Guardian, the talks collapsed.",
    "According to the draft seen by Reuters, Kyiv keeps its army.",
    "Reuters reported that the deal was signed.",
    'The festival, dubbed "Summer of Light", drew large crowds.',
    "Both sides pledged to continue the talks.",
    "Analysts believe the currency will recover.",
    "The company proposed a two-year wage freeze.",
    "The operation was recognized by officials as a much-needed win.",
    "These reportedly included a ban on joining NATO.",
    'A town called "New Hope" lies to the north.',
    "Still, there was one concrete outcome: an agreement to swap prisoners.",
    "World War I ended in 1918.",
    "Russian propaganda outlets repeated the claim on Sunday.",
    "The so-called referendum was held in September.",
    "The suspect appeared in court on Monday.",
]
EDITORIAL = [
    "This seems to be a deliberate attempt to delay the vote.",
    "I doubt the deal will survive the winter.",
    "Why would anyone trust these figures?",
    "Clearly, the government has lost control of the situation.",
    "In fact, the rail carriers are profiting more than ever.",
    "The decision suggests the board never intended to negotiate.",
    "The minister's absurd and shameless excuses fooled nobody.",
    "Again, the talks appeared to be another example of bad faith.",
    "Imagine the outcry if the roles were reversed.",
    "He has gained notoriety for his theatrical and incendiary remarks.",
    "It is hard to see how the union wins this fight.",
    "In my view the strike is justified.",
    'The phrase "realities on the ground" is, of course, Kremlin shorthand for annexation.',
    "It is worth noting that the same promise was made in 2019.",
    "The strikes seem designed to terrorize civilians.",
    "The army was clearly unprepared for the winter.",
]


@pytest.mark.parametrize(
    ("sentence", "label"),
    [(s, "quoted") for s in QUOTED]
    + [(s, "reported") for s in REPORTED]
    + [(s, "editorial") for s in EDITORIAL],
)
def test_suggest_sentence(sentence: str, label: str) -> None:
    suggestion = suggest_sentence(sentence, REGISTRY)
    assert (suggestion.label, sentence) == (label, sentence), suggestion.reason
    assert suggestion.reason


@pytest.mark.parametrize(
    ("headline", "label"),
    [
        ("Medvedev: Russia wants dominance, not negotiations", "quoted"),
        ("Union leader: the strike goes on", "quoted"),
        ("Strike will go on, union leader says", "quoted"),
        ("Ukraine war: Russia launches drones at Kyiv", "reported"),
        ("Live updates: talks resume in Istanbul", "reported"),
    ],
)
def test_headline_forms(headline: str, label: str) -> None:
    reading = read(headline, REGISTRY)
    assert suggest_claim(reading, (0, len(headline)), headline=True).label == label


@pytest.mark.parametrize(
    ("sentence", "reason"),
    [
        ("The minister said no.", 'speech verb "said" with a speaker'),
        ('"No," the minister said.', 'direct quotation with attribution "said"'),
        ("This seemed to be a threat.", 'hedged assessment "seemed to be"'),
        ("The ship docked.", "no attribution or evaluative cue: presented as fact"),
        (
            "Prices rose, according to a report at NPR.",
            'attributed to an outlet or document "according to a report"',
        ),
    ],
)
def test_reasons_are_readable(sentence: str, reason: str) -> None:
    assert suggest_sentence(sentence, REGISTRY).reason == reason


def test_labels_are_the_three_guideline_labels() -> None:
    assert set(LABELS) == {"reported", "quoted", "editorial"}
