"""Reviews: a person checks the tips before the robot moves (human in the loop).

A review accepts or rejects each predicted tip, moves a tip to where it
belongs, or adds one the model missed. It is stored as a new
:class:`~portal.predictions.models.Review` beside the prediction, never
over it, and each checked tip becomes a :class:`~portal.predictions.models.TipLabel`
for retraining and for measuring live accuracy. Exports and robot adapters
use the latest review's targets (:func:`reviewed_contract`).

Two people reviewing one plate: each save names the review it started from
(``base``); a save that started from an older one is refused (409) with who
saved in between, so nothing is silently lost.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction

from portal.common.errors import Conflict, PortalError
from portal.predictions.models import Prediction, Review, TipLabel, Verdict

if TYPE_CHECKING:
    from portal.accounts.models import User

__all__ = ["latest_review", "reviewed_contract", "save_review"]

#: Why a rejected tip has none, as exports say it.
REJECTED_REASON = "tip rejected by a reviewer"


def latest_review(prediction: Prediction) -> Review | None:
    """The review that holds now, if any."""
    return prediction.reviews.select_related("reviewed_by").order_by("-number").first()


def _inside_dish(prediction: Prediction, x: float, y: float) -> bool:
    box = (prediction.contract.get("dish") or {}).get("bbox")
    if not box:
        return 0 <= x < prediction.width and 0 <= y < prediction.height
    x0, y0, x1, y1 = box
    return bool(x0 <= x <= x1 and y0 <= y <= y1)


def _checked(prediction: Prediction, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The review's entries, each checked; every problem is named at once."""
    predicted = {p["plant"]: p for p in prediction.contract.get("plants") or []}
    problems: list[str] = []
    out: list[dict[str, Any]] = []
    seen: set[int] = set()
    for entry in entries:
        plant, verdict, tip = entry.get("plant"), entry.get("verdict"), entry.get("tip")
        if not isinstance(plant, int) or plant < 1:
            problems.append(f"{entry!r}: plant must be a number from 1")
            continue
        if plant in seen:
            problems.append(f"plant {plant}: reviewed twice")
        seen.add(plant)
        if verdict not in Verdict.values:
            problems.append(f"plant {plant}: verdict must be one of {', '.join(Verdict.values)}")
            continue
        if verdict == Verdict.ADDED and plant in predicted:
            problems.append(f"plant {plant}: exists; give an added plant a new number")
        if verdict != Verdict.ADDED and plant not in predicted:
            problems.append(f"plant {plant}: not in the prediction; add it with verdict added")
        point: dict[str, float] | None = None
        if verdict in (Verdict.MOVED, Verdict.ADDED):
            try:
                point = {"x": float(tip["x"]), "y": float(tip["y"])}  # type: ignore[index]
            except (TypeError, KeyError, ValueError):  # no tip, or not numbers
                problems.append(f"plant {plant}: a {verdict} tip needs x and y in pixels")
                continue
            if not _inside_dish(prediction, point["x"], point["y"]):
                problems.append(
                    f"plant {plant}: the tip at ({point['x']:.0f}, {point['y']:.0f}) is outside "
                    "the dish; put it on the root's end inside the dish"
                )
        elif verdict == Verdict.ACCEPTED:
            found = predicted.get(plant, {}).get("tip")
            if found is None:
                problems.append(f"plant {plant}: has no predicted tip to accept; add or move one")
            else:
                point = {"x": float(found["x"]), "y": float(found["y"])}
        out.append({"plant": plant, "verdict": verdict, "tip": point})
    if problems:
        raise PortalError("the review was not saved: " + "; ".join(problems), problems=problems)
    return sorted(out, key=lambda e: e["plant"])


def save_review(
    *, prediction: Prediction, entries: list[dict[str, Any]], base: int, user: User | None
) -> Review:
    """Save a review that started from review number ``base`` (0: none yet).

    Raises:
        PortalError: a bad entry (all named), or a tip outside the dish.
        Conflict: another review was saved since ``base``; reload and review again.
    """
    checked = _checked(prediction, entries)
    predicted = {p["plant"]: p for p in prediction.contract.get("plants") or []}
    try:
        with transaction.atomic():
            Prediction.objects.select_for_update().filter(pk=prediction.pk).first()
            current = latest_review(prediction)
            number = current.number if current is not None else 0
            if number != base:
                who = current.reviewed_by if current is not None else None
                raise Conflict(
                    f"{who or 'someone'} saved review {number} of this plate after you opened "
                    f"it (you started from {base or 'no review'}); reload the page to see it, "
                    "then review again"
                )
            review = Review.objects.create(
                prediction=prediction, number=number + 1, plants=checked, reviewed_by=user
            )
            TipLabel.objects.bulk_create([_label(review, e, predicted) for e in checked])
    except IntegrityError as exc:  # two saves of the same number raced past the lock
        raise Conflict("another review of this plate was saved at the same moment; reload the "
                       "page and review again") from exc  # fmt: skip
    from portal.jobs.retraining import on_review

    transaction.on_commit(on_review)
    return review


def _label(review: Review, entry: dict[str, Any], predicted: dict[int, Any]) -> TipLabel:
    model_tip = (predicted.get(entry["plant"]) or {}).get("tip") or {}
    tip = entry["tip"] or {}
    return TipLabel(
        review=review, prediction=review.prediction, plant=entry["plant"],
        verdict=entry["verdict"], x=tip.get("x"), y=tip.get("y"),
        predicted_x=model_tip.get("x"), predicted_y=model_tip.get("y"),
        predicted_confidence=model_tip.get("confidence"),
    )  # fmt: skip


def reviewed_contract(prediction: Prediction) -> dict[str, Any]:
    """The contract with the latest review's targets (the prediction's own when unreviewed).

    A reviewed tip has confidence 1.0 (a person placed or confirmed it); a
    rejected one is removed with the reason; plants a reviewer added join the
    list. Robot coordinates of changed tips are dropped: an export with a
    calibration maps them again.
    """
    contract = copy.deepcopy(prediction.contract)
    review = latest_review(prediction)
    if review is None:
        return contract
    plants = {p["plant"]: p for p in contract.get("plants") or []}
    for entry in review.plants:
        plant = plants.get(entry["plant"])
        if entry["verdict"] == Verdict.ADDED or plant is None:
            plant = {"plant": entry["plant"], "tip": None, "start": None,
                     "primary_root_length_px": None, "primary_root_length_mm": None,
                     "robot": None}  # fmt: skip
            plants[entry["plant"]] = plant
        if entry["verdict"] == Verdict.REJECTED:
            plant["tip"], plant["robot"], plant["reason"] = None, None, REJECTED_REASON
        elif entry["tip"] is not None:
            moved = entry["verdict"] != Verdict.ACCEPTED
            plant["tip"] = {"x": entry["tip"]["x"], "y": entry["tip"]["y"], "confidence": 1.0}
            if moved:
                plant["robot"] = None
            plant.pop("reason", None)
    contract["plants"] = [plants[n] for n in sorted(plants)]
    contract["review"] = {"number": review.number, "by": str(review.reviewed_by or ""),
                          "at": review.created_at.isoformat()}  # fmt: skip
    return contract
