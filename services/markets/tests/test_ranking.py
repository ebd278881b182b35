"""Calls: the committee's weighted scores, deterministic ties, preferences and the food-service cap while awarding."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

import pytest
from markets.calls.domain import (
    Application,
    Call,
    CallStatus,
    Criterion,
    Evaluation,
    Outcome,
    Ranking,
    latest_evaluations,
    rank_applications,
    score,
    unscored,
)
from markets.calls.store import _ranking as stored_ranking
from markets.concessions.domain import Concession
from markets.stalls.domain import Stall, StallCategory, StallStatus

from shared.errors import Conflict, Forbidden, InvalidInput

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
DEADLINE = T0 + timedelta(days=10)
CRITERIA = (
    Criterion("offer", weight=40, max_points=100),
    Criterion("social_value", weight=30, max_points=10),
    Criterion("innovation", weight=20, max_points=10),
    Criterion("experience", weight=10, max_points=40),
)
FOOD, FOOD_SERVICE = StallCategory.FOOD, StallCategory.FOOD_SERVICE


def market(*, food_service_m2: float = 0) -> list[Stall]:
    """A 100 m² market: stalls 1-3 free (10, 12 and 8 m²), the other 70 m² assigned."""
    free = [Stall("wagner", n, a, FOOD, StallStatus.VACANT, 1, T0) for n, a in (("1", 10), ("2", 12), ("3", 8))]
    held = Concession("Bar Sala", date(2020, 1, 1), date(2040, 1, 1))
    assigned = [Stall("wagner", "9", 70 - food_service_m2, FOOD, StallStatus.OPEN, 2, T0, held)]
    if food_service_m2:
        assigned.append(Stall("wagner", "10", food_service_m2, FOOD_SERVICE, StallStatus.OPEN, 2, T0, held))
    return free + assigned


def call(stalls: tuple[str, ...] = ("1", "2", "3"), categories: tuple[StallCategory, ...] = ()) -> Call:
    return Call("c1", "wagner", "Bando", "", stalls, CRITERIA, categories, DEADLINE, 20, T0)


REASONS = {"offer": "offerta", "social_value": "valore sociale", "innovation": "novità", "experience": "anni"}


@dataclass(frozen=True)
class Scored:
    """An application and the committee's evaluation of it."""

    application: Application
    evaluation: Evaluation

    @property
    def scores(self) -> Mapping[str, float]:
        return self.evaluation.scores


def app(
    who: str,
    offer: float,
    social: float = 5,
    *,
    minute: int = 0,
    category: StallCategory = FOOD,
    prefs: tuple[str, ...] = (),
) -> Scored:
    scores = {"offer": offer, "social_value": social, "innovation": 5, "experience": 20}
    application = Application(f"c1-{who}", "c1", who, f"{who} srl", category, prefs, T0 + timedelta(minutes=minute))
    return Scored(application, evaluation(application, scores))


def evaluation(
    application: Application, scores: Mapping[str, float], *, revision: int = 1, evaluator: str = "commissione"
) -> Evaluation:
    reasons = {name: REASONS.get(name, "motivo") for name in scores}
    return Evaluation(application.id, application.call_id, revision, scores, reasons, evaluator, DEADLINE)


def rank_applications_of(c: Call, scored: Sequence[Scored], stalls: Sequence[Stall]) -> Ranking:
    latest = latest_evaluations(s.evaluation for s in scored)
    return rank_applications(c, [s.application for s in scored], latest, stalls)


def test_score_is_the_weighted_mean_scaled_to_100_with_its_breakdown() -> None:
    total, lines = score(CRITERIA, {"offer": 80, "social_value": 10, "innovation": 0, "experience": 20})
    assert total == 32 + 30 + 0 + 5
    assert [(line.criterion, line.points) for line in lines] == [
        ("offer", 32),
        ("social_value", 30),
        ("innovation", 0),
        ("experience", 5),
    ]


def test_ranking_orders_by_score_and_breaks_ties_by_time_then_name() -> None:
    applications = [
        app("carla", 60, minute=5),
        app("bruno", 60, minute=1),
        app("anna", 60, minute=5),
        app("dario", 90, minute=9),
    ]
    ranking = rank_applications_of(call(), applications, market())
    assert [(e.rank, e.applicant, e.stall) for e in ranking.entries] == [
        (1, "dario", "1"),
        (2, "bruno", "2"),
        (3, "anna", "3"),
        (4, "carla", None),
    ]
    assert ranking.entries[3].outcome is Outcome.SKIPPED
    assert "already went to a higher-ranked application" in ranking.entries[3].reason.en
    assert "già andati a domande meglio classificate" in ranking.entries[3].reason.it
    again = rank_applications_of(call(), list(reversed(applications)), market())
    assert again == ranking, "the same applications in any order give the same ranking"


def test_preferences_are_taken_in_order_while_free() -> None:
    ranking = rank_applications_of(
        call(),
        [app("anna", 90, prefs=("2", "1")), app("bruno", 80, prefs=("2",)), app("carla", 70, prefs=("2", "3"))],
        market(),
    )
    outcome = {e.applicant: (e.stall, e.reason.en) for e in ranking.entries}
    assert outcome["anna"] == ("2", "ranked 1st with 66 points; gets stall 2 (preference 1)")
    assert ranking.entries[0].reason.it == "1ª in graduatoria con 66 punti; ottiene il posteggio 2 (preferenza 1)"
    assert outcome["bruno"][0] is None and "none of its preferred stalls (2)" in outcome["bruno"][1]
    assert outcome["carla"][0] == "3"


def test_food_service_over_the_cap_is_skipped_and_the_next_application_is_taken() -> None:
    # 100 m² market with 10 m² of food service: 10 m² more fit, 12 do not.
    stalls = market(food_service_m2=10)
    ranking = rank_applications_of(
        call(("2", "1")),
        [
            app("bistrot", 95, category=FOOD_SERVICE, prefs=("2",)),
            app("enoteca", 90, category=FOOD_SERVICE),
            app("pizza", 85, category=FOOD_SERVICE),
            app("panetteria", 80),
        ],
        stalls,
    )
    result = {e.applicant: (e.outcome, e.stall) for e in ranking.entries}
    assert result == {
        "bistrot": (Outcome.SKIPPED, None),
        "enoteca": (Outcome.AWARDED, "1"),
        "pizza": (Outcome.SKIPPED, None),
        "panetteria": (Outcome.AWARDED, "2"),
    }
    bistrot = ranking.entries[0]
    assert "food-service surface would be 22.0 m², over the cap of 20.0 m²" in bistrot.reason.en
    assert "somministrazione sarebbe di 22,0 m², oltre il limite di 20,0 m²" in bistrot.reason.it
    assert "over the cap" in ranking.entries[2].reason.en
    assert (ranking.surface_before.food_service_m2, ranking.surface_after.food_service_m2) == (10, 20)


def test_stalls_assigned_meanwhile_are_reported_unavailable() -> None:
    stalls = market()
    stalls[0] = stalls[0].assign(Concession("Diretto", date(2026, 1, 1), date(2046, 1, 1)), FOOD, T0)
    ranking = rank_applications_of(call(), [app("anna", 90, prefs=("1",))], stalls)
    assert ranking.unavailable_stalls == ("1",)
    assert ranking.entries[0].outcome is Outcome.SKIPPED


def test_applications_must_match_the_published_call() -> None:
    c = call(categories=(FOOD, StallCategory.CRAFT))
    c.check_application(app("anna", 50).application, T0)
    cases = [
        (app("x", 50, category=FOOD_SERVICE).application, "body.category"),
        (app("x", 50, prefs=("7",)).application, "body.stalls"),
    ]
    for application, field in cases:
        with pytest.raises(InvalidInput) as error:
            c.check_application(application, T0)
        assert error.value.extra["errors"][0]["field"] == field
    with pytest.raises(Conflict) as closed:
        c.check_application(app("late", 50).application, DEADLINE)
    assert "applications closed" in closed.value.detail_in("en")
    assert "le domande si sono chiuse" in closed.value.detail_in("it")


def test_the_committee_scores_every_criterion_within_its_maximum_with_a_reason() -> None:
    c = call()
    anna = app("anna", 50).application
    c.check_evaluation(anna, evaluation(anna, app("anna", 50).scores))
    cases = [
        (evaluation(anna, app("x", 101).scores), "body.scores.offer"),
        (evaluation(anna, {"offer": 1}), "body.scores.social_value"),
        (evaluation(anna, {**app("y", 1).scores, "charm": 1}), "body.scores.charm"),
        (
            replace(evaluation(anna, app("y", 1).scores), reasons={**REASONS, "innovation": " "}),
            "body.reasons.innovation",
        ),
    ]
    for given, field in cases:
        with pytest.raises(InvalidInput) as error:
            c.check_evaluation(anna, given)
        assert error.value.extra["errors"][0]["field"] == field
    elsewhere = replace(anna, call_id="c2")
    with pytest.raises(InvalidInput) as error:
        c.check_evaluation(elsewhere, evaluation(elsewhere, app("y", 1).scores))
    assert error.value.extra["errors"][0]["field"] == "body.application"
    with pytest.raises(Forbidden) as refused:
        c.check_evaluation(anna, evaluation(anna, app("y", 1).scores, evaluator="anna"))
    assert refused.value.detail_in("en") == "the account that applied cannot evaluate its own application"
    assert refused.value.detail_in("it") == "chi ha presentato la domanda non può valutarla"
    with pytest.raises(Conflict, match="aggiudicato"):
        replace(c, awarded_at=DEADLINE).check_evaluation(anna, evaluation(anna, app("y", 1).scores))


def test_the_latest_evaluation_counts_and_unscored_applications_block_the_award() -> None:
    anna, bruno = app("anna", 90, minute=1), app("bruno", 60, minute=2)
    second = evaluation(anna.application, {**anna.scores, "offer": 10}, revision=2)
    latest = latest_evaluations([second, anna.evaluation, bruno.evaluation])
    assert latest[anna.application.id] is second
    ranking = rank_applications(call(), [anna.application, bruno.application], latest, market())
    assert [e.applicant for e in ranking.entries] == ["bruno", "anna"]
    assert ranking.entries[1].breakdown[0].reason == "offerta"
    carla = app("carla", 99, minute=3).application
    only_some = latest_evaluations([anna.evaluation])
    assert unscored([anna.application, bruno.application, carla], only_some) == ("c1-bruno", "c1-carla")
    partial = rank_applications(call(), [anna.application, carla], only_some, market())
    assert [e.application for e in partial.entries] == ["c1-anna"]
    with pytest.raises(Conflict) as refused:
        call().check_awardable(DEADLINE, ("c1-bruno", "c1-carla"))
    assert refused.value.extra["unscored"] == ["c1-bruno", "c1-carla"]
    assert "c1-bruno, c1-carla" in refused.value.detail_in("en")


def test_a_call_is_awarded_once_and_only_after_its_deadline() -> None:
    c = call()
    assert c.status(T0) is CallStatus.OPEN and c.status(DEADLINE) is CallStatus.CLOSED
    with pytest.raises(Conflict, match="si aggiudica dopo la scadenza"):
        c.check_awardable(T0)
    c.check_awardable(DEADLINE)
    awarded = replace(c, awarded_at=DEADLINE)
    assert awarded.status(DEADLINE) is CallStatus.AWARDED
    with pytest.raises(Conflict) as refused:
        awarded.check_awardable(DEADLINE + timedelta(days=1))
    assert refused.value.detail_in("en") == "the call has already been awarded"
    assert refused.value.detail_in("it") == "il bando è già stato aggiudicato"


def test_a_ranking_stored_in_the_earlier_public_shape_is_read_back() -> None:
    # calls awarded before the service had subdomains stored the ranking as the API returned it
    stored = {
        "call_id": "wagner-1a2b3c4d",
        "market_id": "wagner",
        "status": "awarded",
        "provisional": False,
        "tie_break": "higher score first; …",
        "unavailable_stalls": ["3"],
        "surface_before": {"total_m2": 100.0, "food_service_m2": 10.0, "food_service_cap_m2": 20.0},
        "surface_after": {"total_m2": 100.0, "food_service_m2": 20.0, "food_service_cap_m2": 20.0},
        "items": [
            {
                "rank": 1,
                "applicant": "enoteca",
                "holder": "Enoteca Monti",
                "category": "food_service",
                "score": 66.0,
                "breakdown": [
                    {"criterion": "offer", "value": 90.0, "max_points": 100.0, "weight": 40.0, "points": 36.0}
                ],
                "outcome": "awarded",
                "stall": "1",
                "reason": "ranked 1st with 66 points; gets stall 1",
            }
        ],
    }
    ranking = stored_ranking(stored)
    assert ranking.unavailable_stalls == ("3",)
    assert (ranking.surface_after.food_service_m2, ranking.surface_after.food_service_cap_m2) == (20, 20)
    entry = ranking.entries[0]
    assert (entry.applicant, entry.category, entry.outcome, entry.stall, entry.breakdown[0].points) == (
        "enoteca",
        FOOD_SERVICE,
        Outcome.AWARDED,
        "1",
        36,
    )
    assert entry.reason.en == entry.reason.it == "ranked 1st with 66 points; gets stall 1", "the one text it had"
