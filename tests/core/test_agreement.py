"""LocalAgreement-2 and the turn rules, with no audio and no model."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.agreement import (
    Action,
    LocalAgreement,
    SegmentScores,
    SpeechEvidence,
    SpeechSpan,
    Step,
    TimedWord,
    TurnRules,
    cut_in,
    ends_sentence,
    final_turn,
    join_pieces,
    normalise,
    partial_turn,
    plan_step,
    sentence_cut,
    utterance_end,
    without_made_up_tail,
)

RULES = TurnRules()


def words(text: str, start: int = 0, step: int = 300) -> list[TimedWord]:
    """``text`` as words of ``step`` ms each from ``start``, 50 ms gaps."""
    return [TimedWord(t, start + i * step, start + i * step + step - 50, 0.9)
            for i, t in enumerate(text.split())]


def texts(seq: tuple[TimedWord, ...] | list[TimedWord]) -> str:
    return " ".join(w.text for w in seq)


# --- LocalAgreement ------------------------------------------------------------------------


def test_first_hypothesis_commits_nothing_and_is_the_tail() -> None:
    agreement = LocalAgreement()
    assert agreement.insert(words("the library")) == 0
    assert agreement.committed == ()
    assert texts(agreement.tail) == "the library"


def test_two_hypotheses_commit_their_longest_common_prefix() -> None:
    agreement = LocalAgreement()
    agreement.insert(words("the small bo"))
    assert agreement.insert(words("the small boat drifted")) == 2
    assert texts(agreement.committed) == "the small"
    assert texts(agreement.tail) == "boat drifted"
    assert agreement.insert(words("the small boat drifted slowly")) == 2
    assert texts(agreement.committed) == "the small boat drifted"
    assert texts(agreement.tail) == "slowly"


def test_case_and_punctuation_changes_still_agree_and_the_newest_wording_is_kept() -> None:
    agreement = LocalAgreement()
    agreement.insert(words("bring your notebook."))
    agreement.insert(words("Bring your notebook, we will"))
    assert texts(agreement.committed) == "Bring your notebook,"
    assert normalise("Notebook,") == normalise("notebook.") == "notebook"
    assert normalise("don't!") == "don't"


def test_a_decoder_that_repeats_the_committed_words_differently_is_aligned_by_time() -> None:
    agreement = LocalAgreement()
    agreement.insert(words("please remember to"))
    agreement.insert(words("please remember to bring"))
    assert texts(agreement.committed) == "please remember to"
    # The decoder now hears "pleased" at the start: no longer a prefix match.
    changed = words("pleased remember to bring your")
    assert agreement.new_part(changed) == changed[3:]
    assert agreement.insert(changed) == 1  # "bring" agreed with the last tail
    assert texts(agreement.committed) == "please remember to bring"


def test_a_repeat_of_the_last_committed_words_at_the_boundary_is_dropped() -> None:
    agreement = LocalAgreement(carried=words("in the morning", start=0))
    # Times put "the morning" after the horizon; the n-gram rule removes the repeat.
    hypothesis = [*words("the morning", start=700), *words("and closes", start=1300)]
    assert texts(agreement.new_part(hypothesis)) == "and closes"


def test_finish_takes_the_rest_of_the_last_decode_or_the_last_tail() -> None:
    agreement = LocalAgreement()
    agreement.insert(words("after lunch"))
    agreement.insert(words("after lunch today we"))
    assert texts(agreement.finish(words("after lunch today we meet."))) == \
        "after lunch today we meet."
    assert texts(agreement.finish(None)) == "after lunch today we"
    assert texts(agreement.finish([])) == "after lunch"


def test_split_ends_the_turn_and_carries_the_rest() -> None:
    agreement = LocalAgreement()
    agreement.insert(words("it rained. we stayed in and"))
    agreement.insert(words("it rained. we stayed in and read"))
    ended, following = agreement.split(sentence_cut(agreement.committed))
    assert texts(ended) == "it rained."
    assert texts(following.committed) == "we stayed in and"
    assert texts(following.tail) == "read"
    # A cut inside the tail: the tail after it stays the tail.
    ended, following = agreement.split(len(agreement.committed) + 1)
    assert texts(ended) == "it rained. we stayed in and read"
    assert following.committed == () and following.tail == ()
    with pytest.raises(ValueError):
        agreement.split(0)
    with pytest.raises(ValueError):
        agreement.split(len(agreement.committed) + 2)
    agreement.insert(words("it rained. we stayed in and read a book"))
    ended, following = agreement.split(sentence_cut(agreement.committed) + 1)
    assert texts(ended) == "it rained. we"
    assert texts(following.committed) == "stayed in and read"
    assert texts(following.tail) == "a book"


def test_sentence_cut() -> None:
    assert sentence_cut(words("no end here")) == 0
    assert sentence_cut(words("one. two? three! four")) == 3
    assert sentence_cut(words('he said "stop." then')) == 3
    assert sentence_cut([]) == 0


@pytest.mark.parametrize(("text", "ends"), [
    ("them.", True), ("now?", True), ("stop!", True), ('"stop."', True), ("I.", True),
    ("no.", True), ("etc.", True), ("U.S.", True), ("them,", False), ("them", False),
    # A title or abbreviation before a name or word, or an initial: the sentence goes on.
    ("Mr.", False), ("Mrs.", False), ("Dr.", False), ("St.", False), ("e.g.", False),
    ("vs.", False), ("J.", False),
])
def test_a_full_stop_ends_a_sentence_unless_it_ends_an_abbreviation(text: str,
                                                                    ends: bool) -> None:
    assert ends_sentence(TimedWord(text, 0, 100)) is ends
    assert sentence_cut(words(f"And {text} John Dashwood")) == (2 if ends else 0)


vocabulary = st.sampled_from(["a", "b", "c", "A.", "b,", "the", "The"])


@given(st.lists(st.lists(vocabulary, max_size=8), min_size=1, max_size=12))
def test_committed_words_only_ever_grow(hypotheses: list[list[str]]) -> None:
    agreement = LocalAgreement()
    before: tuple[TimedWord, ...] = ()
    for text in hypotheses:
        agreement.insert(words(" ".join(text)))
        assert agreement.committed[:len(before)] == before
        before = agreement.committed
    final = agreement.finish(None)
    assert final[:len(before)] == before


@given(st.data())
def test_noisy_growing_prefixes_commit_only_true_words(data: st.DataObject) -> None:
    truth = words(" ".join(f"w{i}" for i in range(12)))
    agreement = LocalAgreement()
    length = 0
    for round_ in range(data.draw(st.integers(1, 15))):
        length = min(len(truth), length + data.draw(st.integers(0, 3)))
        noisy = data.draw(st.integers(0, min(2, length)))
        # The last `noisy` words are misheard, differently in every round.
        hypothesis = [*truth[:length - noisy],
                      *(TimedWord(f"x{round_}{j}", w.start_ms, w.end_ms)
                        for j, w in enumerate(truth[length - noisy:length]))]
        agreement.insert(hypothesis)
        assert agreement.committed == tuple(truth[:len(agreement.committed)])
    assert agreement.finish(truth) == tuple(truth)


# --- when to decode and when to end a turn ----------------------------------------------------


def span(start: int, end: int, ended: bool = True) -> SpeechSpan:
    return SpeechSpan(start, end, ended)


def plan(buffer_ms: int, spans: list[SpeechSpan], *, turn_open: bool = False,
         decoded_ms: int | None = None) -> Step:
    return plan_step(RULES, buffer_ms=buffer_ms, spans=spans, turn_open=turn_open,
                     decoded_ms=decoded_ms)


def test_silence_is_dropped_but_a_pad_is_kept_for_the_next_onset() -> None:
    # The pad, and speech too short yet for the detector to show (under min_speech_ms).
    assert plan(1000, []) == Step(Action.DISCARD, 400)
    assert plan(550, []) == Step(Action.DISCARD, 0)
    assert plan(3000, [span(1500, 3000, ended=False)]) == Step(Action.DISCARD, 1300)
    # Only whole detector windows go: the buffer stays on the stream's window grid.
    assert plan_step(RULES, buffer_ms=3000, spans=[span(1500, 3000, ended=False)],
                     turn_open=False, decoded_ms=None, window_ms=32) == \
        Step(Action.DISCARD, 1280)


def test_a_turn_with_words_but_no_speech_left_is_dropped_as_silence() -> None:
    # No speech: the same whether words happen to be on screen (the engine clears them).
    assert plan(2000, [], turn_open=True) == plan(2000, []) == Step(Action.DISCARD, 1400)


def test_the_first_decode_waits_for_enough_speech() -> None:
    assert plan(500, [span(200, 500, ended=False)]) == Step(Action.WAIT)
    assert plan(600, [span(200, 600, ended=False)]) == Step(Action.DECODE)


def test_until_the_first_words_decodes_follow_each_other_closely() -> None:
    # The first decode heard nothing yet: the next comes after 250 ms, not a whole step...
    assert plan(800, [span(200, 800, ended=False)], decoded_ms=600) == Step(Action.WAIT)
    assert plan(850, [span(200, 850, ended=False)], decoded_ms=600) == Step(Action.DECODE)
    # ...but not for ever: sound the model keeps hearing nothing in goes at the normal step.
    assert plan(2500, [span(200, 2500, ended=False)], decoded_ms=2200) == Step(Action.WAIT)
    # Once words are on screen, the normal step.
    assert plan(850, [span(200, 850, ended=False)], turn_open=True,
                decoded_ms=600) == Step(Action.WAIT)


def test_a_machine_that_is_behind_decodes_less_often() -> None:
    ongoing = [span(200, 2800, ended=False)]
    assert plan_step(RULES, buffer_ms=2800, spans=ongoing, turn_open=True, decoded_ms=900,
                     step_ms=2000) == Step(Action.WAIT)
    assert plan_step(RULES, buffer_ms=3000, spans=[span(200, 3000, ended=False)],
                     turn_open=True, decoded_ms=900, step_ms=2000) == Step(Action.DECODE)


def test_finals_only_decodes_nothing_but_what_decides_the_turn_end() -> None:
    def finals_only(buffer_ms: int, spans: list[SpeechSpan]) -> Step:
        return plan_step(RULES, buffer_ms=buffer_ms, spans=spans, turn_open=True,
                         decoded_ms=None, partials=False)

    assert finals_only(3500, [span(200, 3500, ended=False)]) == Step(Action.WAIT)
    assert finals_only(3300, [span(200, 3000)]) == Step(Action.WAIT)  # a pause, not an end
    # A long turn's cut is tried at the same places as with partials (the finals must not
    # depend on the pace).
    assert finals_only(5000, [span(200, 5000, ended=False)]) == Step(Action.TRY_CUT, 4000)
    assert finals_only(2600, [span(200, 2000)]) == Step(Action.FINALISE, 2200)  # end of speech


# Buffers of speech with pauses, as the detector reports them, for the rules below.
SPEECH = [
    (900, [span(200, 900, ended=False)]),
    (2300, [span(200, 2000)]),
    (2600, [span(200, 2000)]),
    (3000, [span(200, 1500), span(2100, 3000, ended=False)]),
    (6400, [span(200, 4500), span(4800, 6400, ended=False)]),
    (5700, [span(200, 4500), span(4800, 5700, ended=False)]),
    (8000, [span(200, 4500), span(4800, 6000), span(6300, 8000, ended=False)]),
    (16_500, [span(200, 15_500), span(15_800, 16_500, ended=False)]),
    (20_100, [span(200, 20_100, ended=False)]),
    (1800, [span(700, 1800, ended=False)]),
]


@pytest.mark.parametrize(("buffer_ms", "spans"), SPEECH)
def test_where_a_turn_ends_depends_on_the_speech_alone(buffer_ms: int,
                                                       spans: list[SpeechSpan]) -> None:
    """Words on screen, how far the partial decodes got and the machine's pace (how often it
    can afford a partial decode) only schedule partial decodes: the discards, ends and cut
    tries, which decide what each final hears, are the same in every case (they were not:
    a turn with words shown kept its leading silence, and finals-only mode cut long turns
    wherever the buffer happened to end)."""
    structure = {Action.DISCARD, Action.FINALISE, Action.TRY_CUT}
    outcomes = set()
    for turn_open in (False, True):
        for decoded_ms in (None, 0, buffer_ms // 2, buffer_ms):
            for step_ms, partials in ((None, True), (2000, True), (4000, False)):
                step = plan_step(RULES, buffer_ms=buffer_ms, spans=spans, turn_open=turn_open,
                                 decoded_ms=decoded_ms, step_ms=step_ms, partials=partials)
                outcomes.add(step if step.action in structure else None)
    assert len(outcomes) == 1, outcomes


def test_a_long_turn_is_tried_for_a_cut_at_steady_places_on_its_own_clock() -> None:
    def at(buffer_ms: int, spans: list[SpeechSpan], tried_ms: int | None = None,
           ending: bool = False) -> Step:
        return plan_step(RULES, buffer_ms=buffer_ms, spans=spans, turn_open=True,
                         decoded_ms=buffer_ms, tried_ms=tried_ms, ending=ending)

    def speech(buffer_ms: int) -> list[SpeechSpan]:
        return [span(0, buffer_ms, ended=False)]

    # From sentence_turn_ms (4 s) into the turn on, every cut_step_ms (2 s): the place comes
    # when that much audio is in, whenever the engine looks (a busy machine looks late).
    assert at(3900, speech(3900)).action is Action.WAIT
    assert at(4000, speech(4000)) == Step(Action.TRY_CUT, 4000)
    assert at(7300, speech(7300)) == Step(Action.TRY_CUT, 4000)  # the first place first
    assert at(7300, speech(7300), tried_ms=4000) == Step(Action.TRY_CUT, 6000)
    assert at(7300, speech(7300), tried_ms=6000).action is Action.WAIT
    assert at(8000, speech(8000), tried_ms=6000) == Step(Action.TRY_CUT, 8000)
    # The end of the utterance comes first when it lies before the next place...
    ended = [span(0, 5000), span(5600, 6500, ended=False)]
    assert at(6500, ended, tried_ms=4000) == Step(Action.FINALISE, 5200)
    # ...and a place before it is tried first, however late the engine looks.
    assert at(6500, [span(0, 4500), span(5100, 6500, ended=False)]) == \
        Step(Action.TRY_CUT, 4000)
    # At the end of the stream, no place past the audio.
    assert at(5000, speech(5000), tried_ms=4000, ending=True).action is Action.WAIT
    # No cut found: past hard_max_turn_ms the turn ends there, mid-speech, with a lead.
    assert at(20_100, speech(20_100), tried_ms=20_000) == \
        Step(Action.FINALISE, 20_000, lead=True)


def test_an_utterance_ends_only_once_no_speech_can_begin_in_its_closing_silence() -> None:
    """Sound 480 ms after the last span, too short yet for a span of its own, may be the next
    words: a look now must not end the utterance where a look a moment later sees a pause
    (measured on real speech: the same audio gave different turns in 250 and 400 ms pieces)."""
    spans = [span(200, 2000)]
    assert plan_step(RULES, buffer_ms=2576, spans=spans, turn_open=True, decoded_ms=2200,
                     onset_ms=2480).action is Action.WAIT
    assert plan_step(RULES, buffer_ms=2576, spans=spans, turn_open=True, decoded_ms=2200,
                     onset_ms=2510) == Step(Action.FINALISE, 2200)  # past end_silence_ms
    assert plan_step(RULES, buffer_ms=2576, spans=spans, turn_open=True,
                     decoded_ms=2200) == Step(Action.FINALISE, 2200)


def test_a_long_turn_ends_at_a_sentence_end_then_a_clause_end_then_the_widest_gap() -> None:
    def cut(at_ms: int, text: str) -> int | None:  # the words just before at_ms
        return cut_in(RULES, at_ms, words(text, start=at_ms - 300 * len(text.split())))

    assert cut(4000, "it rained. we stayed in") == 2
    assert cut(4000, "one. two? three! four") == 3  # the last sentence end
    # A full stop on the decode's last word may only mean the audio stopped there.
    assert cut(4000, "we stayed in.") is None
    assert cut(4000, "Mr. Smith stayed in") is None  # a title, not a sentence end
    assert cut(8000, "we stayed in, and read") is None
    assert cut(10_100, "we stayed in, and read") == 3  # a clause end, past 10 s
    assert cut(10_100, "it rained. we stayed in, and read") == 2  # a sentence end first
    said = [*words("no end", start=8000), *words("yet at all", start=8900)]
    assert cut_in(RULES, 10_100, said) == 2  # the widest gap between two words
    assert cut(10_100, "word") is None
    assert cut(10_100, "") is None
    # Only ends in the last sentence_turn_ms of the decode: one the decodes before did not
    # write would end a turn long after its words.
    late = [*words("it rained.", start=1000), *words("we stayed in and read", start=7000)]
    assert cut_in(RULES, 9000, late, start_ms=0) is None
    assert cut_in(RULES, 9000, late, start_ms=-1000) is None
    assert cut_in(RULES, 9000, late, start_ms=-4000) == 2  # the turn began earlier: recent
    assert cut_in(RULES, 12_000, late, start_ms=0) == len(late) - 1  # the widest recent gap


def test_later_decodes_follow_the_step() -> None:
    ongoing = [span(200, 2500, ended=False)]
    assert plan(2500, ongoing, turn_open=True, decoded_ms=1600) == Step(Action.WAIT)
    assert plan(2600, [span(200, 2600, ended=False)], turn_open=True,
                decoded_ms=1600) == Step(Action.DECODE)
    # Not just before a place a cut is tried at: that decode is the partial's too.
    assert plan(3800, [span(200, 3800, ended=False)], turn_open=True,
                decoded_ms=2600) == Step(Action.WAIT)
    assert plan(3700, [span(200, 3700, ended=False)], turn_open=True,
                decoded_ms=2600) == Step(Action.DECODE)
    assert plan(4000, [span(200, 4000, ended=False)], turn_open=True,
                decoded_ms=2600) == Step(Action.TRY_CUT, 4000)


def test_a_pause_triggers_the_decode_that_can_become_the_final_one() -> None:
    # Up to the end of speech plus the pad: the audio the final hears if the pause grows
    # into the end of the utterance.
    paused = [span(200, 2000)]
    assert plan(2300, paused, turn_open=True, decoded_ms=1900) == \
        Step(Action.DECODE, until_ms=2200)
    assert plan(2400, paused, turn_open=True, decoded_ms=2300) == Step(Action.WAIT)


def test_end_of_speech_finalises_after_the_pad() -> None:
    assert plan(2500, [span(200, 2000)], turn_open=True, decoded_ms=2300) == \
        Step(Action.FINALISE, 2200)
    # Two utterances in the buffer (a slow decode let audio pile up): the first ends first.
    two = [span(200, 1500), span(2100, 3000, ended=False)]
    assert plan(3000, two, turn_open=True) == Step(Action.FINALISE, 1700)
    # A short pause inside one utterance does not end it.
    assert utterance_end(RULES, 3000, [span(200, 1500), span(1800, 3000, ended=False)]) is None


def test_rules_are_consistent() -> None:
    with pytest.raises(ValueError):
        TurnRules(pause_ms=600, end_silence_ms=500)
    with pytest.raises(ValueError):
        TurnRules(pad_ms=300, pause_ms=250)
    with pytest.raises(ValueError):
        TurnRules(clause_turn_ms=30_000)
    with pytest.raises(ValueError):
        TurnRules(sentence_turn_ms=12_000)  # after the clause ends
    with pytest.raises(ValueError):
        TurnRules(lead_ms=-1)
    with pytest.raises(ValueError):
        TurnRules(cut_step_ms=0)


def test_a_last_word_the_decoder_all_but_ruled_out_after_a_sentence_end_goes() -> None:
    said = words("is to be ill-disposed. Just.")
    made_up = [*said[:-1], TimedWord("Just.", 1500, 1600, 0.01)]
    assert texts(without_made_up_tail(made_up)) == "is to be ill-disposed."
    assert texts(without_made_up_tail(said)) == texts(said)  # a sure word stays
    # Not after a word that ends no sentence (it is the sentence's own last word).
    unsure = [*words("is to be"), TimedWord("ill-disposed.", 900, 1400, 0.01)]
    assert texts(without_made_up_tail(unsure)) == "is to be ill-disposed."
    assert without_made_up_tail([TimedWord("Just.", 0, 100, 0.01)]) == \
        [TimedWord("Just.", 0, 100, 0.01)]


# --- messages --------------------------------------------------------------------------------


def test_partial_turn_is_shaped_like_the_cloud_one() -> None:
    turn = partial_turn(3, words("the library"), words("opens early", start=600))
    assert (turn.turn_order, turn.end_of_turn, turn.turn_is_formatted) == (3, False, True)
    assert turn.transcript == "The library"  # committed words only
    assert turn.text == "The library opens early"
    assert [w.word_is_final for w in turn.words] == [True, True, False, False]
    assert [(w.start, w.end) for w in turn.words][:2] == [(0, 250), (300, 550)]


def test_final_turn_has_only_final_words() -> None:
    turn = final_turn(0, words("hello there."))
    assert turn.end_of_turn and turn.transcript == turn.utterance == "Hello there."
    assert all(w.word_is_final for w in turn.words)
    assert final_turn(1, []).transcript == ""
    # A turn that goes on a sentence cut at a clause end does not begin a sentence.
    assert final_turn(2, words("the letter came."), capitalise=False).transcript == \
        "the letter came."
    assert partial_turn(2, words("the"), words("letter"), capitalise=False).transcript == "the"


# --- what the model heard ------------------------------------------------------------------


@pytest.mark.parametrize(("no_speech", "logprob", "compression", "heard"), [
    (0.001, -0.07, 1.15, True),  # a clear sentence
    (0.02, -0.9, 1.3, True),  # hard to hear, but the model says it is speech
    (0.6, -0.2, 1.1, True),  # unsure about speech, sure about the words (Whisper keeps it)
    (0.525, -1.64, 0.11, False),  # " ." after the last word, measured
    (0.502, -1.21, 0.47, False),  # "for me." in the silence after a turn, measured
    (0.751, -0.94, 0.11, False),  # measured
    (0.05, -0.3, 2.6, False),  # "the the the the ...": a decoding loop
    (0.41, -0.71, 1.0, False),  # just past both bars
    (0.40, -0.71, 1.0, True),  # on the no-speech bar
])
def test_segments_the_model_did_not_hear_are_rejected(
        no_speech: float, logprob: float, compression: float, heard: bool) -> None:
    assert SpeechEvidence().heard(SegmentScores(no_speech, logprob, compression)) is heard


# --- joining the tokenizer's pieces --------------------------------------------------------


def pieces(*texts: str) -> list[TimedWord]:
    return [TimedWord(t, i * 100, i * 100 + 90, 0.9 - i / 100) for i, t in enumerate(texts)]


@pytest.mark.parametrize(("texts", "joined"), [
    ((" It", " was", " a", " cold", "-hearted", " thing."), "It was a cold-hearted thing."),
    ((" always", " been", " ill", "-disposed"), "always been ill-disposed"),
    ((" I", " don", "'t", " know"), "I don't know"),
    ((" I", " don't", " know"), "I don't know"),
    ((" about", " 3", ".5", " hours"), "about 3.5 hours"),
    ((" more", " than", " 200", ",000", " people"), "more than 200,000 people"),
    ((" up", "-to", "-date"), "up-to-date"),
    ((" lunch", " ."), "lunch."),  # a lone mark belongs to the word before
    ((" really", " ?"), "really?"),
    ((" today", ".", "."), "today."),  # a mark twice over is one
    ((" wait", "..."), "wait..."),
    (("-hearted", " thing"), "-hearted thing"),  # nothing before to join: kept
    ((" ", " hello", "  "), "hello"),  # spaces alone are no words
    (("Hello", " there"), "Hello there"),  # the first piece without a space starts a word
    ((" cost", " $", "18", " each"), "cost $18 each"),
    ((" cost", " $", " 18", " for"), "cost $18 for"),  # a lone sign opens its number
    ((" and", " $", " $", " 9", " for"), "and $9 for"),  # tiny.en's sign twice is one
    ((" and", " $", " $", " $", " 4", ".00"), "and $4.00"),
    ((" a", " $", " sign"), "a $ sign"),  # no number after it: a word of its own
    ((" £", " $", " 5"), "£ $5"),
    ((" cost", " $"), "cost $"),
])
def test_pieces_join_as_the_tokenizer_spaced_them(texts: tuple[str, ...], joined: str) -> None:
    assert " ".join(w.text for w in join_pieces(pieces(*texts))) == joined


def test_a_joined_word_spans_its_pieces_and_is_as_sure_as_its_least_sure_piece() -> None:
    (word,) = join_pieces([TimedWord(" cold", 100, 300, 0.9),
                           TimedWord("-hearted", 300, 700, 0.6)])
    assert word == TimedWord("cold-hearted", 100, 700, 0.6)
